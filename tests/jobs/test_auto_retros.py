"""Retrospectives that start by themselves, the scheduler's own settings, and per-channel pacing."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import date

from bot.localslack import LocalSlack
from bot.services import campaigns
from jobs.context import JobContext
from jobs.delivery.lanes import ChannelPacer
from jobs.scheduler import build_scheduler
from jobs.tick import tick
from tests.conftest import Clock
from tests.jobs.test_tick import add_schedule, at


def retro_posts(slack: LocalSlack, channel: str = "C0MKT") -> list[str]:
    return [m.all_text() for m in slack.channel_messages(channel) if m.is_bot and "Retrospective R-" in m.text]


def test_a_retro_starts_when_a_campaign_ends_and_after_a_month(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    at(job_clock, "2026-11-10T08:00:00+08:00")
    add_schedule(ctx, workspace, kind="report", days=[0])
    with ctx.db.session() as s:
        campaigns.create_campaign(
            s, workspace_id=workspace,
            data=campaigns.CampaignCreate("双十一 预售", date(2026, 11, 1), date(2026, 11, 11), budget=None), user_id="U0ANA",
        )
    tick(ctx, at(job_clock, "2026-11-11T10:00:00+08:00"))  # still running: nothing
    assert retro_posts(slack) == []
    tick(ctx, at(job_clock, "2026-11-12T10:00:00+08:00"))
    tick(ctx, at(job_clock, "2026-11-12T10:01:00+08:00"))
    posts = retro_posts(slack)
    assert len(posts) == 1 and "双十一 预售" in posts[0]
    tick(ctx, at(job_clock, "2026-12-01T10:00:00+08:00"))  # November is over
    tick(ctx, at(job_clock, "2026-12-01T11:00:00+08:00"))
    posts = retro_posts(slack)
    assert len(posts) == 2 and "November 2026" in posts[1]
    with ctx.db.session(write=False) as s:
        from sqlalchemy import select

        from storage.models import Retro

        rows = s.scalars(select(Retro).where(Retro.workspace_id == workspace).order_by(Retro.number)).all()
        assert [r.kind for r in rows] == ["campaign", "month"] and all(r.thread_ts for r in rows)


def test_quarter_end_adds_a_quarter_retro(ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock) -> None:
    at(job_clock, "2026-12-20T08:00:00+08:00")
    add_schedule(ctx, workspace, kind="report", days=[0])
    tick(ctx, at(job_clock, "2027-01-01T10:00:00+08:00"))
    posts = retro_posts(slack)
    assert len(posts) == 2 and any("Q4 2026" in p for p in posts) and any("December 2026" in p for p in posts)


def test_no_automatic_retros_without_a_report_subscription(ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock) -> None:
    at(job_clock, "2026-11-30T08:00:00+08:00")
    add_schedule(ctx, workspace, kind="digest")
    tick(ctx, at(job_clock, "2026-12-01T10:00:00+08:00"))
    assert retro_posts(slack) == []


def test_scheduler_settings() -> None:
    from unittest import mock

    ctx = mock.Mock(spec=JobContext)
    scheduler = build_scheduler(ctx, name="t")
    scheduler.start(paused=True)  # job defaults are applied when the job reaches the store
    try:
        [job] = scheduler.get_jobs()
        assert job.id == "mktbot-tick" and job.kwargs == {"context_name": "t"}
        assert job.func_ref == "jobs.tick:run"
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 300
    finally:
        scheduler.shutdown(wait=False)


def test_pacer_keeps_one_post_per_second_per_channel() -> None:
    pacer = ChannelPacer()
    stamps: dict[str, list[float]] = {"A": [], "B": []}

    def post(channel: str) -> None:
        pacer.wait(channel, 0.2)
        stamps[channel].append(time.monotonic())

    threads = [threading.Thread(target=post, args=(ch,)) for ch in ("A", "A", "A", "B", "B")]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    a = sorted(stamps["A"])
    assert all(b - a_ >= 0.19 for a_, b in itertools.pairwise(a))
    assert min(stamps["B"]) - started < 0.15  # another channel does not wait behind A
