"""End-to-end fixtures: the whole stack (tests/support/harness.py) on SQLite, on both databases, or per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.db import Database, open_database
from tests.conftest import Clock
from tests.support.harness import NOW, Bot, new_team_id, running_bot


@pytest.fixture
def bot(sqlite_db: Database, clock: Clock) -> Iterator[Bot]:
    """The whole stack on a fresh SQLite database."""
    clock.set(NOW)
    with running_bot(sqlite_db, clock=clock, team_id=new_team_id()) as running:
        yield running


@pytest.fixture
def any_db_bot(db: Database, clock: Clock) -> Iterator[Bot]:
    """The whole stack on SQLite and on PostgreSQL (a unique team id keeps the shared database apart)."""
    clock.set(NOW)
    with running_bot(db, clock=clock, team_id=new_team_id()) as running:
        yield running


@pytest.fixture(scope="module")
def module_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    """One stack for a whole module (table-driven and property tests), on its own SQLite file."""
    path: Path = tmp_path_factory.mktemp("e2e") / "mktbot.db"
    database = open_database(f"sqlite:///{path}")
    try:
        with running_bot(database, clock=Clock(NOW), team_id=new_team_id()) as running:
            yield running
    finally:
        database.dispose()
