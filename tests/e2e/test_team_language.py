"""`/mkt language`: the team's post language, per workspace and per channel."""

from __future__ import annotations

import time
from datetime import date

from bot.i18n import EN, ZH_CN
from bot.ids import ActionId, BlockId, record_block
from bot.posts.reminder import REMINDER
from bot.services import languages, tasks
from tests.support.harness import ANA, GENERAL, LILEI, MARKETING, NOW, Bot, wait_until
from tests.support.language import not_chinese, not_english


def test_the_team_language_is_set_per_workspace_and_per_channel(bot: Bot) -> None:
    said = bot.say(ANA, "/mkt language zh-CN")
    assert "Chinese" in said, said
    said = bot.say(ANA, f"/mkt language <#{MARKETING}|marketing> en")
    assert "English" in said, said
    with bot.db.session(write=False) as s:
        assert languages.team_language(s, workspace_id=bot.team_id, channel="C0OTHER") == ZH_CN
        assert languages.team_language(s, workspace_id=bot.team_id, channel=MARKETING) == EN
    listed = bot.say(ANA, "/mkt language")
    assert "Chinese" in listed and f"<#{MARKETING}>" in listed, listed
    bot.say(ANA, "/mkt language auto")
    with bot.db.session(write=False) as s:
        assert languages.team_language(s, workspace_id=bot.team_id, channel="C0OTHER") == EN  # no Slack locale known


def test_an_unknown_language_is_refused_and_nothing_is_written(bot: Bot) -> None:
    said = bot.say(ANA, "/mkt language klingon")
    assert "klingon" in said and "zh-CN" in said, said
    assert bot.rows("SELECT count(*) FROM post_languages WHERE workspace_id = :t", t=bot.team_id) == [(0,)]


# ---- posts in the team language, and kept in it after a click -----------------------------------------------

TYPED = ["海报终稿", "Q4 GMV", "双十二", "gmv", "Banner", "KOL brief"]


def test_goal_and_campaign_announcements_speak_the_channels_language(bot: Bot) -> None:
    bot.say(ANA, "/mkt language zh-CN")  # Ana's Slack is English; the channel reads Chinese
    goal = bot.reply_to(ANA, '/goal add "Q4 GMV" metric:gmv target:¥2.5m by:2026-12-31')
    campaign = bot.reply_to(ANA, "/campaign add 双十二 start:12-01 end:12-12")
    for card in (goal, campaign):
        assert not card.is_ephemeral and not not_chinese(card.all_text(), TYPED), card.all_text()
    assert "250万" in goal.all_text()
    bot.say(ANA, "/mkt language en")
    english = bot.reply_to(LILEI, '/goal add "双十二 GMV" metric:gmv target:¥1m by:2026-12-31')  # 李雷 reads Chinese
    assert not not_english(english.all_text(), [*TYPED, "双十二 GMV"]), english.all_text()


def test_a_chinese_reminder_snoozed_stays_chinese(bot: Bot) -> None:
    bot.reply_to(ANA, f"/task add 海报终稿 <@{LILEI}> due:2026-11-24")
    with bot.db.session(write=False) as s:
        task = tasks.get_task(s, workspace_id=bot.team_id, number=1)
        draft = REMINDER.compose(task, due="due", today=NOW.date(), locale=ZH_CN)
    dm = bot.slack.im_channel(LILEI)
    posted = bot.app.client.chat_postMessage(channel=dm, text=draft.text, blocks=draft.blocks)
    message = bot.slack.get_message(dm, posted["ts"])
    assert message is not None and not not_chinese(message.all_text(), TYPED)
    bot.click(message, ActionId.TASK_SNOOZE, LILEI)
    wait_until(lambda: len(message.history) >= 1, what="the reminder redrawn")
    assert bot.rows("SELECT due_on FROM tasks WHERE workspace_id = :t", t=bot.team_id)[0][0] in ("2026-11-25", date(2026, 11, 25))
    text = message.all_text()
    assert "延后" in text and not not_chinese(text, TYPED), text


def test_a_chinese_digest_clicked_by_an_english_reader_stays_chinese(bot: Bot) -> None:
    bot.say(ANA, "/mkt language zh-CN")
    bot.reply_to(ANA, "/task add KOL brief @bo due:2026-11-20")
    bot.reply_to(ANA, "/mkt digest now")
    digest = bot.slack.wait_for_message(GENERAL, include_ephemeral=False,
                                        where=lambda m: m.source == "chat.postMessage" and m.text.startswith("每日摘要"))
    assert not not_chinese(digest.all_text(), TYPED), digest.all_text()
    bot.slack.click_button(digest, ActionId.TASK_DONE, user_id=ANA, block_id=record_block(BlockId.TASK_ACTIONS, "T-1"))
    wait_until(lambda: len(digest.history) >= 1, what="the digest redrawn")
    text = digest.all_text()
    assert ":white_check_mark: *T-1*" in text and "标记为完成" in text and "11月20日到期" in text, text
    assert not not_chinese(text, TYPED), text


def _workspace_locale(bot: Bot) -> str | None:
    rows = bot.rows("SELECT locale FROM workspaces WHERE id = :team")
    return rows[0][0] if rows else None


def test_auto_is_the_workspaces_slack_language_from_team_info(bot: Bot) -> None:
    """A workspace whose Slack is in Chinese gets Chinese posts with nothing set, and someone whose own language
    the bot has not looked up yet is answered in Chinese too."""
    bot.slack.team_locale = "zh-CN"
    bot.reply_to(ANA, "/task add KOL brief @bo due:2026-11-20")  # the first command: team.info after its ack
    bot.slack.wait_for("team.info")
    wait_until(lambda: _workspace_locale(bot) == "zh-CN", what="the workspace's locale stored")
    # 韩梅梅 has never typed anything: her own language is not looked up yet, so she is answered in the workspace's
    bot.slack.add_user("U0MEI", "meimei", real_name="韩梅梅", tz="Asia/Shanghai", locale="zh-TW")
    said = bot.say("U0MEI", "/task list")
    assert "任务" in said and not not_chinese(str(said), TYPED), said
    bot.reply_to(ANA, "/mkt digest now")
    digest = bot.slack.wait_for_message(GENERAL, include_ephemeral=False,
                                        where=lambda m: m.source == "chat.postMessage")
    assert digest.text.startswith("每日摘要"), digest.text
    # Ana's own Slack is English: her replies stay English
    said = bot.say(ANA, "/task list")
    assert "KOL brief" in said and not not_english(str(said), TYPED), said
    with bot.db.session(write=False) as s:
        assert languages.team_language(s, workspace_id=bot.team_id, channel=GENERAL) == ZH_CN
    assert len(bot.slack.get_calls("team.info")) == 1, "asked once per process, not per command"


def test_a_failed_team_info_keeps_english_and_is_asked_again_later(bot: Bot) -> None:
    bot.slack.team_locale = "zh-CN"
    bot.slack.add_response("team.info", status=500)
    said = bot.say(ANA, "/task add Banner due:2026-11-30")
    assert "T-1 added" in said, said
    bot.slack.wait_for("team.info")
    time.sleep(0.2)
    assert _workspace_locale(bot) is None
    with bot.db.session(write=False) as s:
        assert languages.team_language(s, workspace_id=bot.team_id, channel=GENERAL) == EN


def test_someone_not_looked_up_yet_is_answered_in_the_channels_team_language(bot: Bot) -> None:
    bot.say(ANA, f"/mkt language <#{MARKETING}|marketing> zh-CN")
    bot.slack.add_user("U0MEI", "meimei", real_name="韩梅梅", tz="Asia/Shanghai", locale="zh-CN")
    said = bot.say("U0MEI", "/task list", channel=MARKETING)  # her first command: her own language is not known
    assert "任务" in said and not not_chinese(str(said), TYPED), said
    bot.slack.add_user("U0SAM", "sam", real_name="Sam", tz="Europe/London", locale="en-GB")
    said = bot.say("U0SAM", "/task list", channel=GENERAL)  # the workspace's language elsewhere
    assert not not_english(str(said), TYPED), said
