"""Harness for the interactive tests: LocalSlack <-> the real Bolt app over signed HTTP, plus helpers that act
like a person: type a command, wait for the modal, fill it in, click a button.

Every view the bot sends to views.open / views.publish is checked against slack_sdk's own Block Kit
models, and every Web API call against Slack's spec, when the test ends.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.app import build_app
from bot.ids import ActionId, BlockId
from bot.localslack import HTTPResult, LocalSlack, Message
from bot.server import BackgroundServer
from bot.settings import Settings
from storage.db import Database, open_database
from tests.conftest import Clock
from tests.support import slack_spec

ANA = "U0ANA"
BO = "U0BO"
LILEI = "U0LILEI"  # 李雷, Slack locale zh-CN
GENERAL = "C0GENERAL"
MARKETING = "C0MARKETING"

#: Monday 2026-11-23, 10:00 in Asia/Shanghai
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)

Values = dict[str, dict[str, Any]]


def fill(**fields: Any) -> Values:
    """What a person typed or picked, by field: fill(title="Banner", due="2026-11-27") → submit_view values."""
    return {BlockId(name): {ActionId.FIELD: value} for name, value in fields.items()}


def wait_until(predicate: Callable[[], Any], *, timeout: float = 5.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def view_of(args: dict[str, Any]) -> dict[str, Any]:
    view = args.get("view")
    return json.loads(view) if isinstance(view, str) else dict(view or {})


def texts(node: Any) -> list[str]:
    """Every text in a view or blocks (labels, options, placeholders, buttons)."""
    out: list[str] = []
    if isinstance(node, dict):
        if isinstance(node.get("text"), str):
            out.append(node["text"])
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                out.extend(texts(value))
    elif isinstance(node, list):
        for item in node:
            out.extend(texts(item))
    return out


def block(view_or_blocks: Any, block_id: str) -> dict[str, Any] | None:
    blocks = view_or_blocks.get("blocks") if isinstance(view_or_blocks, dict) else view_or_blocks
    return next((b for b in blocks or [] if b.get("block_id") == block_id), None)


@dataclass
class Bot:
    slack: LocalSlack
    app: Any
    server: BackgroundServer
    db: Database
    clock: Clock
    team_id: str

    # ---- a person at the keyboard -----------------------------------------------------------------

    def say(self, user: str, line: str, *, channel: str = GENERAL) -> HTTPResult:
        command, _, text = line.partition(" ")
        return self.slack.send_command(command, text, user_id=user, channel_id=channel, team_id=self.team_id)

    def reply_to(self, user: str, line: str, *, channel: str = GENERAL) -> Message:
        """Type a command and return the message Slack showed for its ack."""
        before = len(self.slack.messages)
        result = self.say(user, line, channel=channel)
        assert result.status == 200 and not result.late, result
        shown = [m for m in self.slack.messages[before:] if m.source == "command_ack"]
        assert shown, f"no reply shown for {line!r}: {result.body!r}"
        return shown[-1]

    def modals_opened(self, user: str) -> list[dict[str, Any]]:
        return [v for v in list(self.slack.views) if v["method"] == "views.open" and v["user_id"] == user]

    def opened_modal(self, user: str, *, count: int = 1) -> dict[str, Any]:
        """The `count`-th modal views.open showed `user` (waits for the lazy listener): the full view, with its id."""
        opened = wait_until(lambda: self.modals_opened(user)[count - 1 :], what=f"modal #{count} for {user}")
        view = self.slack.get_view(opened[0]["id"])
        assert view is not None
        return view

    def open_modal(self, user: str, line: str, *, channel: str = GENERAL) -> dict[str, Any]:
        """Type `/task` (or /goal …) with no text: the modal it opens."""
        before = len(self.modals_opened(user))
        result = self.say(user, line, channel=channel)
        assert result.status == 200 and not result.late, result
        assert not result.body, f"an empty command opens a modal and acks with nothing, got {result.body!r}"
        return self.opened_modal(user, count=before + 1)

    def submit(self, view: dict[str, Any], user: str, values: Values) -> HTTPResult:
        result = self.slack.submit_view(view["id"], user_id=user, values=values)
        assert result.status == 200 and not result.late, result
        return result

    def click(self, target: Message | str, action_id: str, user: str, value: Any = None) -> HTTPResult:
        result = self.slack.click_button(target, action_id, user_id=user, value=value)
        assert result.status == 200 and not result.late, result
        return result

    def ephemeral_to(self, user: str, *, containing: str, timeout: float = 5.0) -> Message:
        return self.slack.wait_for_message(
            where=lambda m: m.ephemeral_user == user and containing in m.all_text(), timeout=timeout
        )

    def home(self, user: str, *, containing: str | None = None, timeout: float = 5.0) -> dict[str, Any]:
        """The user's Home tab once it shows `containing` (the publish happens in a lazy listener)."""
        def current() -> dict[str, Any] | None:
            view = self.slack.home_view(user)
            if view is None:
                return None
            if containing is not None and not any(containing in s for s in texts(view.get("blocks"))):
                return None
            return view

        return wait_until(current, timeout=timeout, what=f"{user}'s Home showing {containing!r}")

    # ---- the database -------------------------------------------------------------------------------

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        from sqlalchemy import text

        with self.db.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), {"team": self.team_id, **params})]

    def count(self, table: str) -> int:
        return int(self.rows(f"SELECT count(*) FROM {table} WHERE workspace_id = :team")[0][0])

    def counts(self) -> dict[str, int]:
        return {t: self.count(t) for t in ("tasks", "goals", "campaigns", "feedback", "goal_checkins", "retro_notes")}


def check_views(slack: LocalSlack) -> None:
    """Every view sent to Slack validates with slack_sdk's Block Kit models and stays within the limits."""
    for method in ("views.open", "views.publish", "views.update", "views.push"):
        for args in slack.get_calls(method):
            raw = view_of(args)
            View(**raw).validate_json()
            limit = 100
            assert len(raw.get("blocks") or []) <= limit, f"{method}: {len(raw['blocks'])} blocks"
            assert len(raw.get("private_metadata") or "") < 3000
            for key in ("title", "submit", "close"):
                if raw.get(key):
                    assert len(raw[key]["text"]) <= 24, raw[key]


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[Bot]:
    team_id = "T" + uuid.uuid4().hex[:10].upper()
    clock = Clock(NOW)
    slack = LocalSlack(team_id=team_id, team_name="Acme Marketing").start()
    slack.add_user(ANA, "ana", real_name="Ana Lima", tz="Asia/Shanghai", locale="en-US")
    slack.add_user(BO, "bo", real_name="Bo Chen", tz="Asia/Shanghai", locale="en-US")
    slack.add_user(LILEI, "lilei", real_name="李雷", display_name="李雷", tz="Asia/Shanghai", locale="zh-CN")
    slack.add_channel(GENERAL, "general", members=[ANA, BO, LILEI])
    slack.add_channel(MARKETING, "marketing", members=[ANA, LILEI])
    db = open_database(f"sqlite:///{tmp_path / 'mktbot.db'}")
    server: BackgroundServer | None = None
    app: Any = None
    try:
        settings = Settings(
            api_url=slack.api_url,
            bot_token=slack.bot_token,
            signing_secret=slack.signing_secret,
            database_url=f"sqlite:///{tmp_path / 'mktbot.db'}",
            timezone="Asia/Shanghai",
            listener_threads=8,
        )
        app = build_app(settings, db=db, clock=clock)
        server = BackgroundServer(app, port=0, threads=8).start()
        slack.bot_url = server.url
        running = Bot(slack=slack, app=app, server=server, db=db, clock=clock, team_id=team_id)
        yield running
        check_views(slack)
        slack_spec.assert_calls_conform(slack)
    finally:
        if server is not None:
            server.stop()
        if app is not None:
            executor = getattr(app.listener_runner, "listener_executor", None)
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)
        slack.stop()
        db.dispose()
