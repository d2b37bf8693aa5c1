"""A scheduled post Slack refuses for the token's sake: failed at once, and `/mkt schedule list` says why."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from jobs.tick import tick
from storage.db import Database
from tests.conftest import Clock
from tests.support.harness import ANA, NOW, Bot, new_team_id, running_bot


@pytest.fixture
def bot(sqlite_db: Database, clock: Clock) -> Iterator[Bot]:
    clock.set(NOW)  # 10:00 in Shanghai
    with running_bot(sqlite_db, clock=clock, team_id=new_team_id()) as running:
        yield running


@pytest.mark.parametrize("error", ["token_revoked", "missing_scope"])
def test_schedule_list_shows_the_refused_post_as_failed_with_slacks_error(bot: Bot, error: str) -> None:
    assert "S-1" in bot.reply_to(ANA, "/mkt schedule digest 09:30").all_text()
    bot.slack.add_response("chat.postMessage", body={"ok": False, "error": error})
    tomorrow = NOW + timedelta(days=1)  # a new schedule starts from its next slot: 09:30 tomorrow is due
    result = tick(bot.app.runtime.jobs, now=tomorrow)
    assert result.delivery.failure_codes == [error]
    listed = bot.reply_to(ANA, "/mkt schedule list").all_text()
    assert "failed" in listed and f"({error})" in listed, listed
    assert tick(bot.app.runtime.jobs, now=tomorrow + timedelta(hours=1)).delivery.handled == 0  # not retried
    assert len(bot.slack.get_calls("chat.postMessage")) == 1
