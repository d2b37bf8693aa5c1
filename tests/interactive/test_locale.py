"""English and Simplified Chinese, chosen by the user's Slack locale (users.info include_locale, cached), else the
workspace's. The ack path only reads the cache; a lazy listener warms it."""

from __future__ import annotations

import string
from datetime import date
from decimal import Decimal

import pytest

from bot import i18n
from bot.i18n import EN, ZH_CN, normalize, t, tn
from bot.i18n.fmt import fmt_date, fmt_number
from bot.ids import ActionId, BlockId, record_block
from bot.locale import Locales
from storage.models import Workspace
from tests.support.harness import ANA, LILEI, Bot, block, fill, wait_until
from tests.support.text import texts

# ---- the catalogs ---------------------------------------------------------------------------------


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_catalogs_have_the_same_keys_and_placeholders() -> None:
    en, zh = i18n.catalog(EN), i18n.catalog(ZH_CN)
    plural_one = {k for k in en if k.endswith(".one")}  # Chinese has no singular form
    assert set(en) - plural_one == set(zh), "every English key is translated, and nothing else"
    for key, text in zh.items():
        if key == "error.number":  # English quotes the parser's own message, Chinese explains the formats
            continue
        assert placeholders(text) == placeholders(en[key]), key


def test_limited_strings_fit_in_both_languages() -> None:
    for locale in (EN, ZH_CN):
        catalog = i18n.catalog(locale)
        for key, text in catalog.items():
            if key.startswith("button."):
                assert len(text) <= 75, (locale, key)
            if key in ("modal.cancel",) or (key.startswith("modal.") and key.endswith((".title", ".submit"))):
                assert len(text.format(ref="T-1234567")) <= 24, (locale, key, text)


def test_t_falls_back_to_english_and_formats() -> None:
    assert t("task.added_plain", ZH_CN, n=3, title="海报") == "已添加任务T-3：海报"
    assert t("task.added_plain", "fr", n=3, title="x") == "Task T-3 added: x"
    assert tn("task.count", 1, EN) == "1 task" and tn("task.count", 2, EN) == "2 tasks"
    assert tn("task.count", 1, ZH_CN) == "1个任务"
    with pytest.raises(KeyError):
        t("no.such.key", EN)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("zh-CN", ZH_CN), ("zh_CN", ZH_CN), ("zh-Hans", ZH_CN), ("en-US", EN), ("en-GB", EN), ("ja-JP", None), ("", None)],
)
def test_slack_locale_tags(tag: str, expected: str | None) -> None:
    assert normalize(tag) == expected


def test_dates_and_numbers_per_locale() -> None:
    today = date(2026, 11, 23)
    assert fmt_date(date(2026, 11, 24), today, ZH_CN) == "明天"
    assert fmt_date(date(2026, 11, 26), today, ZH_CN) == "周四 11月26日"
    assert fmt_date(date(2026, 12, 31), today, ZH_CN) == "12月31日"
    assert fmt_date(date(2027, 1, 5), today, ZH_CN) == "2027年1月5日"
    assert fmt_date(date(2026, 11, 26), today, EN) == "Thu Nov 26"
    assert fmt_number(Decimal(2_500_000), "¥", ZH_CN) == "¥250万"
    assert fmt_number(Decimal(250_000_000), None, ZH_CN) == "2.5亿"
    assert fmt_number(Decimal(12_500), "¥", ZH_CN) == "¥12,500"
    assert fmt_number(Decimal(2_500_000), "¥", EN) == "¥2,500,000"


def test_locale_cache_ttl_and_workspace_default(sqlite_db: object) -> None:
    from storage.db import Database

    assert isinstance(sqlite_db, Database)
    now = [0.0]
    locales = Locales(ttl=60, clock=lambda: now[0])
    assert locales.for_user(sqlite_db, "TW", "U1") == EN
    with sqlite_db.session() as session:
        session.add(Workspace(id="TW", locale="zh-CN"))
    locales._workspaces.clear()
    assert locales.for_user(sqlite_db, "TW", "U1") == ZH_CN, "the workspace default"
    assert locales.for_user(sqlite_db, "TW", "U1", "C1") == ZH_CN, "a channel with no setting of its own"
    locales.remember("TW", "U1", EN)
    assert locales.for_user(sqlite_db, "TW", "U1") == EN, "the user's own locale wins"
    now[0] = 61
    assert locales.cached("TW", "U1") is None, "expired"


# ---- end to end ---------------------------------------------------------------------------------


def warmed(bot: Bot, user: str) -> None:
    """The user's first command answers in the default and warms the cache (users.info with include_locale)."""
    bot.slack.wait_for("users.info", where=lambda a: a.get("user") == user and str(a.get("include_locale")).lower() in ("true", "1"))
    locales: Locales = bot.app.locales
    wait_until(lambda: locales.is_cached(bot.team_id, user), what="the locale cached")


def test_first_reply_is_english_then_chinese_for_a_zh_cn_user(bot: Bot) -> None:
    first = bot.reply_to(LILEI, "/task add 海报 设计 due:明天")
    assert "Task *T-1* added" in first.all_text(), "no users.info on the ack path: the first reply is in the default"
    warmed(bot, LILEI)
    card = bot.reply_to(LILEI, "/task add 直播 脚本")
    assert "已添加任务 *T-2*" in card.all_text()
    buttons = block(card.blocks, record_block(BlockId.TASK_ACTIONS, "T-2"))
    assert buttons and [e["text"]["text"] for e in buttons["elements"]] == ["开始", "完成", "受阻…", "延后一天"]

    bot.click(card, ActionId.TASK_DONE, LILEI)
    wait_until(lambda: card.history, what="the card updated")
    assert f"<@{LILEI}> 已将T-2标记为完成" in card.all_text()

    help_text = bot.reply_to(LILEI, "/mkt help").all_text()
    assert "营销闭环" in help_text and "/task" in help_text

    english = bot.reply_to(ANA, "/task list")
    assert "Tasks" in english.all_text() and "任务" not in english.all_text()


def test_modals_and_home_in_chinese(bot: Bot) -> None:
    bot.reply_to(LILEI, "/kpi list")
    warmed(bot, LILEI)
    view = bot.open_modal(LILEI, "/task")
    assert view["title"]["text"] == "新任务" and view["submit"]["text"] == "添加任务" and view["close"]["text"] == "取消"
    labels = texts(view["blocks"])
    assert "负责人" in labels and "截止日期" in labels
    result = bot.submit(view, LILEI, fill(title="x", start="2026-11-27", due="2026-11-24"))
    assert "早于开始日期" in result.body["errors"][BlockId.DUE]
    bot.submit(view, LILEI, fill(title="海报", owner=LILEI, due="2026-11-24"))
    bot.ephemeral_to(LILEI, containing="已添加任务")

    view = bot.open_modal(LILEI, "/goal")
    result = bot.submit(view, LILEI, fill(title="Q4", new_metric="gmv", target="很多", due="2026-12-31"))
    assert "无法识别数字" in result.body["errors"][BlockId.TARGET]

    bot.slack.open_app_home(LILEI)
    home = bot.home(LILEI, containing="你的未完成任务")
    shown = "\n".join(texts(home["blocks"]))
    assert "添加任务" in shown and "添加目标" in shown and "明天到期" in shown

    view = bot.open_modal(ANA, "/task")
    assert view["title"]["text"] == "New task", "Ana's Slack is in English"


def test_retro_and_schedule_replies_in_chinese(bot: Bot) -> None:
    first = bot.reply_to(LILEI, "/retro list")
    assert "None open" in first.all_text(), "the first reply is in the default while the locale is looked up"
    warmed(bot, LILEI)

    empty = bot.reply_to(LILEI, "/retro list").all_text()
    assert "没有进行中的复盘" in empty and "None open" not in empty
    started = bot.reply_to(LILEI, "/retro start period:month").all_text()
    assert "复盘 *R-1*" in started and "`/retro close R-1`" in started
    listed = bot.reply_to(LILEI, "/retro list").all_text()
    assert "进行中的复盘" in listed and "*R-1*" in listed and "0条备注" in listed and "notes" not in listed

    assert "还没有" in bot.reply_to(LILEI, "/mkt schedule list").all_text()
    scheduled = bot.reply_to(LILEI, "/mkt schedule digest 09:30 days:mon-fri").all_text()
    assert "已排定 *S-1*" in scheduled and "每日摘要" in scheduled and "周一至周五" in scheduled
    moved = bot.reply_to(LILEI, "/mkt schedule digest 10:00 days:mon,wed").all_text()
    assert "已调整 *S-1*" in moved and "周一、周三" in moved
    schedules = bot.reply_to(LILEI, "/mkt schedule list").all_text()
    assert "*定时发送* · 1" in schedules and "下次：" in schedules and "尚未发送" in schedules
    assert "Schedules" not in schedules and "next:" not in schedules
    assert "已删除S-1" in bot.reply_to(LILEI, "/mkt unschedule S-1").all_text()

    english = bot.reply_to(ANA, "/mkt schedule list").all_text()
    assert "None yet. `/mkt schedule digest 09:30 days:mon-fri` posts the daily digest here." in english


def test_the_chinese_goal_and_campaign_forms_suggest_the_teams_own_channels(bot: Bot) -> None:
    for channel in ("小红书", "JD", "京东", "拼多多", "天猫"):  # 京东 is JD: suggested once, as first logged
        bot.reply_to(ANA, f"/kpi log gmv 100 channel:{channel}")
    bot.reply_to(LILEI, "/kpi list")
    warmed(bot, LILEI)
    view = bot.open_modal(LILEI, "/goal")
    channel = block(view, BlockId.CHANNEL)
    assert channel is not None
    assert channel["element"]["placeholder"]["text"] == "小红书、JD、拼多多…"
    assert "小红书、JD、拼多多、天猫" in channel["hint"]["text"] and "京东" in channel["hint"]["text"]
    view = bot.open_modal(LILEI, "/campaign")
    channels = block(view, BlockId.CHANNELS)
    assert channels is not None and channels["element"]["placeholder"]["text"] == "小红书、JD、拼多多…"
