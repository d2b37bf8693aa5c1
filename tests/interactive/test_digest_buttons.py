"""Buttons on the daily digest's most urgent tasks: a click changes the task once, updates only that task's
blocks in the channel's digest (its line, then a note saying who did what where its buttons were), and a
second click does no harm and says so.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from bot.ids import ActionId, BlockId, record_block
from bot.localslack import Message
from bot.render.reply import MAX_BLOCKS
from tests.support.harness import ANA, BO, GENERAL, Bot, block, wait_until
from tests.support.text import texts


def post_digest(bot: Bot) -> Message:
    """`/mkt digest now` in #general: the digest the bot posts there (through the outbox, off the ack path)."""
    bot.reply_to(ANA, "/mkt digest now")
    return bot.slack.wait_for_message(
        GENERAL, include_ephemeral=False,
        where=lambda m: m.source == "chat.postMessage" and m.text.startswith("Daily digest"),
    )


def stale(message: Message) -> Message:
    """The digest as a client still showing the old copy sees it."""
    return dataclasses.replace(message, blocks=copy.deepcopy(message.blocks))


def edited(message: Message, *, versions: int) -> Message:
    wait_until(lambda: len(message.history) >= versions, what=f"{versions} edit(s) of the digest")
    return message


def click(bot: Bot, message: Message, action_id: str, user: str, ref: str) -> None:
    """Click one task's button: several tasks in the digest share each action_id, the block_id picks the task."""
    result = bot.slack.click_button(message, action_id, user_id=user, block_id=record_block(BlockId.TASK_ACTIONS, ref))
    assert result.status == 200 and not result.late, result


def task_row(bot: Bot, number: int) -> tuple[Any, ...]:
    return bot.rows("SELECT status, owner_id, completed_at FROM tasks WHERE workspace_id = :team AND number = :n", n=number)[0]


def ids(message: Message) -> list[str]:
    return [str(b.get("block_id") or "") for b in message.blocks or []]


def setup_tasks(bot: Bot) -> None:
    bot.reply_to(ANA, "/task add Banner for 双十一 @bo due:2026-11-20")  # T-1: 3 days overdue
    bot.reply_to(ANA, "/task add Copy <b>&co @ana due:2026-11-23")  # T-2: due today
    bot.reply_to(ANA, "/task add Later @ana due:2026-12-10")  # T-3: not in the digest


def test_done_from_the_digest_updates_that_task_in_place(bot: Bot) -> None:
    setup_tasks(bot)
    digest = post_digest(bot)
    assert not digest.is_ephemeral
    assert [i for i in ids(digest) if i.startswith((BlockId.TASK_LINE, BlockId.TASK_ACTIONS))] == [
        record_block(BlockId.TASK_LINE, "T-1"), record_block(BlockId.TASK_ACTIONS, "T-1"),
        record_block(BlockId.TASK_LINE, "T-2"), record_block(BlockId.TASK_ACTIONS, "T-2"),
    ], "overdue first, each line followed by its buttons; T-3 is not due"
    line = block(digest.blocks, record_block(BlockId.TASK_LINE, "T-1"))
    assert line and line["text"]["text"] == f":white_circle: *T-1* Banner for 双十一 · <@{BO}> · *3 days overdue*"
    copy_line = block(digest.blocks, record_block(BlockId.TASK_LINE, "T-2"))
    assert copy_line and "*T-2* Copy &lt;b&gt;&amp;co" in copy_line["text"]["text"], "user text stays escaped"
    before = stale(digest)
    other = [b for b in digest.blocks if not b.get("block_id", "").endswith(":T-1")]
    text = digest.text

    click(bot, digest, ActionId.TASK_DONE, BO, "T-1")
    edited(digest, versions=1)

    status, owner, completed_at = task_row(bot, 1)
    assert (status, owner) == ("done", BO) and completed_at is not None
    assert task_row(bot, 2)[0] == "todo"
    # the same channel message, edited: the task's line shows it done, the note under it who did it
    assert not digest.is_ephemeral and digest.channel == GENERAL and digest.text == text
    line = block(digest.blocks, record_block(BlockId.TASK_LINE, "T-1"))
    assert line and line["text"]["text"].startswith(":white_check_mark: *T-1* Banner for 双十一")
    note = block(digest.blocks, record_block(BlockId.TASK_NOTE, "T-1"))
    assert note and texts(note) == [f"T-1 marked done :tada: by <@{BO}>"]
    assert ids(digest).index(record_block(BlockId.TASK_NOTE, "T-1")) == ids(digest).index(record_block(BlockId.TASK_LINE, "T-1")) + 1
    assert block(digest.blocks, record_block(BlockId.TASK_ACTIONS, "T-1")) is None, "no buttons left on a done task"
    # everything else in the digest is as it was
    assert [b for b in digest.blocks if not b.get("block_id", "").endswith(":T-1")] == other
    assert len(digest.blocks or []) <= MAX_BLOCKS
    with pytest.raises(ValueError):
        bot.slack.click_button(digest, ActionId.TASK_DONE, user_id=ANA, block_id=record_block(BlockId.TASK_ACTIONS, "T-1"))

    # a second click, from a copy still showing the buttons: nothing changes, the clicker is told privately
    click(bot, before, ActionId.TASK_DONE, ANA, "T-1")
    bot.ephemeral_to(ANA, containing="T-1 is already done")
    assert task_row(bot, 1) == (status, owner, completed_at)


def test_start_then_done_from_the_digest(bot: Bot) -> None:
    setup_tasks(bot)
    digest = post_digest(bot)
    drawn = block(digest.blocks, record_block(BlockId.TASK_LINE, "T-2"))
    assert drawn and drawn["text"]["text"] == f":white_circle: *T-2* Copy &lt;b&gt;&amp;co · <@{ANA}> · due today"
    actions = block(digest.blocks, record_block(BlockId.TASK_ACTIONS, "T-2"))
    assert actions and [e["action_id"] for e in actions["elements"]] == [
        ActionId.TASK_START, ActionId.TASK_DONE, ActionId.TASK_BLOCK, ActionId.TASK_SNOOZE]

    click(bot, digest, ActionId.TASK_START, ANA, "T-2")
    edited(digest, versions=1)
    assert task_row(bot, 2)[0] == "in_progress"
    line = block(digest.blocks, record_block(BlockId.TASK_LINE, "T-2"))
    # redrawn with the digest's own line: only the status changed, not the wording
    assert line and line["text"]["text"] == drawn["text"]["text"].replace(":white_circle:", ":large_blue_circle:")
    note = block(digest.blocks, record_block(BlockId.TASK_NOTE, "T-2"))
    assert note and texts(note) == [f"T-2 started by <@{ANA}>"]
    actions = block(digest.blocks, record_block(BlockId.TASK_ACTIONS, "T-2"))
    assert actions and [e["action_id"] for e in actions["elements"]] == [ActionId.TASK_DONE, ActionId.TASK_BLOCK, ActionId.TASK_SNOOZE]
    assert ids(digest).index(record_block(BlockId.TASK_ACTIONS, "T-2")) == ids(digest).index(record_block(BlockId.TASK_NOTE, "T-2")) + 1

    click(bot, digest, ActionId.TASK_DONE, BO, "T-2")
    edited(digest, versions=2)
    assert task_row(bot, 2)[0] == "done"
    note = block(digest.blocks, record_block(BlockId.TASK_NOTE, "T-2"))
    assert note and texts(note) == [f"T-2 marked done :tada: by <@{BO}>"]
    assert block(digest.blocks, record_block(BlockId.TASK_ACTIONS, "T-2")) is None
    assert block(digest.blocks, record_block(BlockId.TASK_ACTIONS, "T-1")) is not None, "the other task is untouched"
    assert task_row(bot, 1)[0] == "todo"

    overdue = block(digest.blocks, record_block(BlockId.TASK_LINE, "T-1"))
    assert overdue and overdue["text"]["text"].endswith("*3 days overdue*")
    click(bot, digest, ActionId.TASK_START, BO, "T-1")
    edited(digest, versions=3)
    line = block(digest.blocks, record_block(BlockId.TASK_LINE, "T-1"))
    assert line and line["text"]["text"] == overdue["text"]["text"].replace(":white_circle:", ":large_blue_circle:")


def test_a_click_on_an_old_copy_leaves_the_digest_as_it_is(bot: Bot) -> None:
    setup_tasks(bot)
    digest = post_digest(bot)
    before = stale(digest)
    click(bot, digest, ActionId.TASK_DONE, BO, "T-1")
    edited(digest, versions=1)
    click(bot, digest, ActionId.TASK_START, ANA, "T-2")
    edited(digest, versions=2)
    current = copy.deepcopy(digest.blocks)

    click(bot, before, ActionId.TASK_DONE, ANA, "T-1")
    bot.ephemeral_to(ANA, containing="T-1 is already done")  # answered after any edit of the digest
    assert digest.blocks == current
