"""People are told by DM what others did to their work: over signed HTTP, then the scheduler's tick, batched once
their changes have been quiet for two minutes, in their own language, once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text

from bot.ids import ActionId, BlockId, record_block
from bot.localslack import Message
from bot.posts.notify import QUIET
from bot.services import retros
from jobs.context import JobContext
from jobs.tick import tick
from storage.models import Retro
from tests.jobs.conftest import make_ctx
from tests.support.harness import ANA, BO, LILEI, Bot, fill, wait_until
from tests.support.language import not_chinese


def jobs(bot: Bot) -> JobContext:
    return make_ctx(bot.db, bot.slack, bot.clock)


def later(bot: Bot, delta: timedelta) -> datetime:
    bot.clock.set(bot.clock() + delta)
    return bot.clock()


def dms(bot: Bot, user: str) -> list[Message]:
    return [m for m in bot.slack.channel_messages(bot.slack.im_channel(user)) if m.is_bot]


def ok(bot: Bot, user: str, line: str) -> str:
    said = bot.say(user, line)
    assert said.status == 200 and not said.late, said
    return said


def test_a_task_assigned_by_someone_else_is_told_once_after_the_quiet_window(bot: Bot) -> None:
    ctx = jobs(bot)
    ok(bot, ANA, f"/task add Banner 双十二 <@{BO}> due:2026-11-25")
    tick(ctx, later(bot, timedelta(minutes=1)))
    assert dms(bot, BO) == [], "told only once the quiet window has passed"
    tick(ctx, later(bot, QUIET))
    [dm] = dms(bot, BO)
    text = dm.all_text()
    assert f"<@{ANA}> assigned you *T-1* Banner 双十二 (due" in text, text
    actions = [b for b in dm.blocks if b.get("block_id") == record_block(BlockId.TASK_ACTIONS, "T-1")]
    assert actions and [e["action_id"] for e in actions[0]["elements"]] == [
        ActionId.TASK_START, ActionId.TASK_DONE, ActionId.TASK_BLOCK, ActionId.TASK_SNOOZE]
    for _ in range(3):
        tick(ctx, later(bot, timedelta(minutes=5)))
    assert len(dms(bot, BO)) == 1
    assert dms(bot, ANA) == [], "Ana did it herself"
    # the button on the DM works, and Bo's own click tells nobody
    bot.click(dm, ActionId.TASK_DONE, BO, value="T-1")
    wait_until(lambda: bot.rows("SELECT status FROM tasks WHERE workspace_id = :team") == [("done",)], what="done")
    tick(ctx, later(bot, timedelta(minutes=5)))
    assert dms(bot, ANA) == [] and len(dms(bot, BO)) == 1


def test_quick_edits_make_one_message(bot: Bot) -> None:
    ctx = jobs(bot)
    ok(bot, ANA, f"/task add Launch deck <@{BO}>")
    for line in ("/task due T-1 2026-11-27", "/task start T-1", "/task due T-1 2026-11-30", "/task block T-1 waiting on copy"):
        later(bot, timedelta(seconds=40))
        ok(bot, ANA, line)
    tick(ctx, later(bot, timedelta(minutes=1)))
    assert dms(bot, BO) == [], "the last edit is not two minutes old yet"
    tick(ctx, later(bot, timedelta(minutes=1, seconds=1)))
    [dm] = dms(bot, BO)
    text = dm.all_text()
    assert "assigned you *T-1* Launch deck" in text, text
    # a status changed twice is told where it ended, a due date moved twice likewise
    assert "blocked *T-1* Launch deck: waiting on copy" in text and "started" not in text, text
    assert text.count("moved *T-1*") == 1 and "Nov 30" in text and "Nov 27" not in text, text
    tick(ctx, later(bot, timedelta(minutes=10)))
    assert len(dms(bot, BO)) == 1


def test_nobody_is_told_of_their_own_actions(bot: Bot) -> None:
    ctx = jobs(bot)
    ok(bot, BO, f"/task add Own work <@{BO}> due:2026-11-26")
    ok(bot, BO, "/task start T-1")
    ok(bot, ANA, "/task add Mine too")
    ok(bot, ANA, '/goal add "Q4 GMV" metric:gmv target:¥2.5m by:2026-12-31')
    ok(bot, ANA, "/goal checkin G-1 ¥1m")
    ok(bot, ANA, "/campaign add 双十二 start:12-01 end:12-12")
    ok(bot, ANA, "/campaign close C-1")
    tick(ctx, later(bot, timedelta(minutes=5)))
    assert dms(bot, ANA) == [] and dms(bot, BO) == []
    assert bot.count("notification_events") == 0


def test_a_refused_change_records_nothing(bot: Bot) -> None:
    said = bot.say(ANA, f"/task add Banner <@{BO}> goal:G-99")
    assert said.ephemeral and "G-99" in said, said
    assert bot.count("notification_events") == 0 and bot.count("tasks") == 0


def test_notify_off_means_no_such_messages(bot: Bot) -> None:
    ctx = jobs(bot)
    shown = ok(bot, BO, "/mkt notify")
    assert "Notifications are on" in shown, shown
    off = ok(bot, BO, "/mkt notify off")
    assert "Notifications are off" in off and "Reminders" in off, off
    assert "Notifications are off" in ok(bot, BO, "/mkt notify")
    refused = bot.say(BO, "/mkt notify maybe")
    assert "maybe" in refused and "/mkt notify [on|off]" in refused, refused
    ok(bot, ANA, f"/task add Banner <@{BO}>")
    tick(ctx, later(bot, timedelta(minutes=3)))
    assert dms(bot, BO) == []
    assert bot.rows("SELECT batch_key FROM notification_events WHERE workspace_id = :team")[0][0].startswith("off:")
    ok(bot, BO, "/mkt notify on")
    ok(bot, ANA, "/task done T-1")
    tick(ctx, later(bot, timedelta(minutes=3)))
    [dm] = dms(bot, BO)
    assert "marked *T-1* Banner done" in dm.all_text() and "assigned" not in dm.all_text(), dm.all_text()


def test_a_chinese_reader_is_told_in_chinese(bot: Bot) -> None:
    ctx = jobs(bot)
    ok(bot, ANA, f"/task add 海报终稿 <@{LILEI}> due:2026-11-25")
    later(bot, timedelta(seconds=30))
    ok(bot, ANA, "/task due T-1 2026-11-27")
    tick(ctx, later(bot, timedelta(minutes=3)))
    [dm] = dms(bot, LILEI)
    text = dm.all_text()
    assert "把 *T-1* 海报终稿 指派给了你" in text and "截止日期改为" in text and "完成" in text, text
    assert not not_chinese(text, ["海报终稿", "T-1", "mkt", "notify", "off"]), not_chinese(text, ["海报终稿"])


def test_reassigning_tells_both_and_goals_and_campaigns_tell_their_owners(bot: Bot) -> None:
    ctx = jobs(bot)
    ok(bot, ANA, f"/task add Copy review <@{ANA}>")  # her own
    ok(bot, ANA, f'/goal add "Q4 GMV" metric:gmv target:¥2.5m by:2026-12-31 owner:<@{BO}>')
    ok(bot, BO, "/campaign add 双十二 start:12-01 end:12-12")
    ok(bot, LILEI, f"/task assign T-1 <@{BO}>")
    ok(bot, LILEI, "/goal checkin G-1 ¥1.2m confidence:7")
    ok(bot, ANA, "/goal close G-1")
    ok(bot, ANA, "/campaign close C-1")
    tick(ctx, later(bot, timedelta(minutes=3)))
    [ana] = dms(bot, ANA)
    assert f"<@{LILEI}> handed *T-1* Copy review to <@{BO}>" in ana.all_text(), ana.all_text()
    assert not [b for b in ana.blocks if b.get("type") == "actions"], "no buttons on a task that is not hers any more"
    [bo] = dms(bot, BO)
    text = bo.all_text()
    assert f"<@{LILEI}> assigned you *T-1* Copy review" in text, text
    assert f"<@{LILEI}> checked in on *G-1* Q4 GMV: ¥1,200,000" in text, text
    assert f"<@{ANA}> closed *G-1* Q4 GMV" in text and f"<@{ANA}> closed *C-1* 双十二" in text, text


def test_a_retro_action_item_for_someone_else_tells_them(bot: Bot) -> None:
    ctx = jobs(bot)
    ok(bot, ANA, "/retro start")
    with bot.db.session() as s:
        retro = s.query(Retro).filter(Retro.workspace_id == bot.team_id).one()
        retros.record_reply(s, retro=retro, user_id=ANA, message_ts="1763900000.000100",
                            text=f"action: <@{BO}> write the 双十二 brief due:fri")
        retros.record_reply(s, retro=retro, user_id=ANA, message_ts="1763900000.000200", text="action: book the room")
    ok(bot, ANA, "/retro close R-1")
    tick(ctx, later(bot, timedelta(minutes=3)))
    [dm] = dms(bot, BO)
    assert "assigned you *T-1*" in dm.all_text() and "双十二 brief" in dm.all_text(), dm.all_text()
    assert not [m for m in dms(bot, ANA) if "assigned you" in m.all_text()], "Ana's own action item"


def test_a_message_slack_fails_with_a_5xx_is_posted_once(bot: Bot) -> None:
    ctx = jobs(bot)
    ok(bot, ANA, f"/task add Banner <@{BO}>")
    bot.slack.add_response("chat.postMessage", status=500, times=1)
    tick(ctx, later(bot, timedelta(minutes=3)))
    assert dms(bot, BO) == []
    for _ in range(4):
        tick(ctx, later(bot, timedelta(minutes=2)))
    assert len(dms(bot, BO)) == 1
    assert bot.rows("SELECT status, attempts FROM outbox WHERE workspace_id = :team AND kind = 'notify'") == [("sent", 1)]


def test_batches_on_both_databases(any_db_bot: Bot) -> None:
    bot = any_db_bot
    ctx = jobs(bot)
    # the shared PostgreSQL database keeps other tests' workspaces; their pending events are not this test's
    with bot.db.session() as s:
        s.execute(text("DELETE FROM notification_events WHERE workspace_id <> :team AND batch_key IS NULL"),
                  {"team": bot.team_id})
    ok(bot, ANA, f"/task add Banner <@{BO}>")
    ok(bot, ANA, "/task start T-1")
    tick(ctx, later(bot, timedelta(minutes=3)))
    tick(ctx, later(bot, timedelta(minutes=3)))
    [dm] = dms(bot, BO)
    assert "assigned you *T-1*" in dm.all_text() and "started *T-1*" in dm.all_text()
    assert bot.rows("SELECT count(*) FROM notification_events WHERE workspace_id = :team AND batch_key IS NULL") == [(0,)]


def test_a_task_assigned_through_the_form_is_told(bot: Bot) -> None:
    ctx = jobs(bot)
    view = bot.open_modal(ANA, "/task")
    bot.submit(view, ANA, fill(title="Banner from the form", owner=BO, due="2026-11-27"))
    wait_until(lambda: bot.count("tasks") == 1, what="the task")
    tick(ctx, later(bot, timedelta(minutes=3)))
    [dm] = dms(bot, BO)
    assert f"<@{ANA}> assigned you *T-1* Banner from the form" in dm.all_text(), dm.all_text()
