"""The scheduler's side of notifications: the weekly check-in nudge at 09:00 in the owner's own zone, the KPI
watchdog at 10:00 in the logger's own zone, and a batch of changes claimed once however many schedulers run."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update

from bot.ids import ActionId
from bot.localslack import LocalSlack
from bot.posts.notify import enqueue_notifications
from bot.services import goals, kpis, notifications, tasks
from jobs.context import JobContext
from jobs.tick import tick
from storage.db import Database
from storage.models import Goal, Outbox
from tests.conftest import Clock
from tests.jobs.conftest import make_ctx
from tests.jobs.test_tick import at


def dms(slack: LocalSlack, user: str) -> list[str]:
    """The bot's direct messages to `user`, every text in them."""
    return [m.all_text() for m in slack.channel_messages(slack.im_channel(user)) if m.is_bot]

ANA, BO, CY = "U0ANA", "U0BO", "U0CY"


def quiet_goal(ctx: JobContext, ws: str, *, owner: str = ANA, channel: str | None = None, title: str = "Q4 GMV") -> int:
    """A goal set up ten days ago, with nothing logged or checked in since."""
    with ctx.db.session() as s:
        goal = goals.create_goal(s, workspace_id=ws, user_id=BO, data=goals.GoalCreate(
            title=title, metric="gmv", target=Decimal(2_500_000), target_percent=False, owner_id=owner, channel=channel,
            start_on=date(2026, 11, 1), due_on=date(2026, 12, 31)))
        s.execute(update(Goal).where(Goal.id == goal.id).values(created_at=datetime.fromisoformat("2026-11-13T10:00:00+08:00")))
        return goal.id


def nudges(slack: LocalSlack, user: str) -> list[str]:
    return [text for text in dms(slack, user) if "G-" in text]


def test_a_quiet_goals_owner_is_nudged_once_a_week_from_nine_local(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    quiet_goal(ctx, workspace)
    tick(ctx, at(job_clock, "2026-11-23T08:59:00+08:00"))  # Monday, before 09:00 in Shanghai
    assert nudges(slack, ANA) == []
    tick(ctx, at(job_clock, "2026-11-23T09:00:30+08:00"))
    [nudge] = [m for m in slack.channel_messages(slack.im_channel(ANA)) if m.is_bot]
    assert "G-1" in nudge.text and "Q4 GMV" in nudge.all_text() and "9 days" in nudge.all_text(), nudge.all_text()
    assert "/goal checkin G-1" in nudge.all_text()
    assert [e["action_id"] for b in nudge.blocks if b.get("type") == "actions" for e in b["elements"]] == [ActionId.GOAL_CHECKIN]
    for moment in ("2026-11-23T15:00:00+08:00", "2026-11-25T09:30:00+08:00", "2026-11-29T23:59:00+08:00"):
        tick(ctx, at(job_clock, moment))
    assert len(nudges(slack, ANA)) == 1, "once in the ISO week"
    tick(ctx, at(job_clock, "2026-11-30T09:01:00+08:00"))  # next Monday, still quiet
    assert len(nudges(slack, ANA)) == 2
    assert dms(slack, BO) == []


def test_the_nudge_comes_at_nine_in_the_owners_own_zone_and_in_their_language(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    slack.add_user(CY, "cy", real_name="Cy Park", tz="America/New_York")
    quiet_goal(ctx, workspace, owner=CY)
    quiet_goal(ctx, workspace, owner=BO, title="双十二 GMV")
    tick(ctx, at(job_clock, "2026-11-23T20:00:00+08:00"))  # Monday 07:00 in New York
    assert nudges(slack, CY) == []
    [bo] = nudges(slack, BO)
    assert "双十二 GMV" in bo and "天没有更新进度" in bo, bo  # Bo's Slack is in Chinese
    tick(ctx, at(job_clock, "2026-11-23T08:50:00-05:00"))
    assert nudges(slack, CY) == []
    tick(ctx, at(job_clock, "2026-11-23T09:00:10-05:00"))
    assert len(nudges(slack, CY)) == 1


def test_a_check_in_or_a_value_on_the_goals_channel_keeps_it_quiet(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    quiet_goal(ctx, workspace, channel="天猫", title="天猫 GMV")
    quiet_goal(ctx, workspace, owner=BO, title="Checked in")
    with ctx.db.session() as s:
        kpis.log_value(s, workspace_id=workspace, metric_name="gmv", value=Decimal(1000), percent=False, channel="JD",
                       day=date(2026, 11, 22), user_id=ANA)  # another channel: does not count
        goals.checkin(s, workspace_id=workspace, number=2, value=Decimal(5000), percent=False, confidence=None,
                      note=None, user_id=BO)
    tick(ctx, at(job_clock, "2026-11-23T09:00:30+08:00"))
    assert len(nudges(slack, ANA)) == 1 and nudges(slack, BO) == []
    with ctx.db.session() as s:
        kpis.log_value(s, workspace_id=workspace, metric_name="gmv", value=Decimal(1000), percent=False, channel="Tmall",
                       day=date(2026, 11, 29), user_id=ANA)  # Tmall is 天猫
    tick(ctx, at(job_clock, "2026-11-30T09:00:30+08:00"))
    assert len(nudges(slack, ANA)) == 1


def test_notify_off_means_no_check_in_nudge(ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock) -> None:
    quiet_goal(ctx, workspace)
    with ctx.db.session() as s:
        notifications.set_enabled(s, workspace_id=workspace, user_id=ANA, enabled=False, now=job_clock.now)
    tick(ctx, at(job_clock, "2026-11-23T09:00:30+08:00"))
    assert nudges(slack, ANA) == []


def test_the_kpi_watchdog_comes_at_ten_in_the_loggers_own_zone(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    slack.add_user(CY, "cy", real_name="Cy Park", tz="America/New_York")
    with ctx.db.session() as s:
        for back in range(2, 17):  # Cy logs 天猫 every day up to Nov 21; New York's Nov 22 has nothing
            kpis.log_value(s, workspace_id=workspace, metric_name="gmv", value=Decimal(1000), percent=False,
                           channel="天猫", day=date(2026, 11, 23) - timedelta(days=back), user_id=CY)
    tick(ctx, at(job_clock, "2026-11-23T10:00:30+08:00"))  # 10:00 in Shanghai, Sunday 21:00 in New York
    assert dms(slack, CY) == []
    tick(ctx, at(job_clock, "2026-11-23T09:30:00-05:00"))
    assert dms(slack, CY) == []
    tick(ctx, at(job_clock, "2026-11-23T10:00:30-05:00"))
    [dm] = dms(slack, CY)
    assert "2026-11-22" in dm and "天猫" in dm, dm
    tick(ctx, at(job_clock, "2026-11-23T15:00:00-05:00"))
    assert len(dms(slack, CY)) == 1


def test_several_schedulers_tell_a_batch_once(db: Database, slack: LocalSlack, workspace: str, job_clock: Clock,
                                              ctx: JobContext) -> None:
    at(job_clock, "2026-11-23T10:00:00+08:00")
    by = notifications.Actor(BO, job_clock.now)
    with ctx.db.session() as s:
        for i in range(5):
            tasks.create_task(s, workspace_id=workspace, user_id=BO, by=by,
                              data=tasks.TaskCreate(f"Banner {i}", owner_id=ANA))
    job_clock.set(job_clock.now + timedelta(minutes=3))
    schedulers = [make_ctx(db, slack, job_clock, worker=f"w{i}") for i in range(3)]
    barrier = threading.Barrier(3)

    def run(one: JobContext) -> None:
        barrier.wait()
        enqueue_notifications(one, job_clock.now)

    threads = [threading.Thread(target=run, args=(one,)) for one in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Outbox).where(Outbox.workspace_id == workspace,
                                                                       Outbox.kind == "notify")) == 1
    tick(ctx, job_clock.now)
    [dm] = dms(slack, ANA)
    assert all(f"T-{n}" in dm for n in range(1, 6)), dm
    with db.session(write=False) as s:
        assert [b for b in notifications.pending(s) if b.workspace_id == workspace] == []
