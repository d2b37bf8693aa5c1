"""The real stack (waitress, the Bolt app, the API beside it) with a workspace token, for HTTP tests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.services import api_tokens
from storage.db import Database
from tests.conftest import Clock
from tests.e2e.conftest import NOW, Bot, new_team_id, running_bot


@dataclass
class Api:
    bot: Bot
    base: str
    token: str

    @property
    def team_id(self) -> str:
        return self.bot.team_id

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                ) -> tuple[int, dict[str, str], Any]:
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {}, method=method)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=20) as resp:
                status, head, raw = resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
        except urllib.error.HTTPError as err:
            status, head, raw = err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()
        try:
            return status, head, json.loads(raw) if raw else None
        except ValueError:
            return status, head, raw.decode("utf-8", "replace")

    def post(self, payload: Any, *, token: str | None = None) -> tuple[int, Any]:
        status, _, body = self.request("POST", "/api/v1/kpis", json.dumps(payload, ensure_ascii=False).encode(), {
            "Content-Type": "application/json", "Authorization": f"Bearer {token or self.token}",
        })
        return status, body


def make_token(db: Database, team_id: str, name: str = "tests") -> str:
    with db.session() as session:
        return api_tokens.create_token(session, workspace_id=team_id, name=name, user_id=None)[1]


def _api(db: Database) -> Iterator[Api]:
    with running_bot(db, clock=Clock(NOW), team_id=new_team_id()) as bot:
        yield Api(bot, f"http://127.0.0.1:{bot.server.server.effective_port}", make_token(db, bot.team_id))


@pytest.fixture
def api(db: Database) -> Iterator[Api]:
    """The API on SQLite and on PostgreSQL, a fresh workspace and token each test."""
    yield from _api(db)


@pytest.fixture(scope="module")
def module_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One stack for a module (the schemathesis run), on its own SQLite file."""
    from storage.db import open_database

    database = open_database(f"sqlite:///{tmp_path_factory.mktemp('api') / 'mktbot.db'}")
    try:
        yield from _api(database)
    finally:
        database.dispose()
