"""`mktbot playground`: the real bot and a local Slack-compatible workspace in the browser, on 127.0.0.1.

LocalSlack serves the page (bot/playground/web) and its JSON API; the bot is the one `mktbot run` builds,
talking to LocalSlack through slack_sdk (SLACK_API_URL) and receiving signed HTTP from it. Both share a
clock the page's clock panel can move forward, so digests, reminders and retrospective prompts can be
seen without waiting for them.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.localslack import LocalSlack
from bot.localslack.playground_api import Member, PlaygroundAPI
from bot.localslack.store import SlackStore
from bot.playground.clock import ShiftableClock
from bot.playground.demo import Team
from bot.settings import Settings

__all__ = ["CHANNELS", "DEMO_TEAM", "MEMBERS", "TEAM_ID", "Playground", "main"]

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent / "web"
TEAM_ID = "T0PLAYGROUND"
TEAM_NAME = "Acme Marketing"

MEMBERS = [
    Member("U0ANA", "ana", "Ana Lima", "Marketing director", "en-US", "#e01e5a"),
    Member("U0BO", "bo", "Bo Chen", "Media operations", "en-US", "#2eb67d"),
    Member("U0LILEI", "lilei", "李雷", "策划 · Planning", "zh-CN", "#ecb22e"),
    Member("U0SARA", "sara", "Sara Kim", "Market research", "en-US", "#36c5f0"),
    Member("U0MEIMEI", "meimei", "韩梅梅", "电商运营 · E-commerce ops", "zh-CN", "#9b59b6"),
]


@dataclass(frozen=True)
class ChannelSpec:
    id: str
    name: str
    topic: str


CHANNELS = [
    ChannelSpec("C0GENERAL", "general", "Say hi · try /mkt help"),
    ChannelSpec("C0MARKETING", "marketing", "Goals, KPIs and the daily digest"),
    ChannelSpec("C0CAMPAIGNS", "campaigns", "Promotions: plans, spend, risks"),
    ChannelSpec("C0SOCIAL", "social-media", "Publishing calendar, KOL/KOC"),
    ChannelSpec("C0ECOMMERCE", "电商运营", "天猫、京东、抖音店铺的日常运营（团队语言：中文）"),
]

#: who is who in `--demo`: the digest and report in #marketing (English), the e-commerce channel in Chinese
DEMO_TEAM = Team(ana="U0ANA", bo="U0BO", lilei="U0LILEI", sara="U0SARA", meimei="U0MEIMEI",
                 marketing_channel="C0MARKETING", campaigns_channel="C0CAMPAIGNS", ecommerce_channel="C0ECOMMERCE")


def default_store_path(settings: Settings) -> Path | None:
    """Beside a SQLite database (`playground.db` → `playground.slack.db`), else in the data directory; none for
    an in-memory database."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
            return None
        path = Path(url.database)
        return path.with_name(f"{path.stem}.slack.db")
    return settings.data_dir / "playground.slack.db"


def open_store(path: Path, db: Any) -> SlackStore:
    """The local Slack's saved history, if it belongs to this database: a history saved beside another database
    (the database file was replaced or deleted) would show posts of records that are not there, so it is moved
    aside (`….slack.db.old`) and the channels start empty."""
    from bot.services.refs import ensure_workspace
    from storage.models import Workspace

    with db.session() as session:
        ensure_workspace(session, TEAM_ID, TEAM_NAME)
    with db.session(write=False) as session:
        row = session.get(Workspace, TEAM_ID)
        stamp = row.created_at.isoformat() if row is not None and row.created_at is not None else ""
    store = SlackStore(path)
    owner = store.get_meta("workspace_created")
    if owner is not None and owner != stamp:
        log.warning("%s was saved beside another database; moved aside to %s.old", path, path.name)
        for suffix in ("", "-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.replace(path.with_name(path.name + ".old" + suffix))
        store = SlackStore(path)
    if owner != stamp:
        store.set_meta("workspace_created", stamp)
    return store


class Playground:
    """Everything `main()` runs, startable and stoppable (tests start one on a free port)."""

    def __init__(
        self, settings: Settings, *, port: int = 3000, demo: bool = False, tick_seconds: int = 10,
        store_path: Path | None = None,
    ) -> None:
        self.settings = settings
        self.port = port
        self.demo = demo
        self.tick_seconds = tick_seconds
        self.clock = ShiftableClock()
        self.zone = settings.zone
        self.slack: LocalSlack | None = None
        self.app: Any = None
        self.server: Any = None
        self.scheduler: Any = None
        self.db: Any = None
        self.jobs: Any = None
        self.seeded = False
        self.history = 0  # posts seeded into the channels' history
        #: where the local Slack keeps its history across restarts (None: nowhere)
        self.store_path: Path | None = store_path if store_path is not None else default_store_path(settings)
        self.store: SlackStore | None = None
        self._lock = threading.Lock()  # one clock-panel action at a time

    @property
    def url(self) -> str:
        assert self.slack is not None, "not started"
        return self.slack.base_url

    # ---- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> Playground:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from bot.app import build_app, make_client
        from bot.server import BackgroundServer
        from jobs.context import JobContext
        from jobs.scheduler import build_scheduler
        from storage.db import open_database

        # First the port: a busy port fails fast, before anything is written.
        slack = LocalSlack(
            host="127.0.0.1", port=self.port, team_id=TEAM_ID, team_name=TEAM_NAME, clock=self.clock.timestamp,
            static_dir=WEB_DIR,
        )
        self.slack = slack.start()
        tz = self.zone.key
        for m in MEMBERS:
            slack.add_user(m.id, m.name, real_name=m.real_name, display_name=m.real_name if m.locale == "zh-CN" else m.name,
                           tz=tz, locale=m.locale, email=f"{m.name}@acme.example")
        for ch in CHANNELS:
            slack.add_channel(ch.id, ch.name, members=[m.id for m in MEMBERS], topic=ch.topic)

        self.db = open_database(self.settings.database_url)
        bot_settings = Settings(
            api_url=slack.api_url, bot_token=slack.bot_token, signing_secret=slack.signing_secret,
            database_url=self.settings.database_url, timezone=self.settings.timezone,
            listener_threads=8,
        )
        if self.store_path is not None:
            self.store = open_store(self.store_path, self.db)
            self.store.attach(slack)
            # the clock panel's moves are part of the history: a restart goes on from the time it had reached
            offset = float(self.store.get_meta("clock_offset") or 0)
            if offset > 0:
                self.clock.advance(timedelta(seconds=offset))
        if self.demo:
            from bot.playground.demo import seed_demo
            from bot.playground.history import seed_history

            self.seeded = seed_demo(self.db, workspace_id=TEAM_ID, team=DEMO_TEAM, today=self.today(), zone=tz)
            if self.seeded:
                self.history = len(seed_history(self.db, slack, make_client(bot_settings, retries=True),
                                                workspace_id=TEAM_ID, team=DEMO_TEAM, today=self.today(), zone=tz))

        self.app = build_app(bot_settings, db=self.db, clock=self.clock)
        self.server = BackgroundServer(self.app, host="127.0.0.1", port=0, threads=8).start()
        slack.bot_url = self.server.url
        # The clock panel's own job context: quick pacing, so a day of posts lands in a second or two.
        self.jobs = JobContext(
            db=self.db, client=make_client(bot_settings, retries=True), zone=self.zone, clock=self.clock,
            per_channel_interval=0.05,
        )
        self.scheduler = build_scheduler(self.jobs, name=f"playground-{slack.port}", tick_seconds=self.tick_seconds)
        self.scheduler.start()
        slack.playground = PlaygroundAPI(slack, members=MEMBERS, hooks=self)

    def stop(self) -> None:
        if self.scheduler is not None:
            # Let a running tick finish while Slack and the database are still up; its pool threads would
            # otherwise keep the interpreter from exiting.
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.app is not None:
            # Follow-ups still running finish against a live local Slack, then nothing is left to join at exit.
            for executor in (getattr(self.app.listener_runner, "listener_executor", None), self.app.runtime.background):
                if executor is not None:
                    executor.shutdown(wait=True, cancel_futures=True)
            self.app = None
        if self.store is not None:
            self.store.close()
            self.store = None
        if self.slack is not None:
            self.slack.stop()
        if self.db is not None:
            self.db.dispose()
            self.db = None

    # ---- the clock panel (bot.localslack.playground_api.ClockHooks) ----------------------------------------

    def today(self) -> Any:
        return self.clock().astimezone(self.zone).date()

    def clock_state(self) -> dict[str, Any]:
        now = self.clock().astimezone(self.zone)
        return {
            "now": now.isoformat(),
            "zone": self.zone.key,
            "date": now.strftime("%a %b %-d, %Y"),
            "time": now.strftime("%H:%M"),
            "offset_hours": round(self.clock.offset.total_seconds() / 3600, 2),
        }

    def run_digest(self, channel: str) -> str:
        from jobs.now import enqueue_digest_now

        with self._lock:
            enqueue_digest_now(self.jobs, workspace_id=TEAM_ID, channel=channel,
                               key=f"playground-digest:{channel}:{uuid.uuid4().hex}")
        return "Today's digest is posted."

    def run_schedules(self) -> str:
        """Every active schedule of the team posts now (its slot need not have come), then one heartbeat."""
        from sqlalchemy import select

        from bot.posts.kinds import SCHEDULED
        from jobs.tick import DueSlot, tick
        from storage.models import Schedule

        with self._lock:
            now = self.clock()
            with self.db.session(write=False) as session:
                rows = [
                    DueSlot(r.id, r.workspace_id, r.kind, r.slack_channel_id, now, r.timezone)
                    for r in session.scalars(
                        select(Schedule).where(Schedule.workspace_id == TEAM_ID, Schedule.active.is_(True))
                    )
                ]
            for due in rows:
                post = SCHEDULED[due.kind]
                with self.db.session(write=False) as session:
                    draft = post.compose(session, workspace_id=TEAM_ID, today=now.astimezone(self.zone).date(),
                                         channel=due.channel)
                with self.db.session() as session:
                    post.enqueue(session, draft, workspace_id=TEAM_ID, now=now, channel=due.channel,
                                 key=f"playground:{due.kind}:{due.schedule_id}:{uuid.uuid4().hex}",
                                 payload={"schedule_id": due.schedule_id})
            result = tick(self.jobs)
        if not rows:
            return (f"No schedules yet (try /mkt schedule digest 09:30 in a channel); "
                    f"{_plural(result.delivery.sent, 'reminder or retro post')} sent.")
        return f"Ran {_plural(len(rows), 'schedule')}: {_plural(result.delivery.sent, 'post')} sent."

    def advance(self, hours: int) -> str:
        """Move the clock an hour at a time, with a heartbeat each hour, as if the bot had been running."""
        from bot.playground.demo import log_day
        from jobs.tick import tick

        sent = 0
        with self._lock:
            for _ in range(hours):
                day_before = self.today()
                self.clock.advance(timedelta(hours=1))
                if self.today() != day_before:  # the demo team logs yesterday's numbers, as teams do
                    log_day(self.db, workspace_id=TEAM_ID, day=day_before, user_id="U0BO")
                sent += tick(self.jobs).delivery.sent
            if self.store is not None:
                self.store.set_meta("clock_offset", str(self.clock.offset.total_seconds()))
        now = self.clock().astimezone(self.zone)
        days, rest = divmod(hours, 24)
        what = _plural(days, "day") if not rest else _plural(hours, "hour")
        return f"Moved {what} ahead to {now:%a %b %-d, %H:%M}; {_plural(sent, 'post')} sent."


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


DEMO_HINT = "make demo (or: mktbot playground --demo)"


def startup_lines(playground: Playground, settings: Settings, *, demo: bool) -> str:
    """What a person starting the playground reads: where to open it, what it keeps where, how to see the demo."""
    port = playground.slack.port if playground.slack else playground.port
    started = datetime.now(UTC).astimezone(playground.zone)
    lines = [
        f"\nOpen http://127.0.0.1:{port} in your browser to try mktbot (no Slack account needed).",
        f"  database: {settings.database_url} · time zone: {playground.zone.key} · started {started:%H:%M}",
    ]
    if playground.store_path is not None:
        lines.append(f"  channel history: {playground.store_path} (kept across restarts)")
    if not demo:
        lines.append(f"  To see a team with three months of data and its channels' history: {DEMO_HINT}")
    lines.append("  Ctrl-C stops it.")
    return "\n".join(lines)


def main(settings: Settings, port: int = 3000, demo: bool = False) -> int:
    """Run the playground until Ctrl-C (or SIGTERM)."""
    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        # SIGTERM (a service manager, `kill`) stops it as Ctrl-C does: the channels' history is saved first
        previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    try:
        return _run(settings, port=port, demo=demo, stop=stop)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run(settings: Settings, *, port: int, demo: bool, stop: threading.Event) -> int:
    playground = Playground(settings, port=port, demo=demo)
    if demo:
        print("Seeding the demo team (three months of KPIs, goals, campaigns, tasks, and the bot's recent posts)…",
              flush=True)
    try:
        playground.start()
    except OSError as exc:
        print(f"Cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}). Try: mktbot playground --port {port + 1}",
              file=sys.stderr)
        return 2
    if demo and not playground.seeded:
        print("The demo team was seeded before; using its data and history as they are.")
    elif demo:
        print(f"Posted {_plural(playground.history, 'message')} of recent history (digests, the weekly report, "
              "a retrospective).")
    print(startup_lines(playground, settings, demo=demo), flush=True)
    try:
        while not stop.wait(1):
            continue
    except KeyboardInterrupt:
        stop.set()
    print("\nStopping the playground…")
    playground.stop()
    return 0
