"""Buttons on task cards, goal cards and retro parents: each click changes the record once, updates the
message it came from (or answers privately) and says who did what; a second click, or a click on a task
someone else already closed, does no harm and says so.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from typing import Any

import pytest

from bot.ids import ActionId, BlockId, CallbackId, record_block
from bot.localslack import Message
from bot.render import views
from tests.support.harness import ANA, BO, GENERAL, Bot, block, fill, wait_until
from tests.support.text import texts


def stale(message: Message) -> Message:
    """The card as it looked before a click (Slack clients can show an old copy; people double-click)."""
    return dataclasses.replace(message, blocks=copy.deepcopy(message.blocks))


def task_status(bot: Bot, number: int = 1) -> tuple[Any, ...]:
    return bot.rows("SELECT status, block_reason, due_on, owner_id FROM tasks WHERE workspace_id = :team AND number = :n",
                    n=number)[0]


def edited(bot: Bot, message: Message, *, versions: int, timeout: float = 5.0) -> Message:
    """Wait until the message was replaced `versions` times (respond with replace_original / chat.update)."""
    wait_until(lambda: len(message.history) >= versions, timeout=timeout, what=f"{versions} edit(s) of the card")
    return message


def test_task_card_buttons_start_then_done_then_double_click(bot: Bot) -> None:
    card = bot.reply_to(ANA, "/task add Banner for 双十一 @bo due:fri")
    assert card.is_ephemeral
    actions = block(card.blocks, record_block(BlockId.TASK_ACTIONS, "T-1"))
    assert actions is not None
    assert [e["action_id"] for e in actions["elements"]] == [
        ActionId.TASK_START, ActionId.TASK_DONE, ActionId.TASK_BLOCK, ActionId.TASK_SNOOZE
    ]
    assert all(len(e["text"]["text"]) <= 75 for e in actions["elements"])
    before_any_click = stale(card)

    bot.click(card, ActionId.TASK_START, ANA)
    edited(bot, card, versions=1)
    assert task_status(bot)[0] == "in_progress"
    assert f"T-1 started by <@{ANA}>" in card.all_text()
    after = block(card.blocks, record_block(BlockId.TASK_ACTIONS, "T-1"))
    assert after and ActionId.TASK_START not in [e["action_id"] for e in after["elements"]]

    bot.click(card, ActionId.TASK_DONE, ANA)
    edited(bot, card, versions=2)
    assert task_status(bot)[0] == "done"
    assert "marked done" in card.all_text()
    assert block(card.blocks, record_block(BlockId.TASK_ACTIONS, "T-1")) is None, "no buttons on a done task"

    # the old copy of the card still shows Start and Done: clicking them changes nothing
    completed = bot.rows("SELECT completed_at FROM tasks WHERE workspace_id = :team")
    bot.click(before_any_click, ActionId.TASK_START, ANA)
    edited(bot, card, versions=3)
    assert "T-1 is already done; nothing changed." in card.all_text()
    bot.click(before_any_click, ActionId.TASK_DONE, ANA)
    edited(bot, card, versions=4)
    assert "already done" in card.all_text()
    assert task_status(bot)[0] == "done"
    assert bot.rows("SELECT completed_at FROM tasks WHERE workspace_id = :team") == completed, "not re-completed"


def test_someone_else_already_closed_it(bot: Bot) -> None:
    card = bot.reply_to(ANA, "/task add Banner @bo")
    said = bot.reply_to(BO, "/task done T-1")
    assert "marked done" in said.all_text()
    bot.click(card, ActionId.TASK_DONE, ANA)
    edited(bot, card, versions=1)
    assert "T-1 is already done; nothing changed." in card.all_text()
    assert task_status(bot)[0] == "done"


def test_snooze_moves_the_due_date_once(bot: Bot) -> None:
    card = bot.reply_to(ANA, "/task add Banner due:2026-11-24")
    old = stale(card)
    bot.click(card, ActionId.TASK_SNOOZE, ANA)
    edited(bot, card, versions=1)
    assert task_status(bot)[2] == "2026-11-25"
    assert "snoozed to" in card.all_text() and f"<@{ANA}>" in card.all_text()
    bot.click(old, ActionId.TASK_SNOOZE, BO)  # a double click on the old card
    edited(bot, card, versions=2)
    assert task_status(bot)[2] == "2026-11-25", "a second click on the same card does not snooze again"
    assert "nothing changed" in card.all_text()

    overdue = bot.reply_to(ANA, "/task add Late due:2026-11-20")
    bot.click(overdue, ActionId.TASK_SNOOZE, ANA)
    edited(bot, overdue, versions=1)
    assert task_status(bot, 2)[2] == "2026-11-24", "an overdue task is snoozed to tomorrow, not to a day in the past"


def test_block_opens_a_modal_for_the_reason(bot: Bot) -> None:
    card = bot.reply_to(ANA, "/task add Banner @bo due:fri")
    bot.click(card, ActionId.TASK_BLOCK, ANA)
    view = bot.opened_modal(ANA)
    assert view["callback_id"] == CallbackId.TASK_BLOCK_MODAL and view["title"]["text"] == "Block T-1"
    result = bot.submit(view, ANA, fill(reason="  "))
    assert set(result.body["errors"]) == {BlockId.REASON}
    assert task_status(bot)[0] == "todo"
    bot.submit(view, ANA, fill(reason="waiting for 天猫 approval"))
    assert task_status(bot)[:2] == ("blocked", "waiting for 天猫 approval")
    edited(bot, card, versions=1)
    assert "marked blocked" in card.all_text() and "waiting for 天猫 approval" in card.all_text()


def test_block_on_a_done_task_opens_nothing(bot: Bot) -> None:
    card = bot.reply_to(ANA, "/task add Banner")
    bot.reply_to(BO, "/task done T-1")
    bot.click(card, ActionId.TASK_BLOCK, ANA)
    bot.ephemeral_to(ANA, containing="already done")
    assert not bot.slack.get_calls("views.open")


def test_a_shared_message_is_updated_in_place(bot: Bot) -> None:
    """A task card inside a message everyone sees (a digest, a reminder): only that task's blocks change."""
    bot.reply_to(ANA, "/task add Banner @bo due:2026-11-24")
    bot.reply_to(ANA, "/task add Copy @ana due:2026-11-25")
    client = bot.app.client
    blocks = [{"type": "section", "block_id": "head", "text": {"type": "mrkdwn", "text": "*Daily digest*"}}]
    for number, title, owner, due in ((1, "Banner", BO, "Tue"), (2, "Copy", ANA, "Wed")):
        blocks.append({"type": "section", "block_id": record_block(BlockId.TASK_LINE, f"T-{number}"),
                       "text": {"type": "mrkdwn", "text": f":white_circle: *T-{number}* {title} · <@{owner}> · due {due}"}})
        actions = views.task_actions_block(number, "todo", None)
        assert actions is not None
        blocks.append(actions)
    posted = client.chat_postMessage(channel=GENERAL, text="Daily digest", blocks=blocks)
    message = bot.slack.get_message(GENERAL, posted["ts"])
    assert message is not None
    old = stale(message)

    bot.click(message, ActionId.TASK_DONE, BO)
    edited(bot, message, versions=1)
    assert task_status(bot, 1)[0] == "done" and task_status(bot, 2)[0] == "todo"
    assert not message.is_ephemeral and message.text == "Daily digest"
    line = block(message.blocks, record_block(BlockId.TASK_LINE, "T-1"))
    assert line and ":white_check_mark:" in line["text"]["text"]
    note = block(message.blocks, record_block(BlockId.TASK_NOTE, "T-1"))
    assert note and f"T-1 marked done :tada: by <@{BO}>" in texts(note)[0]
    assert block(message.blocks, record_block(BlockId.TASK_ACTIONS, "T-1")) is None
    assert block(message.blocks, record_block(BlockId.TASK_ACTIONS, "T-2")) is not None, "the other task is untouched"
    assert block(message.blocks, "head") == blocks[0]

    # a click on the old copy: the shared message is not rewritten to "already done", the clicker is told privately
    bot.click(old, ActionId.TASK_DONE, ANA)
    bot.ephemeral_to(ANA, containing="already done")
    assert task_status(bot, 1)[0] == "done"


def test_block_from_a_shared_message_updates_it(bot: Bot) -> None:
    bot.reply_to(ANA, "/task add Banner @bo")
    client = bot.app.client
    actions = views.task_actions_block(1, "todo", None)
    assert actions is not None
    posted = client.chat_postMessage(channel=GENERAL, text="Reminder", blocks=[
        {"type": "section", "text": {"type": "mrkdwn", "text": "Reminder: T-1"}}, actions])
    message = bot.slack.get_message(GENERAL, posted["ts"])
    assert message is not None
    bot.click(message, ActionId.TASK_BLOCK, BO)
    view = bot.opened_modal(BO)
    bot.submit(view, BO, fill(reason="no stock photos"))
    edited(bot, message, versions=1)
    assert "marked blocked" in message.all_text()
    assert task_status(bot)[:2] == ("blocked", "no stock photos")


def test_goal_check_in_from_the_goal_card(bot: Bot) -> None:
    card = bot.reply_to(ANA, '/goal add "Q4 GMV" metric:gmv target:¥2.5m by:2026-12-31 owner:<@U0BO|bo>')
    assert not card.is_ephemeral, "a new goal is announced in the channel"
    bot.click(card, ActionId.GOAL_CHECKIN, BO)
    view = bot.opened_modal(BO)
    assert view["callback_id"] == CallbackId.GOAL_CHECKIN_MODAL
    confidence = block(view, BlockId.CONFIDENCE)
    assert confidence and len(confidence["element"]["options"]) == 10
    result = bot.submit(view, BO, fill(value="a lot", confidence="7"))
    assert set(result.body["errors"]) == {BlockId.VALUE}
    assert bot.count("goal_checkins") == 0
    bot.submit(view, BO, fill(value="¥1.2m", confidence="7", note="双十一 went well"))
    assert bot.rows("SELECT confidence, note, user_id FROM goal_checkins WHERE workspace_id = :team") == [
        (7, "双十一 went well", BO)
    ]
    shown = bot.ephemeral_to(BO, containing="Check-in recorded for *G-1*")
    assert shown.channel == GENERAL and "¥1,200,000" in shown.all_text()


def test_check_in_on_a_closed_goal(bot: Bot) -> None:
    card = bot.reply_to(ANA, '/goal add "Q4 GMV" metric:gmv target:¥2.5m by:2026-12-31')
    bot.reply_to(ANA, "/goal close G-1")
    bot.click(card, ActionId.GOAL_CHECKIN, BO)
    bot.ephemeral_to(BO, containing="G-1 is closed")
    assert not bot.slack.get_calls("views.open")


def test_buttons_look_records_up_in_the_clicking_users_workspace(bot: Bot) -> None:
    card = bot.reply_to(ANA, "/task add Ours")
    actions = block(card.blocks, record_block(BlockId.TASK_ACTIONS, "T-1"))
    assert actions is not None
    done = next(e for e in actions["elements"] if e["action_id"] == ActionId.TASK_DONE)
    assert done["value"] == "T-1", "a button carries the reference, never a database id"
    payload = {
        "type": "block_actions",
        "team": {"id": "TSOMEONEELSE", "domain": "elsewhere"},
        "user": {"id": BO, "team_id": "TSOMEONEELSE"},
        "container": {"type": "message", "message_ts": card.ts, "channel_id": GENERAL, "is_ephemeral": True},
        "channel": {"id": GENERAL, "name": "general"},
        "actions": [{"action_id": ActionId.TASK_DONE, "block_id": actions["block_id"], "type": "button", "value": "T-1",
                     "text": done["text"], "action_ts": "1.1"}],
    }
    result = bot.slack.send_interaction(payload)
    assert result.status == 200
    bot.ephemeral_to(BO, containing="There is no task `T-1`")
    assert task_status(bot)[0] == "todo"


def test_retro_parent_add_a_note_and_close(bot: Bot) -> None:
    from jobs.delivery import deliver_due

    bot.reply_to(ANA, "/retro start period:month")
    runtime = bot.app.runtime
    wait_until(lambda: deliver_due(runtime.jobs, limit=10) is not None and bot.rows(
        "SELECT thread_ts FROM retros WHERE workspace_id = :team")[0][0], what="the retro parent posted")
    parent = bot.slack.wait_for_message(GENERAL, where=lambda m: "Retrospective R-1" in m.text and not m.is_ephemeral)
    actions = block(parent.blocks, record_block(BlockId.RETRO_ACTIONS, "R-1"))
    assert actions and [e["action_id"] for e in actions["elements"]] == [ActionId.RETRO_NOTE, ActionId.RETRO_CLOSE]
    old = stale(parent)

    bot.click(parent, ActionId.RETRO_NOTE, BO)
    view = bot.opened_modal(BO)
    assert view["callback_id"] == CallbackId.RETRO_NOTE_MODAL
    bot.submit(view, BO, fill(category="well", text="天猫 traffic doubled"))
    bot.click(parent, ActionId.RETRO_NOTE, ANA)
    view = bot.opened_modal(ANA)
    bot.submit(view, ANA, fill(category="action", text="Write the banner brief", owner=BO, due="2026-11-27"))
    wait_until(lambda: bot.count("retro_notes") == 2, what="two notes")
    assert bot.rows("SELECT category, text, user_id, owner_id FROM retro_notes WHERE workspace_id = :team ORDER BY id") == [
        ("well", "天猫 traffic doubled", BO, None),
        ("action", f"Write the banner brief <@{BO}> due:2026-11-27", ANA, BO),
    ]
    in_thread = bot.slack.wait_for_message(GENERAL, where=lambda m: m.thread_ts == parent.ts and "天猫 traffic doubled" in m.text)
    assert in_thread.is_bot, "the note shows in the thread, posted by the bot (and not collected twice)"
    action = bot.slack.wait_for_message(GENERAL, where=lambda m: m.thread_ts == parent.ts and "banner brief" in m.text)
    assert f"<@{BO}>" in action.text and "&lt;@" not in action.text, action.text  # the owner is a live mention

    bot.click(parent, ActionId.RETRO_CLOSE, ANA)
    edited(bot, parent, versions=1)
    assert bot.rows("SELECT status FROM retros WHERE workspace_id = :team") == [("closed",)]
    assert f"R-1 closed by <@{ANA}>" in parent.all_text()
    assert block(parent.blocks, record_block(BlockId.RETRO_ACTIONS, "R-1"))["type"] == "context"  # type: ignore[index]
    assert bot.rows("SELECT title, owner_id, due_on FROM tasks WHERE workspace_id = :team") == [
        ("Write the banner brief", BO, "2026-11-27")
    ]
    bot.slack.wait_for_message(GENERAL, where=lambda m: m.thread_ts == parent.ts and "R-1 closed" in m.text)

    bot.click(old, ActionId.RETRO_CLOSE, BO)  # the button on an old copy
    bot.ephemeral_to(BO, containing="R-1 was already closed; nothing changed.")
    bot.click(old, ActionId.RETRO_NOTE, BO)
    bot.ephemeral_to(BO, containing="notes are no longer collected")
    assert bot.count("tasks") == 1


@pytest.mark.parametrize("fault", ["answer lost", "HTTP 500"])
def test_a_retro_note_is_echoed_once_whatever_slack_answered(bot: Bot, fault: str) -> None:
    from datetime import timedelta

    from jobs.delivery import deliver_due

    bot.reply_to(ANA, "/retro start period:month")
    runtime = bot.app.runtime
    wait_until(lambda: deliver_due(runtime.jobs, limit=10) is not None and bot.rows(
        "SELECT thread_ts FROM retros WHERE workspace_id = :team")[0][0], what="the retro parent posted")
    parent = bot.slack.wait_for_message(GENERAL, where=lambda m: "Retrospective R-1" in m.text and not m.is_ephemeral)
    bot.click(parent, ActionId.RETRO_NOTE, BO)
    view = bot.opened_modal(BO)
    if fault == "answer lost":
        bot.slack.drop_answer("chat.postMessage")  # Slack posts it; the bot never hears so
    else:
        bot.slack.add_response("chat.postMessage", status=500)  # Slack does not post it
    bot.submit(view, BO, fill(category="well", text="天猫 traffic doubled"))
    wait_until(lambda: any(c.method == "chat.postMessage" for c in bot.slack.calls[-3:]), what="the echo tried")
    time.sleep(3)  # any retry of the first attempt has happened by now
    deliver_due(runtime.jobs, now=runtime.clock() + timedelta(hours=1))  # the outbox's later run
    echoes = [m for m in bot.slack.channel_messages(GENERAL, thread_ts=parent.ts) if "天猫 traffic doubled" in m.text]
    assert len(echoes) == 1, bot.slack.dump()


def test_a_post_delivered_at_once_is_only_that_post(bot: Bot) -> None:
    """/retro start and close deliver the post they queued right after the ack, and nothing else: another
    workspace's due post waits for the delivery job."""
    from bot.services import outbox

    other_team = "TOTHER" + bot.team_id[-4:]
    with bot.db.session() as session:
        other = outbox.enqueue(session, workspace_id=other_team, now=bot.clock(), post=outbox.Post(
            dedupe_key=f"elsewhere:{bot.team_id}", kind="digest", text="Someone else's digest", slack_channel_id="C0ELSEWHERE"))
    assert other is not None
    bot.reply_to(ANA, "/retro start period:month")
    wait_until(lambda: bot.rows("SELECT thread_ts FROM retros WHERE workspace_id = :team")[0][0],
               what="the retro parent posted after the ack")
    bot.reply_to(ANA, "/retro close R-1")
    bot.slack.wait_for_message(GENERAL, where=lambda m: m.thread_ts is not None and "R-1 closed" in m.text)
    assert bot.rows("SELECT status FROM outbox WHERE id = :id", id=other) == [("pending",)]
    assert not [c for c in bot.slack.calls if c.method == "chat.postMessage" and "Someone else" in str(c.args)]


def test_a_note_from_the_form_is_written_in_the_threads_language(bot: Bot) -> None:
    from jobs.delivery import deliver_due

    bot.reply_to(ANA, "/mkt language zh-CN")
    bot.reply_to(ANA, "/retro start period:month")
    runtime = bot.app.runtime
    wait_until(lambda: deliver_due(runtime.jobs, limit=10) is not None and bot.rows(
        "SELECT thread_ts FROM retros WHERE workspace_id = :team")[0][0], what="the retro parent posted")
    parent = bot.slack.wait_for_message(GENERAL, where=lambda m: "R-1" in m.text and not m.is_ephemeral)
    bot.click(parent, ActionId.RETRO_NOTE, ANA)  # Ana reads English; the thread is Chinese
    bot.submit(bot.opened_modal(ANA), ANA, fill(category="well", text="直播间转化翻倍"))
    bot.click(parent, ActionId.RETRO_NOTE, BO)
    bot.submit(bot.opened_modal(BO), BO, fill(category="action", text="写双十二海报需求", owner=BO, due="2026-11-27"))
    wait_until(lambda: bot.count("retro_notes") == 2, what="two notes")
    assert bot.rows("SELECT category, text FROM retro_notes WHERE workspace_id = :team ORDER BY id") == [
        ("well", "直播间转化翻倍"), ("action", f"写双十二海报需求 <@{BO}> due:2026-11-27")]
    well = bot.slack.wait_for_message(GENERAL, where=lambda m: m.thread_ts == parent.ts and "直播间转化翻倍" in m.text)
    assert well.text == f":memo: <@{ANA}>: 做得好：直播间转化翻倍", well.text
    action = bot.slack.wait_for_message(GENERAL, where=lambda m: m.thread_ts == parent.ts and "海报需求" in m.text)
    assert "行动：写双十二海报需求" in action.text and "action:" not in action.text, action.text
