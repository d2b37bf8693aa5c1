"""Interactive fixtures: the whole stack (tests/support/harness.py) with the people who click and type in it.

Every view the bot sends to views.open / views.publish is checked against slack_sdk's own Block Kit
models, and every Web API call against Slack's spec, when the test ends.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storage.db import Database
from tests.conftest import Clock
from tests.support import slack_spec
from tests.support.harness import NOW, Bot, check_views, new_team_id, running_bot


@pytest.fixture
def bot(sqlite_db: Database, clock: Clock) -> Iterator[Bot]:
    clock.set(NOW)
    with running_bot(sqlite_db, clock=clock, team_id=new_team_id(), listener_threads=8) as running:
        yield running
        check_views(running.slack)
        slack_spec.assert_calls_conform(running.slack)
