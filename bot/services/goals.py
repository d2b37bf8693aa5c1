"""SMART goals: creation, check-ins, current value, progress and pace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import metrics
from bot.errors import UserError, check_length
from bot.services import channels, kpis, notifications
from bot.services.notifications import Actor
from bot.services.refs import get_by_number, next_number
from storage.models import Goal, GoalCheckin, KpiValue, Metric
from storage.types import utcnow


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
    baseline_percent: bool = False  # typed with % (`baseline:2.5%`), like target_percent
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
    # On a % metric a bare number above 1 is in percent points (`target:4` is 4 %), each value on its own:
    # `target:3.5% baseline:2.5` is 3.5 % from 2.5 %.
    target, baseline = data.target, data.baseline
    if metric.unit == "%":
        if not data.target_percent and target > 1:
            target = target / 100
        if baseline is not None and not data.baseline_percent and baseline > 1:
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
        channel=channels.resolve(session, workspace_id=workspace_id, channel=data.channel) if data.channel else None,
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


def close_goal(session: Session, *, workspace_id: str, number: int, by: Actor | None = None) -> tuple[Goal, bool]:
    goal = get_goal(session, workspace_id=workspace_id, number=number)
    if goal.status == "closed":
        return goal, False
    goal.status = "closed"
    goal.closed_at = utcnow()
    notifications.record(session, workspace_id=workspace_id, user_id=goal.owner_id, by=by, subject=notifications.GOAL,
                         number=goal.number, kind=notifications.CLOSED)
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
    by: Actor | None = None,
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
    notifications.record(session, workspace_id=workspace_id, user_id=goal.owner_id, by=by, subject=notifications.GOAL,
                         number=goal.number, kind=notifications.CHECKIN,
                         detail={"value": str(value), **({"confidence": confidence} if confidence else {})})
    return goal, row


# Pace: the formulas live in bot.metrics (one definition for every place a goal is shown).
ON_TRACK, AT_RISK, OFF_TRACK = metrics.ON_TRACK, metrics.AT_RISK, metrics.OFF_TRACK
CUMULATIVE, LEVEL = metrics.TOTAL, metrics.LEVEL


@dataclass(frozen=True)
class Progress:
    current: Decimal | None
    source: str  # "kpi" | "checkin" | "none"
    percent_of_target: Decimal | None  # attainment of the current value: 0..1+ of the way to the target
    percent_of_time: Decimal  # 0..1: the share of the period's days already over
    status: str | None  # on track / at risk / off track; None before the first day is over
    projected: Decimal | None  # value at the deadline: a total at the run-rate so far, a level where it stands
    needed_per_day: Decimal | None  # what each day left must add (total goals)
    confidence: int | None
    kind: str = CUMULATIVE  # CUMULATIVE | LEVEL
    # ratio and average goals short of their target: the level the rest of the period must average to end on it
    needed_level: Decimal | None = None
    started: bool = True  # False while the goal's start is still ahead
    vs_baseline: Decimal | None = None  # a total's projection against its baseline (a reference period)


@dataclass(frozen=True)
class GoalCard:
    """A goal as replies and posts show it, its metric and parent goal included (plain values, read in the session)."""

    number: int
    title: str
    status: str
    target: Decimal
    baseline: Decimal | None
    start_on: date
    due_on: date
    owner_id: str | None
    channel: str | None
    unit: str | None  # its metric's
    metric_name: str
    metric_number: int
    ratio_parts: tuple[str, str] | None  # a ratio metric's numerator and denominator names: it is logged as those
    parent_number: int | None
    parent_title: str | None
    kind: str = metrics.TOTAL  # metrics.TOTAL or LEVEL: what its baseline means

    @classmethod
    def of(cls, goal: Goal) -> GoalCard:
        metric, parent = goal.metric, goal.parent
        parts = None
        if metric.numerator is not None and metric.denominator is not None:
            parts = (metric.numerator.name, metric.denominator.name)
        return cls(
            number=goal.number, title=goal.title, status=goal.status, target=goal.target, baseline=goal.baseline,
            start_on=goal.start_on, due_on=goal.due_on, owner_id=goal.owner_id, channel=goal.channel,
            unit=metric.unit, metric_name=metric.name, metric_number=metric.number, ratio_parts=parts,
            parent_number=parent.number if parent is not None else None,
            parent_title=parent.title if parent is not None else None, kind=pace_kind(metric),
        )


def pace_kind(metric: Metric) -> str:
    """CUMULATIVE for a metric summed over the goal's period, LEVEL for a ratio, an average or a latest value."""
    return CUMULATIVE if metric.agg == "sum" and not metric.is_ratio else LEVEL


def time_elapsed(goal: Goal, today: date) -> Decimal:
    return metrics.goal_days(goal.start_on, goal.due_on, today).time


def progress(session: Session, *, goal: Goal, today: date) -> Progress:
    """A goal's figures on `today` (bot.metrics.goal_figures): from its logged KPI values (on its channel only,
    when it has one), or from its latest check-in when that is newer than the last value logged for it."""
    metric = goal.metric
    end = min(today, goal.due_on)
    value = kpis.period_value(session, metric=metric, start=goal.start_on, end=end, channel=goal.channel)
    current, source = value.value, "kpi" if value.value is not None else "none"
    kind = pace_kind(metric)
    elapsed_value: Decimal | None = None
    if kind == CUMULATIVE and current is not None:
        yesterday = min(today - timedelta(days=1), goal.due_on)
        elapsed_value = (
            kpis.period_value(session, metric=metric, start=goal.start_on, end=yesterday, channel=goal.channel).value
            if yesterday >= goal.start_on else None
        ) or Decimal(0)
    last_kpi_at: datetime | None = None
    logged_today = False
    if current is not None:
        ids = [metric.numerator_id, metric.denominator_id] if metric.is_ratio else [metric.id]
        where = [KpiValue.metric_id.in_(ids), KpiValue.day >= goal.start_on, KpiValue.day <= end]
        if goal.channel is not None:
            where.append(func.lower(KpiValue.channel).in_(
                channels.names(session, workspace_id=goal.workspace_id, channel=goal.channel)))
        last_kpi_at, last_day = session.execute(
            select(func.max(KpiValue.updated_at), func.max(KpiValue.day)).where(*where)
        ).one()
        logged_today = last_day == today
    latest = session.scalars(
        select(GoalCheckin).where(GoalCheckin.goal_id == goal.id).order_by(GoalCheckin.id.desc()).limit(1)
    ).first()
    if latest is not None and (last_kpi_at is None or latest.created_at >= last_kpi_at):
        # a check-in is the standing as of now
        current, source, elapsed_value, logged_today = latest.value, "checkin", None, False
    figures = metrics.goal_figures(
        kind=kind, target=goal.target, baseline=goal.baseline, better=metric.better, start=goal.start_on,
        deadline=goal.due_on, today=today, current=current, elapsed_value=elapsed_value,
        averaged=metric.is_ratio or metric.agg == "avg", logged_today=logged_today,
    )
    return Progress(
        current=current,
        source=source,
        percent_of_target=figures.attained,
        percent_of_time=figures.time,
        status=figures.status,
        projected=figures.projected,
        needed_per_day=figures.needed_per_day,
        confidence=latest.confidence if latest is not None else None,
        kind=kind,
        needed_level=figures.needed_level,
        started=figures.days.started,
        vs_baseline=figures.vs_baseline,
    )


def child_goals(session: Session, *, goal: Goal) -> list[Goal]:
    return list(session.scalars(select(Goal).where(Goal.parent_id == goal.id).order_by(Goal.number)))
