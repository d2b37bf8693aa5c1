"""Job tests: the real job cores against the local Slack-compatible server and a real database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy import delete, update

from bot.localslack import LocalSlack
from jobs.context import JobContext
from storage.db import Database
from storage.models import Goal, KpiValue, NotificationEvent, Outbox, Schedule, Task
from tests.conftest import Clock

CHANNELS = ["C0MKT", "C0GROWTH", "C0SOCIAL"]


@pytest.fixture
def slack() -> Iterator[LocalSlack]:
    server = LocalSlack(team_id="T0JOBS")
    server.add_user("U0ANA", "ana", real_name="Ana Li", tz="Asia/Shanghai")
    server.add_user("U0BO", "bo", real_name="Bo Wang", tz="Asia/Shanghai", locale="zh-CN")
    for channel in CHANNELS:
        server.add_channel(channel, channel.lower()[2:], members=["U0ANA", "U0BO"])
    with server:
        yield server


def make_ctx(db: Database, slack: LocalSlack, clock: Clock, *, worker: str = "w1", timeout: int = 5) -> JobContext:
    client = WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=timeout)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return JobContext(
        db=db, client=client, zone=ZoneInfo("Asia/Shanghai"), clock=clock, worker=worker, per_channel_interval=0.0
    )


@pytest.fixture
def job_clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 0, 0, tzinfo=UTC))  # 08:00 in Shanghai, a Monday


@pytest.fixture
def ctx(db: Database, slack: LocalSlack, job_clock: Clock) -> JobContext:
    # Jobs work across all workspaces (as they must): start each test with no leftovers in the shared database.
    with db.session() as s:
        s.execute(delete(Outbox))
        s.execute(update(Schedule).values(active=False))
        s.execute(update(Task).values(status="done"))  # other tests' open tasks would get reminders here
        s.execute(update(Goal).values(status="closed"))  # … their goals check-in nudges
        s.execute(delete(KpiValue))  # … their usual loggers the KPI watchdog's
        s.execute(update(NotificationEvent).where(NotificationEvent.batch_key.is_(None)).values(batch_key="earlier"))
    from bot.posts import notify, nudge

    notify._not_before.clear()  # per-process caches keyed by an engine's id, which a new engine may reuse
    nudge._first_scan.clear()
    nudge._done.clear()
    return make_ctx(db, slack, job_clock)


@pytest.fixture(autouse=True)
def fresh_pacer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pacer is process-wide (it spans runs); a test starts with no channel waiting on an earlier test."""
    from jobs.delivery import lanes

    monkeypatch.setattr(lanes, "PACER", lanes.ChannelPacer())
