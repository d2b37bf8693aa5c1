"""The heartbeat: each slot posts exactly once, in local time, across restarts, downtime and replicas."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.localslack import LocalSlack
from bot.services import outbox, schedules, tasks
from jobs.context import JobContext
from jobs.tick import TickResult, tick
from storage.db import Database
from storage.models import Outbox, Task, UserZone
from tests.conftest import Clock
from tests.jobs.conftest import make_ctx


def add_schedule(ctx: JobContext, workspace: str, *, channel: str = "C0MKT", hour: int = 9, minute: int = 0,
                 zone: str = "Asia/Shanghai", days: list[int] | None = None, kind: str = "digest") -> int:
    with ctx.db.session() as s:
        row, _ = schedules.create_schedule(
            s, workspace_id=workspace,
            data=schedules.ScheduleCreate(kind, channel, hour, minute, zone, days if days is not None else list(range(7))),
            user_id="U0ANA", now=ctx.clock(),  # created "now" on the injected clock
        )
        return row.id


def bot_posts(slack: LocalSlack, channel: str = "C0MKT") -> list[str]:
    return [m.text for m in slack.channel_messages(channel) if m.is_bot and m.thread_ts is None]


def dms(slack: LocalSlack, user: str) -> list[str]:
    """The bot's direct messages to `user`."""
    return [m.text for m in slack.channel_messages(slack.im_channel(user)) if m.is_bot]


def at(clock: Clock, text: str) -> datetime:
    clock.set(datetime.fromisoformat(text).astimezone(UTC))
    return clock.now


def test_digest_posts_once_at_its_local_time(ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock) -> None:
    add_schedule(ctx, workspace)
    tick(ctx, at(job_clock, "2026-11-23T08:59:00+08:00"))
    assert bot_posts(slack) == []
    result = tick(ctx, at(job_clock, "2026-11-23T09:00:20+08:00"))
    assert len(result.claimed) == 1 and result.delivery.sent == 1
    for later in ("2026-11-23T09:00:40+08:00", "2026-11-23T09:30:00+08:00", "2026-11-23T23:59:00+08:00"):
        tick(ctx, at(job_clock, later))
    assert len(bot_posts(slack)) == 1
    assert "digest" in bot_posts(slack)[0].lower()
    tick(ctx, at(job_clock, "2026-11-24T09:00:05+08:00"))
    assert len(bot_posts(slack)) == 2


def test_a_new_schedule_starts_from_the_next_slot_on_the_bots_clock(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    at(job_clock, "2026-12-20T10:00:00+08:00")  # the bot's clock, weeks after the real date
    add_schedule(ctx, workspace, hour=9)  # 09:00 has passed today: the first digest is tomorrow's
    tick(ctx, at(job_clock, "2026-12-20T10:01:00+08:00"))
    assert bot_posts(slack) == []
    tick(ctx, at(job_clock, "2026-12-21T09:00:30+08:00"))
    assert len(bot_posts(slack)) == 1


def test_after_days_of_downtime_one_digest_not_a_flood(ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock) -> None:
    add_schedule(ctx, workspace)
    tick(ctx, at(job_clock, "2026-11-26T10:15:00+08:00"))  # missed Mon..Wed 09:00 while down
    tick(ctx, at(job_clock, "2026-11-26T10:15:30+08:00"))
    assert len(bot_posts(slack)) == 1


def test_a_slot_missed_beyond_the_grace_is_skipped(ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock) -> None:
    add_schedule(ctx, workspace)
    tick(ctx, at(job_clock, "2026-11-23T22:00:00+08:00"))  # 13 h late: useless as a morning digest
    assert bot_posts(slack) == []


def test_weekdays_only(ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock) -> None:
    add_schedule(ctx, workspace, days=[0, 1, 2, 3, 4])
    tick(ctx, at(job_clock, "2026-11-28T09:01:00+08:00"))  # Saturday
    assert bot_posts(slack) == []
    tick(ctx, at(job_clock, "2026-11-30T09:01:00+08:00"))  # Monday
    assert len(bot_posts(slack)) == 1


def test_dst_change_keeps_the_local_time(ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock) -> None:
    at(job_clock, "2026-10-30T12:00:00+00:00")
    add_schedule(ctx, workspace, zone="America/New_York")
    with ctx.db.session(write=False) as s:
        row = schedules.list_schedules(s, workspace_id=workspace)[0]
        before = schedules.next_slot(row, datetime(2026, 10, 31, 0, 0, tzinfo=UTC))
        after = schedules.next_slot(row, datetime(2026, 11, 2, 0, 0, tzinfo=UTC))
    assert before == datetime(2026, 10, 31, 13, 0, tzinfo=UTC)  # 09:00 EDT
    assert after == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # 09:00 EST, after the clocks went back
    tick(ctx, at(job_clock, "2026-11-02T09:00:30-05:00"))
    assert len(bot_posts(slack)) == 1


def test_rescheduling_moves_the_schedule_instead_of_adding_one(ctx: JobContext, workspace: str) -> None:
    first = add_schedule(ctx, workspace, hour=9)
    second = add_schedule(ctx, workspace, hour=10)
    assert first == second
    with ctx.db.session(write=False) as s:
        [row] = schedules.list_schedules(s, workspace_id=workspace)
        assert row.hour == 10


def test_reminders_once_each(ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock) -> None:
    at(job_clock, "2026-11-23T10:00:00+08:00")
    with ctx.db.session() as s:
        tasks.create_task(s, workspace_id=workspace, data=tasks.TaskCreate("Banner 双十二", owner_id="U0ANA", due_on=date(2026, 11, 24)), user_id="U0BO")
        tasks.create_task(s, workspace_id=workspace, data=tasks.TaskCreate("Late copy", owner_id="U0BO", due_on=date(2026, 11, 20)), user_id="U0BO")
        tasks.create_task(s, workspace_id=workspace, data=tasks.TaskCreate("No owner", due_on=date(2026, 11, 24)), user_id="U0BO")
    tick(ctx, job_clock.now)
    tick(ctx, job_clock.now + timedelta(minutes=5))
    ana = dms(slack, "U0ANA")
    bo = dms(slack, "U0BO")
    assert len(ana) == 1 and "due tomorrow" in ana[0]
    assert len(bo) == 1 and "T-2 Late copy 已逾期" in bo[0]  # Bo's Slack is in Chinese
    # The next day the banner is overdue: one more DM, still exactly one per event.
    tick(ctx, at(job_clock, "2026-11-25T09:30:00+08:00"))
    tick(ctx, at(job_clock, "2026-11-25T09:31:00+08:00"))
    ana = dms(slack, "U0ANA")
    assert len(ana) == 2 and "overdue" in ana[1]


def test_a_task_handed_to_someone_else_reminds_the_new_owner_once(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    at(job_clock, "2026-11-23T10:00:00+08:00")
    with ctx.db.session() as s:
        task = tasks.create_task(s, workspace_id=workspace, data=tasks.TaskCreate(
            "Banner 双十二", owner_id="U0ANA", due_on=date(2026, 11, 24)), user_id="U0ANA")
        task_id = task.id
    tick(ctx, job_clock.now)
    with ctx.db.session() as s:
        moved = s.get(Task, task_id)
        assert moved is not None
        moved.owner_id = "U0BO"
    tick(ctx, job_clock.now + timedelta(minutes=5))
    tick(ctx, job_clock.now + timedelta(minutes=10))
    ana = dms(slack, "U0ANA")
    bo = dms(slack, "U0BO")
    assert len(ana) == 1 and "due tomorrow" in ana[0]
    assert len(bo) == 1 and "明天到期" in bo[0], bo


def test_a_reminder_sent_before_owners_were_in_its_key_is_not_sent_again(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    at(job_clock, "2026-11-23T10:00:00+08:00")
    with ctx.db.session() as s:
        task = tasks.create_task(s, workspace_id=workspace, data=tasks.TaskCreate(
            "Banner", owner_id="U0ANA", due_on=date(2026, 11, 24)), user_id="U0ANA")
        outbox.enqueue(s, workspace_id=workspace, now=job_clock.now, post=outbox.Post(
            dedupe_key=f"reminder:due:{task.id}:2026-11-24", kind="reminder", text="sent earlier", user_id="U0ANA"))
    tick(ctx, job_clock.now)
    ana = dms(slack, "U0ANA")
    assert ana == ["sent earlier"]


def test_no_reminders_before_nine_local(ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock) -> None:
    at(job_clock, "2026-11-23T07:00:00+08:00")
    with ctx.db.session() as s:
        tasks.create_task(s, workspace_id=workspace, data=tasks.TaskCreate("x", owner_id="U0ANA", due_on=date(2026, 11, 24)), user_id="U0BO")
    tick(ctx, job_clock.now)
    assert slack.get_calls("conversations.open") == []


def test_reminders_come_at_nine_in_the_owners_own_time_zone(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    """The workspace is on Shanghai time; Cy works from New York and Ana from Shanghai."""
    slack.add_user("U0CY", "cy", real_name="Cy Park", tz="America/New_York")
    at(job_clock, "2026-11-23T10:00:00+08:00")  # Monday 10:00 in Shanghai, Sunday 21:00 in New York
    with ctx.db.session() as s:
        for owner in ("U0CY", "U0ANA"):
            tasks.create_task(s, workspace_id=workspace, data=tasks.TaskCreate(
                f"Launch deck {owner}", owner_id=owner, due_on=date(2026, 11, 24)), user_id="U0BO")
    tick(ctx, job_clock.now)
    assert len(dms(slack, "U0ANA")) == 1  # due tomorrow in Shanghai
    assert dms(slack, "U0CY") == []  # still Sunday in New York: Tuesday is not tomorrow yet
    tick(ctx, at(job_clock, "2026-11-23T08:30:00-05:00"))  # Monday 08:30 in New York
    assert dms(slack, "U0CY") == []
    tick(ctx, at(job_clock, "2026-11-23T09:00:30-05:00"))  # 09:00 in New York (22:00 in Shanghai)
    [cy] = dms(slack, "U0CY")
    assert "due tomorrow" in cy
    tick(ctx, at(job_clock, "2026-11-23T09:30:00-05:00"))
    assert len(dms(slack, "U0CY")) == 1
    # users.info for the zone was asked once per owner: the answer is kept in the database
    zone_lookups = [c for c in slack.get_calls("users.info") if not c.get("include_locale")]
    assert sorted(c["user"] for c in zone_lookups) == ["U0ANA", "U0CY"]
    with ctx.db.session(write=False) as s:
        stored = dict(s.execute(select(UserZone.user_id, UserZone.tz).where(UserZone.workspace_id == workspace)).all())
    assert stored == {"U0ANA": "Asia/Shanghai", "U0CY": "America/New_York"}


def test_a_failed_zone_lookup_falls_back_to_the_workspace_zone(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    at(job_clock, "2026-11-23T10:00:00+08:00")
    with ctx.db.session() as s:
        tasks.create_task(s, workspace_id=workspace, data=tasks.TaskCreate(
            "Banner", owner_id="U0GONE", due_on=date(2026, 11, 24)), user_id="U0BO")
    tick(ctx, job_clock.now)  # users.info answers user_not_found: the reminder still goes, at Shanghai's 09:00
    with ctx.db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Outbox).where(Outbox.user_id == "U0GONE")) == 1
        assert s.scalar(select(UserZone.tz).where(UserZone.workspace_id == workspace, UserZone.user_id == "U0GONE")) is None


def test_several_schedulers_post_every_slot_exactly_once(db: Database, slack: LocalSlack, workspace: str, job_clock: Clock,
                                                        ctx: JobContext) -> None:
    """Three schedulers on one database, 10 channels × 20 days = 200 slots: each posted once."""
    channels = [f"C0X{i:02d}" for i in range(10)]
    for channel in channels:
        slack.add_channel(channel, channel.lower())
    at(job_clock, "2026-11-01T08:00:00+08:00")
    for i, channel in enumerate(channels):
        add_schedule(ctx, workspace, channel=channel, hour=9, minute=i)
    workers = [make_ctx(db, slack, job_clock, worker=f"replica-{n}") for n in range(3)]
    for day in range(20):
        now = datetime.fromisoformat(f"2026-11-{day + 1:02d}T09:10:00+08:00").astimezone(UTC)
        barrier = threading.Barrier(len(workers))
        errors: list[BaseException] = []

        def run(w: JobContext, now: datetime = now, barrier: threading.Barrier = barrier,
                errors: list[BaseException] = errors) -> None:
            try:
                barrier.wait()
                tick(w, now)
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
    counts = {channel: len(bot_posts(slack, channel)) for channel in channels}
    assert counts == {channel: 20 for channel in channels}


@pytest.mark.parametrize("restart_between", [True])
def test_database_restart_between_slots(ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock,
                                        restart_between: bool) -> None:
    add_schedule(ctx, workspace)
    tick(ctx, at(job_clock, "2026-11-23T09:00:10+08:00"))
    ctx.db.engine.dispose()  # every pooled connection is gone, as after a database restart
    if ctx.db.engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with ctx.db.engine.connect() as conn:  # kill our own other sessions on the server, like a restart does
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ))
            conn.commit()
    tick(ctx, at(job_clock, "2026-11-24T09:00:10+08:00"))
    assert len(bot_posts(slack)) == 2


def test_a_reminder_never_pings_through_a_typed_title(ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock) -> None:
    at(job_clock, "2026-11-23T10:00:00+08:00")
    with ctx.db.session() as s:
        tasks.create_task(s, workspace_id=workspace, data=tasks.TaskCreate("<!channel> banner <!subteam^S123>", owner_id="U0ANA",
                                                                           due_on=date(2026, 11, 24)), user_id="U0BO")
    tick(ctx, job_clock.now)
    sent = [c for c in slack.calls if c.method == "chat.postMessage"]
    assert sent
    for call in sent:
        body = str(call.args)
        assert "<!channel>" not in body and "<!subteam" not in body, body


def test_a_digest_being_composed_holds_up_no_write(
    sqlite_db: Database, slack: LocalSlack, workspace: str, job_clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digest is composed in a read-only session: meanwhile `/task add` writes at once, in this process
    (no wait on the write lock) and from another (SQLite's own lock is free: a short busy timeout is enough)."""
    import sqlite3

    from bot.posts import digest

    ctx = make_ctx(sqlite_db, slack, job_clock)
    add_schedule(ctx, workspace)
    composing, release = threading.Event(), threading.Event()
    collect = digest.collect

    def held_collect(*args: object, **kwargs: object) -> object:
        composing.set()
        assert release.wait(10)
        return collect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(digest, "collect", held_collect)
    results: list[object] = []
    heartbeat = threading.Thread(target=lambda: results.append(tick(ctx, at(job_clock, "2026-11-23T09:00:20+08:00"))))
    heartbeat.start()
    try:
        assert composing.wait(10)

        def add() -> None:
            with sqlite_db.transaction() as unit:
                tasks.add_task(unit, workspace_id=workspace, data=tasks.TaskCreate("Banner 双十二"), user_id="U0ANA")

        writer = threading.Thread(target=add)
        writer.start()
        writer.join(2)
        assert not writer.is_alive(), "the task write waited for the digest"
        other = sqlite3.connect(str(sqlite_db.engine.url.database), timeout=0.2, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # raises 'database is locked' while a write transaction is open
            other.execute("ROLLBACK")
        finally:
            other.close()
    finally:
        release.set()
        heartbeat.join(30)
    [result] = results
    assert isinstance(result, TickResult) and len(result.claimed) == 1 and result.delivery.sent == 1
    with sqlite_db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Task).where(Task.workspace_id == workspace)) == 1


def test_unusual_kpis_go_once_into_the_digests_thread(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    """Eight weeks of steady daily GMV, then a collapse yesterday: the digest colours it, and one alert naming
    the channel, the expected range and the value follows in the digest's thread, once, across ticks."""
    from decimal import Decimal

    from bot.services import kpis

    yesterday = date(2026, 11, 22)
    with ctx.db.session() as s:
        for back in range(1, 57):
            kpis.log_value(s, workspace_id=workspace, metric_name="gmv", value=Decimal(10000 + (back % 3) * 100),
                           percent=False, channel="天猫", day=yesterday - timedelta(days=back), user_id="U0ANA")
        kpis.log_value(s, workspace_id=workspace, metric_name="gmv", value=Decimal(2000), percent=False,
                       channel="天猫", day=yesterday, user_id="U0ANA")
    add_schedule(ctx, workspace)
    tick(ctx, at(job_clock, "2026-11-23T09:00:30+08:00"))
    tick(ctx, at(job_clock, "2026-11-23T09:01:30+08:00"))
    tick(ctx, at(job_clock, "2026-11-23T09:05:30+08:00"))
    [digest] = [m for m in slack.channel_messages("C0MKT") if m.is_bot and m.thread_ts is None]
    assert ":red_circle:" in digest.all_text() and "unusual for a Sunday" in digest.all_text()
    thread = [m for m in slack.channel_messages("C0MKT", thread_ts=digest.ts) if m.is_bot and m.ts != digest.ts]
    assert len(thread) == 1, [m.text for m in thread]
    alert = thread[0].all_text()
    assert "Unusual KPIs" in alert and "天猫" in alert and "2,000" in alert and "expected" in alert
