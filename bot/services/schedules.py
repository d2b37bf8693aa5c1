"""Channel schedules for the digest and the KPI report: local wall-clock times that survive DST changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import NotFound
from bot.services.refs import next_number
from storage.models import Schedule
from storage.types import utcnow

DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@dataclass(frozen=True)
class ScheduleCreate:
    kind: str  # digest | report
    slack_channel_id: str
    hour: int
    minute: int
    timezone: str
    days: list[int]
    attach: str | None = None  # a report's attachment: "xlsx", the week's KPI table


def create_schedule(
    session: Session, *, workspace_id: str, data: ScheduleCreate, user_id: str | None, now: datetime | None = None
) -> tuple[Schedule, bool]:
    """One schedule per channel and kind: scheduling again moves the existing one (no double digests).

    It starts from the next slot after `now` (the bot's clock): a slot earlier today does not fire."""
    now = now or utcnow()
    existing = session.scalars(
        select(Schedule).where(
            Schedule.workspace_id == workspace_id,
            Schedule.slack_channel_id == data.slack_channel_id,
            Schedule.kind == data.kind,
            Schedule.active.is_(True),
        )
    ).first()
    days = ",".join(str(d) for d in sorted(set(data.days)))
    if existing is not None:
        existing.hour, existing.minute, existing.timezone, existing.days = data.hour, data.minute, data.timezone, days
        existing.attach = data.attach
        # Slots already passed under the old time must not fire again under the new one.
        existing.last_slot = max(existing.last_slot or now, now)
        session.flush()
        return existing, False
    row = Schedule(
        workspace_id=workspace_id,
        number=next_number(session, workspace_id=workspace_id, kind="schedule"),
        kind=data.kind,
        slack_channel_id=data.slack_channel_id,
        hour=data.hour,
        minute=data.minute,
        timezone=data.timezone,
        days=days,
        attach=data.attach,
        active=True,
        created_by=user_id,
        created_at=now,
        last_slot=now,
    )
    session.add(row)
    session.flush()
    return row, True


def list_schedules(session: Session, *, workspace_id: str) -> list[Schedule]:
    return list(
        session.scalars(
            select(Schedule)
            .where(Schedule.workspace_id == workspace_id, Schedule.active.is_(True))
            .order_by(Schedule.number)
        )
    )


def remove_schedule(session: Session, *, workspace_id: str, number: int) -> Schedule:
    row = session.scalars(
        select(Schedule).where(Schedule.workspace_id == workspace_id, Schedule.number == number, Schedule.active.is_(True))
    ).first()
    if row is None:
        raise NotFound.of("error.mkt.no_schedule", ref=f"S-{number}")
    row.active = False
    return row


def weekdays(schedule: Schedule) -> list[int]:
    return [int(d) for d in schedule.days.split(",") if d != ""]


def local_slot(schedule: Schedule, day_local: datetime) -> datetime:
    """The slot on a local calendar day, as an aware UTC instant; 09:00 stays 09:00 across DST changes."""
    zone = ZoneInfo(schedule.timezone)
    local = datetime.combine(day_local.date(), time(schedule.hour, schedule.minute), tzinfo=zone)
    # A wall time skipped by a DST jump resolves forward by fold rules of zoneinfo; normalise via UTC.
    return local.astimezone(UTC)


def latest_slot(schedule: Schedule, now: datetime) -> datetime | None:
    """The most recent slot at or before `now` (within the last 8 days)."""
    zone = ZoneInfo(schedule.timezone)
    days = set(weekdays(schedule))
    local_now = now.astimezone(zone)
    for back in range(0, 8):
        day = local_now - timedelta(days=back)
        if day.weekday() not in days:
            continue
        slot = local_slot(schedule, day)
        if slot <= now:
            return slot
    return None


def next_slot(schedule: Schedule, now: datetime) -> datetime | None:
    zone = ZoneInfo(schedule.timezone)
    days = set(weekdays(schedule))
    local_now = now.astimezone(zone)
    for ahead in range(0, 8):
        day = local_now + timedelta(days=ahead)
        if day.weekday() not in days:
            continue
        slot = local_slot(schedule, day)
        if slot > now:
            return slot
    return None


def describe_days(days: list[int]) -> str:
    if sorted(days) == list(range(7)):
        return "every day"
    if sorted(days) == list(range(5)):
        return "mon-fri"
    return ",".join(DAY_NAMES[d] for d in sorted(days))
