"""One conversation harness: LocalSlack <-> the real Bolt app on waitress, over signed HTTP, and a `Bot` that
acts like the people in the workspace: type a command, wait for the modal, fill it in, click a button.

    bot.say(ANA, "/task add Banner @bo due:fri")   # -> Said: what the bot answered (a str)
    bot.reply_to(ANA, "/task list")                # -> the Message Slack showed for the ack

`Said` is the reply text (fallback `text` plus every text in its blocks) with the HTTP status, the raw
ack body and whether Slack showed it only to the user (ephemeral) or to the channel.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from slack_sdk.models.views import View
from sqlalchemy import column as sa_column
from sqlalchemy import func, inspect, select, table
from sqlalchemy import text as sql_text

from bot.app import build_app
from bot.ids import ActionId, BlockId
from bot.localslack import HTTPResult, LocalSlack, Message
from bot.server import BackgroundServer
from bot.settings import Settings
from storage.db import Database
from tests.conftest import Clock
from tests.support.text import texts

ANA = "U0ANA"
BO = "U0BO"
LILEI = "U0LILEI"  # 李雷, Slack locale zh-CN
GENERAL = "C0GENERAL"
MARKETING = "C0MARKETING"

#: Monday 2026-11-23, 10:00 in Asia/Shanghai
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)

#: the tables `Bot.counts()` reports
COUNTED = ("tasks", "goals", "campaigns", "feedback", "goal_checkins", "retro_notes")

Values = dict[str, dict[str, Any]]


def new_team_id() -> str:
    return "T" + uuid.uuid4().hex[:10].upper()


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


def block(view_or_blocks: Any, block_id: str) -> dict[str, Any] | None:
    blocks = view_or_blocks.get("blocks") if isinstance(view_or_blocks, dict) else view_or_blocks
    return next((b for b in blocks or [] if b.get("block_id") == block_id), None)


def reply_texts(body: Any) -> list[str]:
    """The ack's top-level text and every text in its blocks, in order."""
    if not isinstance(body, dict):
        return [body] if isinstance(body, str) and body else []
    fallback = [body["text"]] if isinstance(body.get("text"), str) else []
    return fallback + texts(body.get("blocks") or [])


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

    # ---- a person at the keyboard -----------------------------------------------------------------

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
    # Read-only connections: on SQLite a writing one would wait for the bot's write lock.

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """`sql`'s rows; `:team` is this bot's workspace unless given."""
        with self.db.engine.execution_options(mktbot_read_only=True).connect() as conn:
            return [tuple(r) for r in conn.execute(sql_text(sql), {"team": self.team_id, **params})]

    def count(self, table_name: str) -> int:
        return int(self.rows(f"SELECT count(*) FROM {table_name} WHERE workspace_id = :team")[0][0])

    def counts(self) -> dict[str, int]:
        """This workspace's rows in the tables people fill from Slack."""
        return {t: self.count(t) for t in COUNTED}

    def row_counts(self, *team_ids: str) -> dict[str, int]:
        """Rows per table: scoped to `team_ids` (default: this bot's team) where a table has a workspace."""
        teams = list(team_ids) or [self.team_id]
        counts: dict[str, int] = {}
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


def make_slack(team_id: str) -> LocalSlack:
    slack = LocalSlack(team_id=team_id, team_name="Acme Marketing").start()
    slack.add_user(ANA, "ana", real_name="Ana Lima", tz="Asia/Shanghai", locale="en-US")
    slack.add_user(BO, "bo", real_name="Bo Chen", tz="Asia/Shanghai", locale="en-US")
    slack.add_user(LILEI, "lilei", real_name="李雷", display_name="李雷", tz="Asia/Shanghai", locale="zh-CN")
    slack.add_channel(GENERAL, "general", members=[ANA, BO, LILEI])
    slack.add_channel(MARKETING, "marketing", members=[ANA, LILEI])
    return slack


@contextmanager
def running_bot(db: Database, *, clock: Clock, team_id: str, listener_threads: int = 4) -> Iterator[Bot]:
    """The whole stack on `db`; on leaving, every lazy listener has finished and both servers are down."""
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
            listener_threads=listener_threads,
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


def dump(bot: Bot) -> str:
    """For assertion messages."""
    return bot.slack.dump(limit=10)


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)[:2000]
