"""The daily digest's data: tasks due/overdue/blocked by owner, goal pace, yesterday's KPIs, campaigns, open retros."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from bot import anomalies, metrics
from bot.services import campaigns, goals, kpis
from bot.services import channels as channel_names
from storage.models import Campaign, Goal, KpiValue, Metric, Retro, RetroNote, Task

TRAILING_DAYS = 7
CAMPAIGN_HORIZON = 3  # days ahead for "starting soon" and "ending soon"
FLAT = Decimal("0.01")  # within ±1 % of the trailing average counts as unchanged

# Worst first: the digest opens with what needs attention.
PACE_ORDER = {metrics.MISSED: 0, goals.OFF_TRACK: 0, goals.AT_RISK: 1, None: 2, goals.ON_TRACK: 3, metrics.REACHED: 4}
STAGE_ORDER = {"ending": 0, "live": 1, "starting": 2, "ended": 3}


@dataclass(frozen=True)
class DigestTask:
    number: int
    title: str
    owner_id: str | None
    status: str  # todo | in_progress | blocked
    due_on: date | None
    block_reason: str | None
    campaign_number: int | None
    goal_number: int | None


@dataclass
class OwnerTasks:
    """One owner's (None: unassigned) tasks; each task appears once, in the first list it belongs to."""

    owner_id: str | None
    overdue: list[DigestTask] = field(default_factory=list)  # oldest due date first
    due_today: list[DigestTask] = field(default_factory=list)
    blocked: list[DigestTask] = field(default_factory=list)  # blocked, not due yet (or no due date)

    @property
    def total(self) -> int:
        return len(self.overdue) + len(self.due_today) + len(self.blocked)


@dataclass(frozen=True)
class DigestGoal:
    number: int
    title: str
    owner_id: str | None
    metric_name: str
    unit: str | None
    target: Decimal
    baseline: Decimal | None
    start_on: date
    due_on: date
    channel: str | None
    progress: goals.Progress


@dataclass(frozen=True)
class KpiAlert:
    """One significant move for the threaded alert under the digest."""

    metric: str
    unit: str | None
    channel: str | None  # None: all the channels compared
    check: anomalies.DayCheck
    why: anomalies.GmvMove | None = None  # GMV only: traffic × conversion × AOV against what was expected
    keys: frozenset[str] = frozenset()  # the channel keys judged (Canon.of), what `why` splits over


@dataclass(frozen=True)
class KpiChange:
    """Yesterday's value of one metric against its trailing average over the TRAILING_DAYS days before.

    sum metrics: yesterday's total against the window's sum divided by the number of days in it that
    have any value logged (a day nobody logged is unknown, not zero); `trailing_days` says how many.
    avg metrics: the mean of every value logged in the window. last metrics (levels such as followers):
    the mean of the daily levels on days with data, each channel's latest value carried forward, and
    yesterday's level likewise. Ratio metrics: sum(numerator) / sum(denominator) over the window, from
    the summed parts, never a mean of daily ratios.
    """

    number: int
    name: str
    unit: str | None
    better: str  # up | down
    is_ratio: bool
    yesterday: Decimal
    trailing: Decimal | None  # None when nothing was logged in the window
    trailing_days: int
    change: Decimal | None  # (yesterday - trailing) / |trailing|
    verdict: str  # good | bad | flat | new
    # Coverage: yesterday's value and its trailing average both count only the channels that logged yesterday
    # (like with like); `missing` are the channels that usually log this metric and did not yesterday.
    channels: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    # Significance (bot.anomalies): yesterday against the same weekday over 8 weeks, campaigns in mind. Only a
    # significant move is coloured (`verdict` good/bad); `alerts` are the channels (or the total) that moved.
    check: anomalies.DayCheck | None = None
    alerts: tuple[KpiAlert, ...] = ()
    # The alert that coloured the line (the total's, else the worst of its channels'): the line then shows that
    # comparison (actual against its weekday's median), so its colour and its arrow never disagree.
    basis: KpiAlert | None = None


@dataclass(frozen=True)
class DigestCampaign:
    number: int
    name: str
    stage: str  # starting | live | ending | ended (yesterday)
    start_on: date
    end_on: date
    channels: list[str]
    currency: str | None
    budget: Decimal | None
    spend: Decimal
    revenue: Decimal | None
    roi: Decimal | None
    open_tasks: int

    @property
    def budget_used(self) -> Decimal | None:
        return self.spend / self.budget if self.budget else None


@dataclass(frozen=True)
class DigestRetro:
    number: int
    title: str
    kind: str
    period_start: date
    period_end: date
    slack_channel_id: str
    thread_ts: str | None
    notes: int


@dataclass
class DigestData:
    today: date
    owners: list[OwnerTasks]
    goals: list[DigestGoal]
    kpis: list[KpiChange]
    campaigns: list[DigestCampaign]
    retros: list[DigestRetro]

    @property
    def due_today(self) -> int:
        return sum(len(o.due_today) for o in self.owners)

    @property
    def overdue(self) -> int:
        return sum(len(o.overdue) for o in self.owners)

    @property
    def blocked(self) -> int:
        """Every blocked task, including blocked ones already counted as overdue or due today."""
        return sum(1 for o in self.owners for t in (*o.overdue, *o.due_today, *o.blocked) if t.status == "blocked")

    def pace_counts(self) -> dict[str | None, int]:
        counts: dict[str | None, int] = defaultdict(int)
        for g in self.goals:
            counts[g.progress.status] += 1
        return dict(counts)

    @property
    def is_empty(self) -> bool:
        return not (self.owners or self.goals or self.kpis or self.campaigns or self.retros)


def collect(session: Session, *, workspace_id: str, today: date) -> DigestData:
    """Everything the digest shows, copied out of the ORM into plain dataclasses for a pure renderer."""
    return DigestData(
        today=today,
        owners=collect_tasks(session, workspace_id=workspace_id, today=today),
        goals=collect_goals(session, workspace_id=workspace_id, today=today),
        kpis=collect_kpis(session, workspace_id=workspace_id, today=today),
        campaigns=collect_campaigns(session, workspace_id=workspace_id, today=today),
        retros=collect_retros(session, workspace_id=workspace_id),
    )


# ---- tasks ---------------------------------------------------------------------------------------

def collect_tasks(session: Session, *, workspace_id: str, today: date) -> list[OwnerTasks]:
    """Open tasks due today, overdue or blocked, in one query, grouped by owner."""
    rows = session.execute(
        select(Task, Campaign.number, Goal.number)
        .outerjoin(Campaign, Campaign.id == Task.campaign_id)
        .outerjoin(Goal, Goal.id == Task.goal_id)
        .where(
            Task.workspace_id == workspace_id,
            Task.status != "done",
            or_(Task.due_on <= today, Task.status == "blocked"),
        )
        .order_by(Task.due_on, Task.number)
    ).all()
    by_owner: dict[str | None, OwnerTasks] = {}
    for task, campaign_number, goal_number in rows:
        item = DigestTask(
            number=task.number,
            title=task.title,
            owner_id=task.owner_id,
            status=task.status,
            due_on=task.due_on,
            block_reason=task.block_reason,
            campaign_number=campaign_number,
            goal_number=goal_number,
        )
        group = by_owner.setdefault(task.owner_id, OwnerTasks(owner_id=task.owner_id))
        if item.due_on is not None and item.due_on < today:
            group.overdue.append(item)
        elif item.due_on == today:
            group.due_today.append(item)
        else:
            group.blocked.append(item)
    for group in by_owner.values():
        group.overdue.sort(key=lambda t: (t.due_on or today, t.number))
        group.due_today.sort(key=lambda t: (t.status != "blocked", t.number))
        group.blocked.sort(key=lambda t: (t.due_on is None, t.due_on or today, t.number))
    # Most overdue first, then the busiest; unassigned work last, where the renderer asks for an owner.
    return sorted(
        by_owner.values(),
        key=lambda g: (g.owner_id is None, -len(g.overdue), -g.total, g.owner_id or ""),
    )


# ---- goals ---------------------------------------------------------------------------------------

def collect_goals(session: Session, *, workspace_id: str, today: date) -> list[DigestGoal]:
    active = session.scalars(
        select(Goal)
        .where(Goal.workspace_id == workspace_id, Goal.status == "active")
        .options(
            selectinload(Goal.metric).selectinload(Metric.numerator),
            selectinload(Goal.metric).selectinload(Metric.denominator),
        )
        .order_by(Goal.due_on, Goal.number)
    ).all()
    result = []
    for goal in active:
        metric = goal.metric
        result.append(
            DigestGoal(
                number=goal.number,
                title=goal.title,
                owner_id=goal.owner_id,
                metric_name=metric.name,
                unit=metric.unit,
                target=goal.target,
                baseline=goal.baseline,
                start_on=goal.start_on,
                due_on=goal.due_on,
                channel=goal.channel,
                progress=goals.progress(session, goal=goal, today=today),
            )
        )
    result.sort(key=lambda g: (PACE_ORDER.get(g.progress.status, 2), g.due_on, g.number))
    return result


# ---- KPIs ----------------------------------------------------------------------------------------

def collect_kpis(session: Session, *, workspace_id: str, today: date) -> list[KpiChange]:
    """Every metric with a value yesterday (ratios: computable yesterday) against its trailing average, over
    the same channels only: a channel that has not logged yesterday is missing from both sides (and named),
    so one channel logging early never reads as a collapse of the total."""
    yesterday = today - timedelta(days=1)
    first, last = yesterday - timedelta(days=TRAILING_DAYS), yesterday - timedelta(days=1)
    metrics = list(
        session.scalars(
            select(Metric).where(Metric.workspace_id == workspace_id).order_by(Metric.number)
        )
    )  # ratio parts are in this list too, so metric.numerator resolves from the identity map
    history_start = yesterday - timedelta(days=7 * anomalies.WEEKS)
    canon = channel_names.canon(session, workspace_id=workspace_id)
    logged = _logged(session, workspace_id=workspace_id, start=history_start, end=yesterday, canon=canon)
    windows = _campaign_windows(session, workspace_id=workspace_id, start=history_start, end=yesterday, canon=canon)
    levels = _daily_levels(
        session, metric_ids=[m.id for m in metrics if not m.is_ratio and m.agg == "last" and yesterday in logged.get(m.id, {})],
        start=first, end=last,
    )
    result = []
    for metric in metrics:
        parts = [metric.numerator_id or 0, metric.denominator_id or 0] if metric.is_ratio else [metric.id]
        reported = set.intersection(*(set(logged.get(p, {}).get(yesterday, {})) for p in parts))
        if not reported:
            continue
        names = logged_names(logged, parts)
        usual = _usual_channels(logged, parts, first, last)
        if not reported & _channels_in(logged, parts, first, last):
            # none of yesterday's channels has logged before (the team began splitting by channel, say):
            # the totals are what compares, over every channel on both sides
            reported = _channels_in(logged, parts, first, yesterday)
            usual, totals = set(), True
        else:
            totals = False
        missing = tuple(names[c] for c in sorted(usual - reported, key=lambda c: names[c]))
        channels = tuple(names[c] for c in sorted(reported, key=lambda c: names[c]))
        level = not metric.is_ratio and metric.agg == "last"
        if level:
            # A level counts channels not logged yesterday at their latest value in the window.
            now = kpis.period_value(session, metric=metric, start=first, end=yesterday).value
            daily = levels.get(metric.id, [])
            span = len(daily)
            trailing = sum(daily, Decimal(0)) / span if span else None
        else:
            now, trailing, span = _like_for_like(metric, logged, reported, yesterday, first, last, totals=totals)
        if now is None:
            continue  # a ratio whose denominator was zero yesterday
        change = dataclasses.replace(_change(metric, now, trailing, span), channels=channels, missing=missing)
        if not level:
            change = _significance(change, metric, logged, reported, names, windows, yesterday, history_start)
        else:  # a level is shown, not judged: no fixed ±% colours
            change = dataclasses.replace(change, verdict="new" if trailing is None else "flat")
        result.append(change)
    _explain_gmv(result, metrics, logged, windows, yesterday, history_start, canon)
    return result


def _campaign_windows(
    session: Session, *, workspace_id: str, start: date, end: date, canon: channel_names.Canon
) -> list[tuple[anomalies.CampaignWindow, frozenset[str]]]:
    """Campaigns overlapping [start, end] with their channels (as channel keys, `Canon.of`; empty: every
    channel)."""
    rows = session.scalars(
        select(Campaign).where(Campaign.workspace_id == workspace_id, Campaign.start_on <= end, Campaign.end_on >= start)
    )
    return [
        (anomalies.CampaignWindow(f"C-{c.number}", c.start_on, c.end_on), frozenset(canon.of(ch) for ch in c.channels))
        for c in rows
    ]


def _windows_for(windows: list[tuple[anomalies.CampaignWindow, frozenset[str]]], channels: set[str],
                 day: date | None = None) -> list[anomalies.CampaignWindow]:
    """The campaigns on any of `channels`: their days leave the history. A campaign explains only its own
    channels: when `day` is given, one that covers only some of `channels` keeps its days before `day` out of the
    history but does not make `day` expected (a campaign on 天猫 does not explain JD's part of a total)."""
    out = []
    for window, on in windows:
        if on and not on & channels:
            continue
        if day is not None and on and not channels <= on and window.covers(day):
            if window.start < day:
                out.append(anomalies.CampaignWindow(window.ref, window.start, day - timedelta(days=1)))
            continue
        out.append(window)
    return out


def _daily_series(
    metric: Metric, logged: Logged, channels: set[str], start: date, end: date
) -> dict[date, Decimal | None]:
    """The metric per day over `channels` (as the digest combines them), None on a day none of them logged."""
    out: dict[date, Decimal | None] = {}
    day = start
    while day <= end:
        if metric.is_ratio:
            n = {k: v for k, (_, v) in logged.get(metric.numerator_id or 0, {}).get(day, {}).items() if k in channels}
            d = {k: v for k, (_, v) in logged.get(metric.denominator_id or 0, {}).get(day, {}).items() if k in channels}
            both = n.keys() & d.keys()
            out[day] = metrics.ratio(sum((n[k] for k in both), Decimal(0)), sum((d[k] for k in both), Decimal(0))) if both else None
        else:
            values = [v for k, (_, v) in logged.get(metric.id, {}).get(day, {}).items() if k in channels]
            if not values:
                out[day] = None
            else:
                out[day] = sum(values, Decimal(0)) / (len(values) if metric.agg == "avg" else 1)
        day += timedelta(days=1)
    return out


def _significance(
    change: KpiChange, metric: Metric, logged: Logged, reported: set[str], names: dict[str, str],
    windows: list[tuple[anomalies.CampaignWindow, frozenset[str]]], yesterday: date, history_start: date,
) -> KpiChange:
    """Yesterday's value judged by bot.anomalies, for the channels compared and for each of them alone."""
    before = yesterday - timedelta(days=1)
    # a campaign explains only its own channels: with one live on some of them, the total is judged on the others
    live_on: set[str] = set()
    for window, on in windows:
        if on and window.covers(yesterday):
            live_on |= on & reported
    histories = ({k: _daily_series(metric, logged, {k}, history_start, before) for k in reported}
                 if len(reported) > 1 else {})
    judged, value = reported, change.yesterday
    if live_on and not reported <= live_on:
        judged = reported - live_on
    # like with like: a channel logging for the first time has no usual to be judged against, so it is left out
    known = {k for k in judged if k in histories and any(v is not None for v in histories[k].values())}
    if histories and known and known != judged:
        judged = known
    if judged != reported:
        judged_value = _daily_series(metric, logged, judged, yesterday, yesterday)[yesterday]
        if judged_value is None:
            judged = reported
        else:
            value = judged_value
    total = anomalies.check_day(
        yesterday, value, _daily_series(metric, logged, judged, history_start, before),
        campaigns=_windows_for(windows, judged, yesterday), better=metric.better,
    )
    alerts: list[KpiAlert] = []
    total_alert: KpiAlert | None = None
    # a group of one channel is that channel: its own alert below says it, once
    if total.verdict in ("high", "low") and (len(reported) == 1 or len(judged) > 1):
        if judged != reported:
            where: str | None = ", ".join(sorted(names[k] for k in judged))
        else:
            where = None if len(reported) > 1 else names[next(iter(reported))]
        total_alert = KpiAlert(metric.name, metric.unit, where, total, keys=frozenset(judged))
        alerts.append(total_alert)
    if len(reported) > 1:
        for key in sorted(reported, key=lambda k: names[k]):
            own = _daily_series(metric, logged, {key}, yesterday, yesterday)[yesterday]
            if own is None:
                continue
            check = anomalies.check_day(
                yesterday, own, histories[key], campaigns=_windows_for(windows, {key}), better=metric.better,
            )
            if check.verdict in ("high", "low"):
                alerts.append(KpiAlert(metric.name, metric.unit, names[key], check, keys=frozenset({key})))
    # the line is coloured by the alert that flagged it: the total's, else its worst channel's, so the headline's
    # counts of unusual KPIs agree with the alert in the thread
    basis = total_alert
    if basis is None and alerts:
        basis = next((a for a in alerts if a.check.tone == "bad"), alerts[0])
    if basis is not None:
        verdict: str = basis.check.tone or "flat"
    elif change.trailing is None:
        verdict = "new"
    elif total.verdict == "campaign":
        verdict = "campaign"
    else:
        verdict = "flat"  # within its normal range, or too little history to tell: not coloured
    return dataclasses.replace(change, verdict=verdict, check=total, alerts=tuple(alerts), basis=basis)


GMV_NAMES = ("gmv", "revenue", "sales", "销售额", "成交额", "支付金额")


def _explain_gmv(
    changes: list[KpiChange], all_metrics: list[Metric], logged: Logged,
    windows: list[tuple[anomalies.CampaignWindow, frozenset[str]]], yesterday: date, history_start: date,
    canon: channel_names.Canon,
) -> None:
    """For a GMV alert, the move split into traffic × conversion × AOV against each part's expected value."""
    by_key = {m.key: m for m in all_metrics if not m.is_ratio}
    visits, orders = by_key.get("visits") or by_key.get("访客数"), by_key.get("orders") or by_key.get("订单数")
    if visits is None or orders is None:
        return
    before = yesterday - timedelta(days=1)
    for i, change in enumerate(changes):
        metric = by_key.get(change.name.casefold())
        if metric is None or metric.key not in GMV_NAMES or not change.alerts:
            continue
        explained = []
        for alert in change.alerts:
            keys = set(logged.get(metric.id, {}).get(yesterday, {}))
            if alert.keys:
                keys &= alert.keys  # the channels that alert judged, a campaign's left out
            series = {m: _daily_series(m, logged, keys, history_start, before) for m in (visits, orders, metric)}
            expected = anomalies.expected_funnel(
                yesterday, series[visits], series[orders], series[metric], campaigns=_windows_for(windows, keys))
            actual = anomalies.Funnel(*(_daily_series(m, logged, keys, yesterday, yesterday)[yesterday]
                                        for m in (visits, orders, metric)))
            explained.append(dataclasses.replace(alert, why=anomalies.split_gmv_change(expected, actual, channel=alert.channel)))
        changes[i] = dataclasses.replace(change, alerts=tuple(explained))


Logged = dict[int, dict[date, dict[str, tuple[str, Decimal]]]]


def _logged(session: Session, *, workspace_id: str, start: date, end: date, canon: channel_names.Canon) -> Logged:
    """metric id → day → channel key (`Canon.of`: 京东 and JD are one) → (first spelling, value). A channel
    stored under two of its names on one day counts once, with the value logged later (`/kpi log`'s rule)."""
    out: Logged = defaultdict(lambda: defaultdict(dict))
    rows = session.execute(
        select(KpiValue.metric_id, KpiValue.channel, KpiValue.day, KpiValue.value)
        .where(KpiValue.workspace_id == workspace_id, KpiValue.day >= start, KpiValue.day <= end)
        .order_by(KpiValue.id)
    )
    for metric_id, channel, day, value in rows:
        key = canon.of(str(channel))
        earlier = out[metric_id][day].get(key)
        out[metric_id][day][key] = (earlier[0] if earlier else str(channel), value)
    return out


def logged_names(logged: Logged, parts: list[int]) -> dict[str, str]:
    names: dict[str, str] = {}
    for part in parts:
        for by_channel in logged.get(part, {}).values():
            for key, (name, _) in by_channel.items():
                names.setdefault(key, name)
    return names


def _channels_in(logged: Logged, parts: list[int], first: date, last: date) -> set[str]:
    return {key for day, by_channel in logged.get(parts[0], {}).items() if first <= day <= last for key in by_channel}


def _usual_channels(logged: Logged, parts: list[int], first: date, last: date) -> set[str]:
    """Channels that logged the metric (a ratio: both its parts) on at least half of the window's days, the
    days nothing was logged included: 4 of the 7 days before yesterday."""
    window = (last - first).days + 1
    counts: dict[str, int] = defaultdict(int)
    for day, by_channel in logged.get(parts[0], {}).items():
        if first <= day <= last:
            for key in by_channel:
                if all(key in logged.get(p, {}).get(day, {}) for p in parts):
                    counts[key] += 1
    return {key for key, n in counts.items() if 2 * n >= window}


def _like_for_like(
    metric: Metric, logged: Logged, channels: set[str], yesterday: date, first: date, last: date, *, totals: bool
) -> tuple[Decimal | None, Decimal | None, int]:
    """Yesterday's value over `channels` and their trailing average over the window (bot.metrics): a sum is the
    sum over those channels of each one's mean daily value on the days it logged (`totals`: the mean daily total
    over the days anything was logged); an average is the mean of their values; a ratio pools both parts over
    the channel-days where both were logged."""
    def values(part: int, day: date) -> dict[str, Decimal]:
        return {k: v for k, (_, v) in logged.get(part, {}).get(day, {}).items() if k in channels}

    window = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    if metric.is_ratio:
        num_id, den_id = metric.numerator_id or 0, metric.denominator_id or 0
        y_num, y_den = values(num_id, yesterday), values(den_id, yesterday)
        now = metrics.ratio(sum(y_num.values(), Decimal(0)), sum(y_den.values(), Decimal(0)))
        num = den = Decimal(0)
        days = 0
        for day in window:
            n, d = values(num_id, day), values(den_id, day)
            both = n.keys() & d.keys()
            if both:
                days += 1
                num += sum((n[k] for k in both), Decimal(0))
                den += sum((d[k] for k in both), Decimal(0))
        return now, metrics.ratio(num, den) if days else None, days
    today_values = values(metric.id, yesterday)
    window_values = {day: values(metric.id, day) for day in window}
    span = sum(1 for v in window_values.values() if v)
    if metric.agg == "avg":
        pooled = [v for by_channel in window_values.values() for v in by_channel.values()]
        now = sum(today_values.values(), Decimal(0)) / len(today_values)
        return now, (sum(pooled, Decimal(0)) / len(pooled)) if pooled else None, span
    if totals:
        daily = [sum(v.values(), Decimal(0)) for v in window_values.values() if v]
        return sum(today_values.values(), Decimal(0)), (sum(daily, Decimal(0)) / len(daily)) if daily else None, span
    means: dict[str, Decimal] = {}
    for key in channels & today_values.keys():
        own = [by_channel[key] for by_channel in window_values.values() if key in by_channel]
        if own:
            means[key] = sum(own, Decimal(0)) / len(own)
    if not means:
        return sum(today_values.values(), Decimal(0)), None, span
    # a channel with no history yet is left out of both sides rather than read as growth
    now = sum((today_values[k] for k in means), Decimal(0))
    return now, sum(means.values(), Decimal(0)), span


def _daily_levels(session: Session, *, metric_ids: list[int], start: date, end: date) -> dict[int, list[Decimal]]:
    """Per `last` metric, its level on each day with data: the sum of every channel's latest value so far."""
    rows = kpis.daily_series(session, metric_ids=metric_ids, start=start, end=end) if metric_ids else []
    by_metric: dict[int, dict[date, dict[str, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    for metric_id, channel, day, value in rows:
        by_metric[metric_id][day][channel] = value
    result: dict[int, list[Decimal]] = {}
    for metric_id, days in by_metric.items():
        latest: dict[str, Decimal] = {}
        result[metric_id] = []
        for day in sorted(days):
            latest.update(days[day])
            result[metric_id].append(sum(latest.values(), Decimal(0)))
    return result


def _change(metric: Metric, now: Decimal, trailing: Decimal | None, span: int) -> KpiChange:
    change: Decimal | None = None
    if trailing is None:
        verdict = "new"
    elif trailing == 0:
        verdict = "flat" if now == 0 else ("good" if (now > 0) == (metric.better == "up") else "bad")
    else:
        change = (now - trailing) / abs(trailing)
        if abs(change) < FLAT:
            verdict = "flat"
        else:
            verdict = "good" if (change > 0) == (metric.better == "up") else "bad"
    return KpiChange(
        number=metric.number,
        name=metric.name,
        unit=metric.unit,
        better=metric.better,
        is_ratio=metric.is_ratio,
        yesterday=now,
        trailing=trailing,
        trailing_days=span,
        change=change,
        verdict=verdict,
    )


# ---- campaigns -----------------------------------------------------------------------------------

def campaign_stage(campaign: Campaign, today: date) -> str | None:
    """starting (within the horizon), ending (live, ends within it), live, ended (yesterday) or None."""
    horizon = today + timedelta(days=CAMPAIGN_HORIZON)
    if today < campaign.start_on <= horizon:
        return "starting"
    if campaign.start_on <= today <= campaign.end_on:
        return "ending" if campaign.end_on <= horizon else "live"
    if campaign.end_on == today - timedelta(days=1):
        return "ended"
    return None


def collect_campaigns(session: Session, *, workspace_id: str, today: date) -> list[DigestCampaign]:
    horizon = today + timedelta(days=CAMPAIGN_HORIZON)
    candidates = session.scalars(
        select(Campaign).where(
            Campaign.workspace_id == workspace_id,
            Campaign.status == "open",
            Campaign.start_on <= horizon,
            Campaign.end_on >= today - timedelta(days=1),
        )
    ).all()
    result = []
    for campaign in candidates:
        stage = campaign_stage(campaign, today)
        if stage is None:
            continue
        s = campaigns.summary(session, campaign=campaign)
        result.append(
            DigestCampaign(
                number=campaign.number,
                name=campaign.name,
                stage=stage,
                start_on=campaign.start_on,
                end_on=campaign.end_on,
                channels=list(campaign.channels),
                currency=campaign.currency,
                budget=campaign.budget,
                spend=s.spend,
                revenue=s.revenue,
                roi=s.roi,
                open_tasks=s.open_tasks,
            )
        )
    result.sort(key=lambda c: (STAGE_ORDER[c.stage], c.end_on if c.stage != "starting" else c.start_on, c.number))
    return result


# ---- retrospectives ------------------------------------------------------------------------------

def collect_retros(session: Session, *, workspace_id: str) -> list[DigestRetro]:
    notes = select(func.count()).where(RetroNote.retro_id == Retro.id).correlate(Retro).scalar_subquery()
    rows = session.execute(
        select(Retro, notes)
        .where(Retro.workspace_id == workspace_id, Retro.status == "open")
        .order_by(Retro.period_end, Retro.number)
    ).all()
    return [
        DigestRetro(
            number=retro.number,
            title=retro.title,
            kind=retro.kind,
            period_start=retro.period_start,
            period_end=retro.period_end,
            slack_channel_id=retro.slack_channel_id,
            thread_ts=retro.thread_ts,
            notes=int(count),
        )
        for retro, count in rows
    ]
