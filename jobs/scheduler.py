"""APScheduler assembly: one heartbeat job with a fixed id; exactly-once comes from the database, not the job store."""

from __future__ import annotations

import logging
from datetime import UTC

from apscheduler.schedulers.background import BackgroundScheduler

from jobs import tick
from jobs.context import JobContext

log = logging.getLogger(__name__)

TICK_SECONDS = 20


def build_scheduler(ctx: JobContext, *, name: str = "default", tick_seconds: int = TICK_SECONDS) -> BackgroundScheduler:
    tick.install(name, ctx, interval=tick_seconds)
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={
            "coalesce": True,  # after downtime: one run, not a flood
            "max_instances": 1,
            # APScheduler's default grace is 1 s: a busy or restarted process would silently skip runs.
            "misfire_grace_time": 300,
        },
    )
    scheduler.add_job(
        "jobs.tick:run",
        trigger="interval",
        seconds=tick_seconds,
        id="mktbot-tick",
        name="claim due slots and deliver the outbox",
        kwargs={"context_name": name},
        replace_existing=True,
    )
    return scheduler
