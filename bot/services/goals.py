"""SMART goals: creation, check-ins, current value, progress and pace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import UserError, check_length
from bot.services import kpis
from bot.services.refs import get_by_number, next_number
from storage.models import Goal, GoalCheckin, KpiValue, Metric
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
    check_length(data.title, field="title")
    if data.due_on < data.start_on:
        raise UserError.of("error.deadline_before_start", due=data.due_on, start=data.start_on)
    metric = kpis.find_metric(session, workspace_id=workspace_id, name=data.metric)
    if metric is not None:
        kpis.check_unit(metric.name, metric.unit, percent=data.target_percent, currency=data.currency)
    else:
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
    currency: str | None = None,
) -> tuple[Goal, GoalCheckin]:
    goal = get_goal(session, workspace_id=workspace_id, number=number)
    if goal.status == "closed":
        raise UserError.of("error.goal_closed", ref=f"G-{goal.number}")
    kpis.check_unit(goal.metric.name, goal.metric.unit, percent=percent, currency=currency)
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


# Pace. A goal's status is how much of its target the value projected at the deadline reaches (its
# `attainment`): on track from ON_TRACK_AT, at risk from AT_RISK_AT, off track below.
#
# - cumulative (a summed metric: GMV, orders, visits): the total grows with time; projected linearly from the
#   baseline (default 0) at the start, attainment measured from the baseline. (This is the same test as "the share
#   of the target reached keeps up with the share of time elapsed", within the same tolerances.)
# - level (a ratio, an average or a latest value: conversion, CTR, AOV, CAC, CSAT): the value does not add up over
#   time. It is projected at its current level. With a baseline the target lies beyond (in the metric's better
#   direction), the goal is a lift: attainment is measured from the baseline and due in step with time, as on a
#   straight path from the baseline at the start to the target at the deadline. Without one, attainment is the
#   ratio to the target (inverted when lower is better: CAC, bounce rate) and is due in full at once.
ON_TRACK_AT = Decimal("0.95")
AT_RISK_AT = Decimal("0.75")
CUMULATIVE, LEVEL = "cumulative", "level"


@dataclass(frozen=True)
class Progress:
    current: Decimal | None
    source: str  # "kpi" | "checkin" | "none"
    percent_of_target: Decimal | None  # attainment of the current value: 0..1+ of the way to the target
    percent_of_time: Decimal  # 0..1 of the way from start to deadline
    status: str | None  # on track / at risk / off track
    projected: Decimal | None  # value at the deadline: a total at the current run-rate, a level where it stands
    needed_per_day: Decimal | None  # run-rate still needed (cumulative goals)
    confidence: int | None
    kind: str = CUMULATIVE  # CUMULATIVE | LEVEL
    # ratio and average goals short of their target: the level the rest of the period must average to end on it
    needed_level: Decimal | None = None


def pace_kind(metric: Metric) -> str:
    """CUMULATIVE for a metric summed over the goal's period, LEVEL for a ratio, an average or a latest value."""
    return CUMULATIVE if metric.agg == "sum" and not metric.is_ratio else LEVEL


def pace_status(attained: Decimal, *, expected: Decimal = Decimal(1)) -> str:
    """on track / at risk / off track for a goal at `attained` of its target where `expected` was due."""
    if expected <= 0 or attained >= expected * ON_TRACK_AT:
        return ON_TRACK
    if attained >= expected * AT_RISK_AT:
        return AT_RISK
    return OFF_TRACK


def attainment(value: Decimal, *, target: Decimal, baseline: Decimal | None, better: str) -> Decimal | None:
    """How much of a level goal's target `value` achieves: 1 is the target exactly, above 1 beyond it."""
    up = better != "down"
    if baseline is not None and (target > baseline if up else target < baseline):
        return (value - baseline) / (target - baseline)  # 2% → 4%: 3% is half way; CAC ¥80 → ¥60: ¥70 is half way
    if up:
        return value / target if target > 0 else None
    if value <= 0:
        return Decimal(1) if target >= 0 else None  # nothing at all of a lower-is-better metric: the target is met
    return target / value  # CAC ¥60 wanted, ¥75 now: 80 %


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
    kind = pace_kind(metric)
    days_total = (goal.due_on - goal.start_on).days + 1
    days_done = max(min((today - goal.start_on).days + 1, days_total), 1)
    days_left = days_total - days_done
    pct: Decimal | None = None
    projected: Decimal | None = None
    needed: Decimal | None = None
    needed_level: Decimal | None = None
    status: str | None = None
    if kind == CUMULATIVE:
        baseline = goal.baseline if goal.baseline is not None else Decimal(0)
        if current is not None:
            if goal.target != baseline:
                pct = (current - baseline) / (goal.target - baseline)
            start_value = goal.baseline or Decimal(0)
            projected = start_value + (current - start_value) / days_done * days_total
            if days_left > 0:
                needed = max((goal.target - current) / days_left, Decimal(0))
        if pct is not None:
            status = pace_status(pct, expected=elapsed)
    elif current is not None:
        def attained(v: Decimal) -> Decimal | None:
            return attainment(v, target=goal.target, baseline=goal.baseline, better=metric.better)

        pct = attained(current)
        projected = current  # a level stays where it is: the period so far is the best estimate of the whole
        reached = attained(projected)
        if reached is not None:
            # A lift from a baseline (CTR 2 % → 4 % by March) is due step by step: on the way from the baseline
            # at the start to the target at the deadline. A level with no such start is due in full now.
            lift = goal.baseline is not None and (
                goal.target > goal.baseline if metric.better != "down" else goal.target < goal.baseline)
            status = pace_status(reached, expected=elapsed if lift else Decimal(1))
        if days_left > 0 and reached is not None and reached < 1 and (metric.is_ratio or metric.agg == "avg"):
            # The period's value is a weighted mean (by the denominator, or by the number of values logged); with the
            # weight still coming at its rate so far, the rest of the period must average this to end on target.
            level = goal.target + (goal.target - current) * days_done / days_left
            needed_level = level if level >= 0 else None  # below zero: out of reach, the status says so
    return Progress(
        current=current,
        source=source,
        percent_of_target=pct,
        percent_of_time=elapsed,
        status=status,
        projected=projected,
        needed_per_day=needed,
        confidence=latest.confidence if latest is not None else None,
        kind=kind,
        needed_level=needed_level,
    )


def child_goals(session: Session, *, goal: Goal) -> list[Goal]:
    return list(session.scalars(select(Goal).where(Goal.parent_id == goal.id).order_by(Goal.number)))
