"""End-to-end harness: LocalSlack <-> the real Bolt app on waitress, over signed HTTP.

    bot.say(ANA, "/task add Banner @bo due:fri")   # -> Said: what the bot answered (a str)

`Said` is the reply text (fallback `text` plus every text in its blocks) with the HTTP status, the raw
ack body and whether Slack showed it only to the user (ephemeral) or to the channel.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import column as sa_column
from sqlalchemy import func, inspect, select, table

from bot.app import build_app
from bot.localslack import LocalSlack, Message
from bot.server import BackgroundServer
from bot.settings import Settings
from storage.db import Database, open_database
from tests.conftest import Clock

ANA = "U0ANA"
BO = "U0BO"
LILEI = "U0LILEI"  # 李雷, zh-CN
GENERAL = "C0GENERAL"
MARKETING = "C0MARKETING"

#: 2026-11-23 10:00 in Asia/Shanghai (a Monday)
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def new_team_id() -> str:
    return "T" + uuid.uuid4().hex[:10].upper()


def reply_texts(body: Any) -> list[str]:
    """The ack's top-level text and every text object in its blocks, in order."""
    out: list[str] = []
    if not isinstance(body, dict):
        return [body] if isinstance(body, str) and body else []
    if isinstance(body.get("text"), str):
        out.append(body["text"])

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for key, value in node.items():
                if key != "text" or not isinstance(value, str):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(body.get("blocks") or [])
    return out


def formatted_texts(body: Any) -> list[str]:
    """The texts Slack parses for <!channel>, <@U…> and links: the fallback `text` and mrkdwn objects."""
    if not isinstance(body, dict):
        return []
    out = [body["text"]] if isinstance(body.get("text"), str) else []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(body.get("blocks") or [])
    return out


class Said(str):
    """What the bot answered to one slash command (the string is every text in the reply)."""

    status: int
    body: Any
    message: Message | None
    elapsed: float
    late: bool

    @classmethod
    def of(cls, status: int, body: Any, message: Message | None, elapsed: float, late: bool) -> Said:
        said = cls("\n".join(reply_texts(body)))
        said.status, said.body, said.message, said.elapsed, said.late = status, body, message, elapsed, late
        return said

    @property
    def ephemeral(self) -> bool:
        """Shown only to the user who typed the command (Slack's default for a command answer)."""
        return isinstance(self.body, dict) and self.body.get("response_type", "ephemeral") != "in_channel"

    @property
    def in_channel(self) -> bool:
        return isinstance(self.body, dict) and self.body.get("response_type") == "in_channel"

    @property
    def fallback(self) -> str:
        return self.body.get("text", "") if isinstance(self.body, dict) else ""


@dataclass
class Bot:
    slack: LocalSlack
    app: Any
    server: BackgroundServer
    db: Database
    clock: Clock
    team_id: str

    def say(self, user: str, line: str, *, channel: str = GENERAL, team_id: str | None = None) -> Said:
        """`user` types `line` ("/task add …") in `channel`; returns what the bot answered."""
        command, _, text = line.partition(" ")
        before = len(self.slack.messages)
        result = self.slack.send_command(
            command, text, user_id=user, channel_id=channel, team_id=team_id or self.team_id
        )
        shown = [
            m
            for m in self.slack.messages[before:]
            if m.source == "command_ack" and m.user == self.slack.bot_user_id
        ]
        return Said.of(result.status, result.body, shown[-1] if shown else None, result.elapsed, result.late)

    # ---- raw HTTP, for the signature tests ---------------------------------------------------------

    def command_body(
        self, command: str, text: str, *, user: str = ANA, channel: str = GENERAL, team_id: str | None = None
    ) -> bytes:
        """The form Slack posts for a slash command (unsigned: the caller chooses the headers)."""
        fields = {
            "token": self.slack.verification_token,
            "team_id": team_id or self.team_id,
            "team_domain": self.slack.team_domain,
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "ana",
            "command": command,
            "text": text,
            "api_app_id": self.slack.app_id,
            "is_enterprise_install": "false",
            "response_url": f"{self.slack.base_url}/response/{uuid.uuid4().hex}",
            "trigger_id": self.slack.issue_trigger_id(user),
        }
        return urllib.parse.urlencode(fields).encode()

    def post_raw(self, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        request = urllib.request.Request(
            self.server.url,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
            method="POST",
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as resp:
                return resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode("utf-8", "replace")

    # ---- the database --------------------------------------------------------------------------------

    def row_counts(self, *team_ids: str) -> dict[str, int]:
        """Rows per table: scoped to `team_ids` (default: this bot's team) where a table has a workspace."""
        teams = list(team_ids) or [self.team_id]
        counts: dict[str, int] = {}
        # One read-only connection (on SQLite a second one would wait for the first one's write lock).
        with self.db.engine.execution_options(mktbot_read_only=True).connect() as conn:
            inspector = inspect(conn)
            for name in sorted(inspector.get_table_names()):
                if name == "alembic_version":
                    continue
                columns = {c["name"] for c in inspector.get_columns(name)}
                query = select(func.count()).select_from(table(name))
                if name == "workspaces":
                    query = query.where(sa_column("id").in_(teams))
                elif "workspace_id" in columns:
                    query = query.where(sa_column("workspace_id").in_(teams))
                counts[name] = int(conn.execute(query).scalar_one())
        return counts

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        from sqlalchemy import text

        with self.db.engine.execution_options(mktbot_read_only=True).connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]


def make_slack(team_id: str) -> LocalSlack:
    slack = LocalSlack(team_id=team_id, team_name="Acme Marketing").start()
    slack.add_user(ANA, "ana", real_name="Ana Lima", tz="Asia/Shanghai")
    slack.add_user(BO, "bo", real_name="Bo Chen", tz="Asia/Shanghai")
    slack.add_user(LILEI, "lilei", real_name="李雷", display_name="李雷", tz="Asia/Shanghai", locale="zh-CN")
    slack.add_channel(GENERAL, "general", members=[ANA, BO, LILEI])
    slack.add_channel(MARKETING, "marketing", members=[ANA, LILEI])
    return slack


@contextmanager
def running_bot(db: Database, *, clock: Clock, team_id: str) -> Iterator[Bot]:
    slack = make_slack(team_id)
    server: BackgroundServer | None = None
    app: Any = None
    try:
        settings = Settings(
            api_url=slack.api_url,
            bot_token=slack.bot_token,
            signing_secret=slack.signing_secret,
            database_url=db.engine.url.render_as_string(hide_password=False),
            timezone="Asia/Shanghai",
            listener_threads=4,
        )
        app = build_app(settings, db=db, clock=clock)
        server = BackgroundServer(app, port=0, threads=8)
        # waitress notices a close only when its poll times out (1 s by default): 1 s per teardown.
        server.server.adj.asyncore_loop_timeout = 0.05
        server.start()
        slack.bot_url = server.url
        yield Bot(slack=slack, app=app, server=server, db=db, clock=clock, team_id=team_id)
    finally:
        # Lazy listeners (locale look-ups, Home tabs, digests) finish while LocalSlack still answers them.
        executor = getattr(getattr(app, "listener_runner", None), "listener_executor", None)
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        if server is not None:
            server.stop()
        slack.stop()


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


def dump(bot: Bot) -> str:
    """For assertion messages."""
    return bot.slack.dump(limit=10)


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)[:2000]
