"""A retro thread's replies, edits and deletes, delivered by Slack in any order and retried, settle on the
thread's last state: the notes and the tasks made at close are those of the newest version of each reply."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from storage.db import Database
from tests.conftest import Clock
from tests.jobs.test_retro_flow import _wait_for_thread, wait_for_bot_post
from tests.support.harness import ANA, BO, GENERAL, NOW, Bot, new_team_id, running_bot

Event = dict[str, object]


@pytest.fixture
def stack(db: Database, clock: Clock) -> Iterator[Bot]:
    clock.set(NOW)
    with running_bot(db, clock=clock, team_id=new_team_id()) as running:
        yield running


def _ts(base: float, offset: float) -> str:
    return f"{base + offset:.6f}"


def _reply(bot: Bot, thread_ts: str, ts: str, text: str) -> Event:
    return {
        "type": "message", "channel": GENERAL, "user": BO, "text": text, "ts": ts, "thread_ts": thread_ts,
        "team": bot.team_id, "channel_type": "channel", "event_ts": ts,
    }


def _edit(bot: Bot, thread_ts: str, ts: str, edited_ts: str, before: str, text: str) -> Event:
    return {
        "type": "message", "subtype": "message_changed", "hidden": True, "channel": GENERAL, "team": bot.team_id,
        "ts": edited_ts, "event_ts": edited_ts, "channel_type": "channel",
        "message": {"type": "message", "user": BO, "text": text, "ts": ts, "thread_ts": thread_ts,
                    "team": bot.team_id, "edited": {"user": BO, "ts": edited_ts}},
        "previous_message": {"type": "message", "user": BO, "text": before, "ts": ts, "thread_ts": thread_ts},
    }


def _delete(bot: Bot, thread_ts: str, ts: str, deleted_at: str, text: str) -> Event:
    return {
        "type": "message", "subtype": "message_deleted", "hidden": True, "channel": GENERAL, "team": bot.team_id,
        "ts": deleted_at, "event_ts": deleted_at, "deleted_ts": ts, "channel_type": "channel",
        "previous_message": {"type": "message", "user": BO, "text": text, "ts": ts, "thread_ts": thread_ts},
    }


def _history(bot: Bot, thread_ts: str, ts: str, label: str, *, deleted: bool) -> list[Event]:
    """One reply's life: posted, edited twice, and (maybe) deleted; each event as Slack sends it."""
    first, second, third = f"action: {label} first draft", f"action: {label} second draft", f"action: <@{BO}> {label} final"
    events = [
        _reply(bot, thread_ts, ts, first),
        _edit(bot, thread_ts, ts, _ts(float(ts), 10), first, second),
        _edit(bot, thread_ts, ts, _ts(float(ts), 20), second, third),
    ]
    if deleted:
        events.append(_delete(bot, thread_ts, ts, _ts(float(ts), 30), third))
    return events


def _send_all(bot: Bot, events: list[Event]) -> None:
    for index, event in enumerate(events):
        event_id = f"Ev{abs(hash((str(event.get('ts')), str(event.get('subtype')), index % len(events)))):012d}"
        assert bot.slack.send_event(event, event_id=event_id).status == 200


def test_replies_edits_and_deletes_in_every_order_settle_on_the_last_state(stack: Bot) -> None:
    bot = stack
    bot.say(ANA, "/retro start period:month")
    parent = wait_for_bot_post(bot, "Retrospective R-1")
    _wait_for_thread(bot)
    base = float(parent.ts) + 1

    kept: list[str] = []
    n = 0
    # posted, edited twice and deleted, in all 24 orders: nothing is left, whatever came last
    for order in itertools.permutations(range(4)):
        ts = _ts(base, 100 * n)
        history = _history(bot, parent.ts, ts, f"gone-{n}", deleted=True)
        sequence = [history[i] for i in order]
        _send_all(bot, sequence)
        n += 1
    # posted and edited twice, in all 6 orders: the second edit wins
    for order in itertools.permutations(range(3)):
        ts = _ts(base, 100 * n)
        label = f"kept-{n}"
        history = _history(bot, parent.ts, ts, label, deleted=False)
        _send_all(bot, [history[i] for i in order])
        kept.append(label)
        n += 1

    def notes() -> list[tuple[str, str, str | None]]:
        return [
            (c, t, o) for c, t, o in bot.rows(
                "SELECT category, text, owner_id FROM retro_notes WHERE workspace_id = :w ORDER BY message_ts", w=bot.team_id
            )
        ]

    expected = [("action", f"<@{BO}> {label} final", BO) for label in kept]
    assert notes() == expected

    closed = bot.say(ANA, "/retro close R-1")
    assert f"{len(kept)} tasks created" in closed, closed
    tasks = bot.rows("SELECT title, owner_id FROM tasks WHERE workspace_id = :w ORDER BY number", w=bot.team_id)
    assert tasks == [(f"{label} final", BO) for label in kept]


def test_retried_and_duplicated_events_in_any_order_change_nothing_more(stack: Bot) -> None:
    bot = stack
    bot.say(ANA, "/retro start period:month")
    parent = wait_for_bot_post(bot, "Retrospective R-1")
    _wait_for_thread(bot)
    base = float(parent.ts) + 1

    kept: list[str] = []
    for n, (order, deleted) in enumerate(
        [((3, 0, 3, 1, 0, 2, 1), True), ((0, 1, 2, 3, 0, 1, 2, 3), True), ((2, 0, 2, 1, 0), False),
         ((1, 1, 0, 0, 2, 1), False), ((0, 0, 0), False), ((3, 3, 0, 0), True)]
    ):
        ts = _ts(base, 100 * n)
        label = f"m-{n}"
        history = _history(bot, parent.ts, ts, label, deleted=deleted)
        for i in order:  # a repeated event is Slack's retry of the same delivery
            result = bot.slack.send_event(history[i], event_id=f"Ev{n}x{i}", retry_num=1 if order.count(i) > 1 else None)
            assert result.status == 200
        if not deleted:
            kept.append(f"<@{BO}> {label} final" if 2 in order else f"{label} {'second' if 1 in order else 'first'} draft")

    texts = [t for (t,) in bot.rows("SELECT text FROM retro_notes WHERE workspace_id = :w ORDER BY message_ts", w=bot.team_id)]
    assert texts == kept
    closed = bot.say(ANA, "/retro close R-1")
    assert f"{len(kept)} tasks created" in closed, closed
    assert len(bot.rows("SELECT id FROM tasks WHERE workspace_id = :w", w=bot.team_id)) == len(kept)
