"""SMART goals: creation, check-ins, current value, progress and pace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.services import kpis
from bot.services.refs import get_by_number, next_number
from storage.models import Goal, GoalCheckin, KpiValue
from storage.types import utcnow

ON_TRACK, AT_RISK, OFF_TRACK = "on track", "at risk", "off track"


@dataclass(frozen=True)
class GoalCreate:
    title: str
    metric: str
    target: Decimal
    target_percent: bool
    due_on: date
    start_on: date
    currency: str | None = None
    baseline: Decimal | None = None
    owner_id: str | None = None
    parent: int | None = None
    channel: str | None = None
    slack_channel_id: str | None = None


def create_goal(session: Session, *, workspace_id: str, data: GoalCreate, user_id: str | None) -> Goal:
    if data.due_on < data.start_on:
        raise UserError.of("error.deadline_before_start", due=data.due_on, start=data.start_on)
    metric = kpis.find_metric(session, workspace_id=workspace_id, name=data.metric)
    if metric is None:
        metric = kpis.define_metric(
            session,
            workspace_id=workspace_id,
            spec=kpis.MetricSpec(name=data.metric, unit="%" if data.target_percent else data.currency),
            user_id=user_id,
        ).metric
    parent_id = None
    if data.parent is not None:
        parent = get_by_number(session, Goal, workspace_id=workspace_id, number=data.parent, kind="goal")
        parent_id = parent.id
    target, baseline = data.target, data.baseline
    if metric.unit == "%" and not data.target_percent and target > 1:
        target = target / 100
        if baseline is not None and baseline > 1:
            baseline = baseline / 100
    goal = Goal(
        workspace_id=workspace_id,
        number=next_number(session, workspace_id=workspace_id, kind="goal"),
        title=data.title,
        metric_id=metric.id,
        target=target,
        baseline=baseline,
        start_on=data.start_on,
        due_on=data.due_on,
        owner_id=data.owner_id,
        parent_id=parent_id,
        channel=kpis.known_channel(session, workspace_id=workspace_id, channel=data.channel) if data.channel else None,
        slack_channel_id=data.slack_channel_id,
        status="active",
        created_by=user_id,
        created_at=utcnow(),
    )
    session.add(goal)
    session.flush()
    return goal


def get_goal(session: Session, *, workspace_id: str, number: int) -> Goal:
    return get_by_number(session, Goal, workspace_id=workspace_id, number=number, kind="goal")


def list_goals(session: Session, *, workspace_id: str, include_closed: bool = False) -> list[Goal]:
    query = select(Goal).where(Goal.workspace_id == workspace_id)
    if not include_closed:
        query = query.where(Goal.status == "active")
    return list(session.scalars(query.order_by(Goal.due_on, Goal.number)))


def close_goal(session: Session, *, workspace_id: str, number: int) -> tuple[Goal, bool]:
    goal = get_goal(session, workspace_id=workspace_id, number=number)
    if goal.status == "closed":
        return goal, False
    goal.status = "closed"
    goal.closed_at = utcnow()
    return goal, True


def checkin(
    session: Session,
    *,
    workspace_id: str,
    number: int,
    value: Decimal,
    percent: bool,
    confidence: int | None,
    note: str | None,
    user_id: str | None,
) -> tuple[Goal, GoalCheckin]:
    goal = get_goal(session, workspace_id=workspace_id, number=number)
    if goal.status == "closed":
        raise UserError.of("error.goal_closed", ref=f"G-{goal.number}")
    if goal.metric.unit == "%" and not percent:
        value = value / 100
    row = GoalCheckin(
        workspace_id=workspace_id,
        goal_id=goal.id,
        value=value,
        confidence=confidence,
        note=note,
        user_id=user_id,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return goal, row


@dataclass(frozen=True)
class Progress:
    current: Decimal | None
    source: str  # "kpi" | "checkin" | "none"
    percent_of_target: Decimal | None  # 0..1+ of the way from baseline to target
    percent_of_time: Decimal  # 0..1 of the way from start to deadline
    status: str | None  # on track / at risk / off track
    projected: Decimal | None  # value at the deadline at the current pace
    needed_per_day: Decimal | None  # run-rate still needed (cumulative metrics)
    confidence: int | None


def time_elapsed(goal: Goal, today: date) -> Decimal:
    total = (goal.due_on - goal.start_on).days
    if total <= 0:
        return Decimal(1)
    done = min(max((today - goal.start_on).days + 1, 0), total + 1)
    return min(Decimal(done) / Decimal(total + 1), Decimal(1))


def progress(session: Session, *, goal: Goal, today: date) -> Progress:
    metric = goal.metric
    end = min(today, goal.due_on)
    value = kpis.period_value(session, metric=metric, start=goal.start_on, end=end, channel=goal.channel)
    current, source = value.value, "kpi" if value.value is not None else "none"
    last_kpi_at: datetime | None = None
    if current is not None:
        ids = [metric.numerator_id, metric.denominator_id] if metric.is_ratio else [metric.id]
        last_kpi_at = session.scalar(
            select(KpiValue.updated_at)
            .where(KpiValue.metric_id.in_(ids), KpiValue.day >= goal.start_on, KpiValue.day <= end)
            .order_by(KpiValue.updated_at.desc())
            .limit(1)
        )
    latest = session.scalars(
        select(GoalCheckin).where(GoalCheckin.goal_id == goal.id).order_by(GoalCheckin.id.desc()).limit(1)
    ).first()
    if latest is not None and (last_kpi_at is None or latest.created_at >= last_kpi_at):
        current, source = latest.value, "checkin"
    elapsed = time_elapsed(goal, today)
    baseline = goal.baseline if goal.baseline is not None else (Decimal(0) if metric.agg == "sum" else None)
    pct: Decimal | None = None
    if current is not None:
        if baseline is not None and goal.target != baseline:
            pct = (current - baseline) / (goal.target - baseline)
        elif baseline is None and goal.target:
            pct = current / goal.target if metric.better == "up" else (goal.target / current if current else None)
    projected: Decimal | None = None
    needed: Decimal | None = None
    cumulative = metric.agg == "sum" and not metric.is_ratio
    if current is not None and cumulative:
        days_total = (goal.due_on - goal.start_on).days + 1
        days_done = max(min((today - goal.start_on).days + 1, days_total), 1)
        start_value = goal.baseline or Decimal(0)
        projected = start_value + (current - start_value) / days_done * days_total
        days_left = days_total - days_done
        if days_left > 0:
            needed = max((goal.target - current) / days_left, Decimal(0))
    elif current is not None:
        projected = current
    status = None
    if pct is not None:
        expected = elapsed if cumulative or baseline is not None else Decimal(1)
        if expected <= 0 or pct >= expected * Decimal("0.95"):
            status = ON_TRACK
        elif pct >= expected * Decimal("0.75"):
            status = AT_RISK
        else:
            status = OFF_TRACK
    return Progress(
        current=current,
        source=source,
        percent_of_target=pct,
        percent_of_time=elapsed,
        status=status,
        projected=projected,
        needed_per_day=needed,
        confidence=latest.confidence if latest is not None else None,
    )


def child_goals(session: Session, *, goal: Goal) -> list[Goal]:
    return list(session.scalars(select(Goal).where(Goal.parent_id == goal.id).order_by(Goal.number)))
