"""The scheduler's heartbeat: claim every due slot exactly once (unique outbox key), the reminders, watchdog and
check-in nudges, the batched notifications of what others changed and the automatic retros that are due, then
deliver."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bot.posts import Draft
from bot.posts.kinds import SCHEDULED
from bot.posts.notify import enqueue_checkin_nudges, enqueue_notifications
from bot.posts.nudge import enqueue_nudges
from bot.posts.reminder import enqueue_reminders
from bot.posts.retro import enqueue_auto_retros
from bot.services import outbox, schedules
from jobs.context import JobContext
from jobs.delivery import BATCH, deliver_due
from jobs.delivery.recording import DeliveryStats
from storage.models import Schedule, SchedulerHeartbeat

log = logging.getLogger(__name__)

_CONTEXTS: dict[str, JobContext] = {}
_INTERVALS: dict[str, float] = {}
_LAST_START: dict[str, float] = {}
MAX_BATCHES_PER_TICK = 20  # of BATCH (deliver_due's default limit) posts each


def install(name: str, ctx: JobContext, *, interval: float | None = None) -> None:
    """Jobs reference their context by name, so APScheduler only ever stores plain arguments."""
    _CONTEXTS[name] = ctx
    if interval is not None:
        _INTERVALS[name] = interval


def run(context_name: str) -> None:
    """The APScheduler entry point (`jobs.tick:run`)."""
    ctx = _CONTEXTS.get(context_name)
    if ctx is None:
        log.error("no job context called %s", context_name)
        return
    _measure_lag(context_name)
    try:
        beat(ctx, context_name)
        tick(ctx)
    except Exception:
        log.exception("scheduler tick failed; the next tick retries")


def _measure_lag(name: str) -> None:
    from bot.telemetry import TICK_AT, TICK_LAG

    now = time.monotonic()
    last, interval = _LAST_START.get(name), _INTERVALS.get(name)
    if last is not None and interval is not None:
        TICK_LAG.set(max(0.0, now - last - interval))
    _LAST_START[name] = now
    TICK_AT.set(time.time())


def beat(ctx: JobContext, name: str = "default") -> None:
    """Stamp this scheduler's heartbeat row with the wall-clock time (not ctx.clock: the playground's clock
    moves): `/readyz` answers 503 once it is too old."""
    stamp = datetime.now(UTC)
    with ctx.db.session() as session:
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        statement = insert(SchedulerHeartbeat).values(name=name, worker=ctx.worker[:200], beat_at=stamp)
        session.execute(statement.on_conflict_do_update(
            index_elements=["name"], set_={"worker": statement.excluded.worker, "beat_at": statement.excluded.beat_at}))


@dataclass
class TickResult:
    claimed: list[str]
    delivery: DeliveryStats


@dataclass(frozen=True)
class DueSlot:
    schedule_id: int
    workspace_id: str
    kind: str
    channel: str
    slot: datetime
    zone: str


def due_slots(ctx: JobContext, now: datetime) -> list[DueSlot]:
    grace = timedelta(hours=ctx.grace_hours)
    with ctx.db.session(write=False) as session:
        rows = session.scalars(select(Schedule).where(Schedule.active.is_(True))).all()
        result = []
        for row in rows:
            slot = schedules.latest_slot(row, now)
            if slot is None or now - slot > grace:
                continue
            if row.last_slot is not None and slot <= row.last_slot:
                continue
            result.append(DueSlot(row.id, row.workspace_id, row.kind, row.slack_channel_id, slot, row.timezone))
    return result


def slot_key(kind: str, schedule_id: int, slot: datetime) -> str:
    return f"{kind}:{schedule_id}:{slot:%Y-%m-%dT%H:%MZ}"


def claim_slots(ctx: JobContext, now: datetime) -> list[str]:
    """Enqueue each due slot's post once. The post is composed in a read-only session, so composing (a digest
    reads a lot) never holds SQLite's one write lock; the write that follows only enqueues and stamps the slot."""
    claimed = []
    for due in due_slots(ctx, now):
        post = SCHEDULED.get(due.kind)
        if post is None:
            log.warning("schedule %s has kind %r, which nothing posts", due.schedule_id, due.kind)
            continue
        key = slot_key(due.kind, due.schedule_id, due.slot)
        today = due.slot.astimezone(ZoneInfo(due.zone)).date()
        draft: Draft | None = None
        with ctx.db.session(write=False) as session:
            schedule = session.get(Schedule, due.schedule_id)
            if schedule is None or not schedule.active:
                continue
            if not outbox.exists(session, dedupe_key=key):
                draft = post.compose(session, workspace_id=due.workspace_id, today=today, channel=due.channel)
        with ctx.db.session() as session:
            schedule = session.get(Schedule, due.schedule_id)
            if schedule is None or not schedule.active:
                continue
            if draft is not None:
                new_id = post.enqueue(
                    session, draft, workspace_id=due.workspace_id, key=key, channel=due.channel, now=now,
                    payload={"schedule_id": due.schedule_id},
                )
                if new_id is not None:
                    claimed.append(key)
                    schedule.last_status = "queued"
            if schedule.last_slot is None or due.slot > schedule.last_slot:
                schedule.last_slot = due.slot
    return claimed


def tick(ctx: JobContext, now: datetime | None = None) -> TickResult:
    now = now or ctx.clock()
    claimed = claim_slots(ctx, now)
    claimed += enqueue_reminders(ctx, now)
    claimed += enqueue_nudges(ctx, now)
    claimed += enqueue_notifications(ctx, now)
    claimed += enqueue_checkin_nudges(ctx, now)
    claimed += enqueue_auto_retros(ctx, now)
    stats = deliver_due(ctx, now=now)
    # More than a batch is due (or some were handed back before their lease ran out): keep going.
    for _ in range(MAX_BATCHES_PER_TICK - 1):
        if stats.handled < BATCH:
            break
        more = deliver_due(ctx, now=now)
        stats.sent, stats.failed, stats.recovered = stats.sent + more.sent, stats.failed + more.failed, stats.recovered + more.recovered
        stats.deferred += more.deferred
        stats.errors += more.errors
        if more.handled == 0:
            break
    return TickResult(claimed=claimed, delivery=stats)
