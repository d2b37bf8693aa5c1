"""Rows made the way the bot makes them: through the services (bot/services), with the arguments a command gives.

    metric(db, ws, "conversion", numerator="orders", denominator="visits")
    log(db, ws, "visits", "1000", date(2026, 11, 1), channel="天猫")
    number = goal(db, ws, "gmv", "100000", currency="¥").number

Each factory takes a Database (and commits in a session of its own) or a Session (and leaves committing to the
caller). An amount is given as typed in Slack ("2.5%" is D("0.025") with percent=True) or as the service takes it
(`"0.025", percent=True`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from bot.services import campaigns, goals, kpis, tasks
from storage.db import Database
from storage.models import Campaign, Goal, Task

#: who typed the command, unless a test says
USER = "U1"
NOV1, NOV30 = date(2026, 11, 1), date(2026, 11, 30)

Amount = str | int | Decimal


@contextmanager
def _session(to: Database | Session) -> Iterator[Session]:
    if isinstance(to, Session):
        yield to
    else:
        with to.session() as s:
            yield s


def _amount(value: Amount) -> tuple[Decimal, bool]:
    """The value a command hands the service, and whether it was typed with `%`."""
    if isinstance(value, str) and value.endswith("%"):
        return Decimal(value[:-1]) / 100, True
    return Decimal(value), False


def metric(
    to: Database | Session,
    ws: str,
    name: str,
    *,
    unit: str | None = None,
    agg: str | None = None,
    better: str | None = None,
    numerator: str | None = None,
    denominator: str | None = None,
    user: str | None = USER,
) -> kpis.DefineResult:
    """`/kpi define <name> unit:… agg:… better:…` (or `= numerator / denominator`)."""
    spec = kpis.MetricSpec(name, unit=unit, agg=agg, better=better, numerator=numerator, denominator=denominator)
    with _session(to) as s:
        return kpis.define_metric(s, workspace_id=ws, spec=spec, user_id=user)


def log(
    to: Database | Session,
    ws: str,
    metric: str,
    value: Amount,
    day: date,
    *,
    channel: str = "",
    percent: bool = False,
    currency: str | None = None,
    user: str | None = USER,
) -> kpis.LoggedValue:
    """`/kpi log <metric> <value>` for `day` in `channel`."""
    amount, typed_percent = _amount(value)
    with _session(to) as s:
        return kpis.log_value(s, workspace_id=ws, metric_name=metric, value=amount, percent=percent or typed_percent,
                              channel=channel, day=day, user_id=user, currency=currency)


def goal(
    to: Database | Session,
    ws: str,
    metric: str,
    target: Amount,
    *,
    title: str | None = None,
    percent: bool = False,
    baseline: Amount | None = None,
    baseline_percent: bool = False,
    start: date = NOV1,
    due: date = NOV30,
    currency: str | None = None,
    owner: str | None = None,
    channel: str | None = None,
    parent: int | None = None,
    user: str | None = USER,
) -> Goal:
    """`/goal add "<title>" metric:<metric> target:<target> …` (title: "<metric> goal")."""
    amount, typed_percent = _amount(target)
    start_from, typed_baseline_percent = _amount(baseline) if baseline is not None else (None, False)
    data = goals.GoalCreate(
        title=title if title is not None else f"{metric} goal", metric=metric, target=amount,
        target_percent=percent or typed_percent, due_on=due, start_on=start, currency=currency, baseline=start_from,
        owner_id=owner, baseline_percent=baseline_percent or typed_baseline_percent, parent=parent, channel=channel,
    )
    with _session(to) as s:
        return goals.create_goal(s, workspace_id=ws, data=data, user_id=user)


def task(
    to: Database | Session,
    ws: str,
    title: str,
    *,
    owner: str | None = None,
    due: date | None = None,
    status: str = "todo",
    reason: str | None = None,
    campaign: int | None = None,
    goal: int | None = None,
    user: str | None = USER,
) -> Task:
    """`/task add <title> @owner due:…`, then moved to `status` (with `reason` when blocked)."""
    data = tasks.TaskCreate(title=title, owner_id=owner, due_on=due, campaign=campaign, goal=goal)
    with _session(to) as s:
        made = tasks.create_task(s, workspace_id=ws, data=data, user_id=user)
        if status != "todo":
            tasks.set_status(s, workspace_id=ws, number=made.number, status=status, reason=reason)
        return made


def campaign(
    to: Database | Session,
    ws: str,
    name: str,
    start: date,
    end: date,
    *,
    budget: Amount | None = None,
    currency: str | None = None,
    channels: Sequence[str] = (),
    goal: int | None = None,
    user: str | None = USER,
) -> Campaign:
    """`/campaign add "<name>" <start>..<end> budget:… channels:…`."""
    data = campaigns.CampaignCreate(name=name, start_on=start, end_on=end, channels=list(channels),
                                    budget=None if budget is None else Decimal(budget), currency=currency, goal=goal)
    with _session(to) as s:
        return campaigns.create_campaign(s, workspace_id=ws, data=data, user_id=user)
