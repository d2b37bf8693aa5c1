"""A retro reply belongs to the workspace the event was delivered to, not to the author's home team."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from storage.db import Database
from tests.conftest import Clock
from tests.jobs.test_retro_flow import started_retro
from tests.support.harness import BO, GENERAL, NOW, Bot, new_team_id, running_bot


@pytest.fixture
def stack(db: Database, clock: Clock) -> Iterator[Bot]:
    clock.set(NOW)
    with running_bot(db, clock=clock, team_id=new_team_id()) as running:
        yield running


def reply_event(bot: Bot, thread_ts: str, text: str, *, author_team: str, user: str = BO) -> dict[str, object]:
    ts = f"{time.time():.6f}"
    return {
        "type": "message", "channel": GENERAL, "user": user, "text": text, "ts": ts,
        "thread_ts": thread_ts, "team": author_team, "user_team": author_team, "source_team": author_team,
        "channel_type": "channel", "event_ts": ts,
    }


def notes(bot: Bot, team: str) -> list[str]:
    return [r[0] for r in bot.rows("SELECT text FROM retro_notes WHERE workspace_id = :w ORDER BY id", w=team)]


def test_a_slack_connect_guest_reply_is_recorded_in_the_thread_workspace(stack: Bot) -> None:
    bot = stack
    thread_ts = started_retro(bot)
    guest_team = new_team_id()
    result = bot.slack.send_event(reply_event(bot, thread_ts, "went well: the guest's note", author_team=guest_team))
    assert result.status == 200
    assert notes(bot, bot.team_id) == ["the guest's note"]
    assert notes(bot, guest_team) == []


def test_an_event_for_another_workspace_never_writes_into_this_ones_retro(stack: Bot) -> None:
    bot = stack
    thread_ts = started_retro(bot)
    other = new_team_id()
    # delivered to another workspace, written by someone whose home team is this one
    event = reply_event(bot, thread_ts, "went well: forged", author_team=bot.team_id)
    result = bot.slack.send_event(event, team_id=other)
    assert result.status == 200
    assert notes(bot, bot.team_id) == []
    assert notes(bot, other) == []
