"""Shared fixtures: real databases (SQLite file, PostgreSQL when TEST_POSTGRES_URL is set), clocks, workspaces."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.db import Database, normalise_url, open_database

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("MKTBOT_REQUIRE_POSTGRES") == "1"


def _missing_postgres() -> None:
    if REQUIRE_POSTGRES:
        pytest.fail("TEST_POSTGRES_URL is required here (MKTBOT_REQUIRE_POSTGRES=1) but not set")
    pytest.skip("TEST_POSTGRES_URL not set")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    if not POSTGRES_URL:
        _missing_postgres()
    assert POSTGRES_URL is not None
    base = make_url(normalise_url(POSTGRES_URL))
    name = f"mktbot_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_db(postgres_url: str) -> Iterator[Database]:
    db = open_database(postgres_url)
    yield db
    db.dispose()


@pytest.fixture
def sqlite_db(tmp_path: object) -> Iterator[Database]:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    db = open_database(f"sqlite:///{tmp_path / 'mktbot.db'}")
    yield db
    db.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest) -> Database:
    """Every storage and service test runs on both databases, schema built by the migrations."""
    if request.param == "postgres":
        return request.getfixturevalue("postgres_db")
    return request.getfixturevalue("sqlite_db")


@pytest.fixture
def workspace() -> str:
    """A fresh workspace id per test: rows are scoped by it, so tests on a shared database never meet."""
    return "T" + uuid.uuid4().hex[:10].upper()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
