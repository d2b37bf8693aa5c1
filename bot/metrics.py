"""The one place the bot's figures are defined: combining values, ratios, goal attainment, pace, projection and
what is still needed. Pure (plain numbers and dates in, plain numbers out): the services, the digest, the weekly
report, retrospectives, charts and the App Home all take their figures from here, so one goal reads the same
everywhere. The README's "How the figures are computed" states these formulas, and a test checks its worked
examples against this module.

Time is counted in whole days. A goal's period is [start, deadline], both included. A day counts as elapsed once
it is over: on `today`, the days from the start up to yesterday are elapsed, today is not (it is still being
logged). So on a deadline's morning a goal is not yet at "100 % of time", and its projection is not dragged down
by a day that has only begun.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

ON_TRACK, AT_RISK, OFF_TRACK = "on track", "at risk", "off track"
#: After its deadline a goal is no longer on pace or off it: it was reached, or missed.
REACHED, MISSED = "reached", "missed"
#: A goal is on track when the value projected at its deadline reaches this share of its target, at risk from
#: AT_RISK_AT, off track below.
ON_TRACK_AT = Decimal("0.95")
AT_RISK_AT = Decimal("0.75")

#: A summed metric (GMV, orders, visits): its goal is a total over the period.
TOTAL = "total"
#: A ratio, an average or a latest value (conversion, AOV, CTR, CAC, followers): its goal is a level.
LEVEL = "level"

ZERO, ONE = Decimal(0), Decimal(1)

#: The largest amount any value, target, baseline, check-in, budget or spend may be (1,000,000,000,000 = 1万亿):
#: values are stored as integer millionths, and this keeps every one far inside what storage holds.
MAX_AMOUNT = Decimal(10) ** 12
#: The smallest amount apart from 0 that storage keeps (values are stored to the millionth); a smaller one would
#: be stored as 0, so it is refused.
MIN_AMOUNT = Decimal("0.000001")


def amount_fits(value: Decimal) -> str | None:
    """None when `value` (as stored: a percentage as its fraction) can be stored as it is; else "large" (beyond
    MAX_AMOUNT either way) or "small" (not 0, yet below the storage precision, so it would be stored as 0)."""
    if abs(value) > MAX_AMOUNT:
        return "large"
    if value != 0 and abs(value) < MIN_AMOUNT:
        return "small"
    return None


# ---- combining values -----------------------------------------------------------------------------------


def combine(agg: str, values: Iterable[Decimal], *, latest: Iterable[Decimal] = ()) -> Decimal | None:
    """One value from several logged ones (channels × days) by the metric's aggregation: `sum` adds them,
    `avg` is their mean (each logged channel-day counts once), `last` adds each channel's latest value
    (`latest`). None when nothing was logged."""
    items = list(values)
    if not items:
        return None
    if agg == "avg":
        return sum(items, ZERO) / len(items)
    if agg == "last":
        return sum(latest, ZERO)
    return sum(items, ZERO)


def ratio(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    """A ratio metric over any span is Σ numerator / Σ denominator over the same channels and days (never a mean
    of daily ratios); None when either part is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def change(current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    """Relative change (current − previous) / |previous|; None without both, or when previous is 0."""
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / abs(previous)


def like_for_like(agg: str, value: Decimal | None, days_logged: int, *, ratio: bool = False) -> Decimal | None:
    """The figure one span of days is compared on with another span (`/kpi show`, its `why`, a retrospective):
    a summed metric by its mean per day logged (value ÷ the days of the span with a value), so that days nobody
    logged count on neither side; a ratio, an average or a latest value as it is (already a level). None when
    nothing was logged."""
    if value is None:
        return None
    if ratio or agg != "sum":
        return value
    return value / days_logged if days_logged > 0 else None


# ---- goals ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Days:
    """A goal's period on a given day: its length, the days already over, and those left (today included)."""

    total: int
    elapsed: int
    started: bool

    @property
    def left(self) -> int:
        return self.total - self.elapsed

    @property
    def time(self) -> Decimal:
        """Share of the period elapsed, 0..1."""
        return Decimal(self.elapsed) / Decimal(self.total)


def goal_days(start: date, deadline: date, today: date) -> Days:
    """total = deadline − start + 1; elapsed = days from start to yesterday, within the period."""
    total = max((deadline - start).days + 1, 1)
    elapsed = min(max((today - start).days, 0), total)
    return Days(total=total, elapsed=elapsed, started=today >= start)


def attainment(
    value: Decimal | None, *, target: Decimal, baseline: Decimal | None, better: str, kind: str
) -> Decimal | None:
    """"% of target", as a fraction (1 = the target exactly).

    total: value / target (the baseline of a total is a reference, e.g. last year's same period; it is not
    subtracted). level with a baseline the target lies beyond (in the better direction): the share of the lift
    made, (value − baseline) / (target − baseline). level without one: value / target, or target / value when
    lower is better (CAC ¥60 wanted, ¥75 now: 80 %)."""
    if value is None:
        return None
    if kind == TOTAL:
        return value / target if target > 0 else None
    up = better != "down"
    if baseline is not None and (target > baseline if up else target < baseline):
        return (value - baseline) / (target - baseline)
    if up:
        return value / target if target > 0 else None
    if value <= 0:
        return ONE if target >= 0 else None  # nothing at all of a lower-is-better metric: the target is met
    return target / value


def status_of(reach: Decimal | None, *, expected: Decimal = ONE) -> str | None:
    """on track / at risk / off track for `reach` of the target where `expected` of it was due."""
    if reach is None:
        return None
    if expected <= 0 or reach >= expected * ON_TRACK_AT:
        return ON_TRACK
    if reach >= expected * AT_RISK_AT:
        return AT_RISK
    return OFF_TRACK


@dataclass(frozen=True)
class GoalFigures:
    """Everything shown about a goal's pace on one day."""

    kind: str
    current: Decimal | None  # total logged so far (total) or the period's level (level)
    attained: Decimal | None  # "% of target", see `attainment`
    time: Decimal  # share of the period elapsed
    days: Days
    projected: Decimal | None  # the value at the deadline at the pace so far
    status: str | None  # None before the first day is over: too early to say
    needed_per_day: Decimal | None  # total goals: what each remaining day must add to reach the target
    needed_level: Decimal | None  # ratio and average goals short of target: the level the rest must average
    vs_baseline: Decimal | None  # projected against the baseline: (projected − baseline) / |baseline|


def goal_figures(
    *,
    kind: str,
    target: Decimal,
    baseline: Decimal | None,
    better: str,
    start: date,
    deadline: date,
    today: date,
    current: Decimal | None,
    elapsed_value: Decimal | None = None,
    averaged: bool = False,
    logged_today: bool = False,
    logged_days: int | None = None,
) -> GoalFigures:
    """A goal's figures on `today`.

    `current` is the value over [start, min(today, deadline)] (what has been logged, today's values included),
    or a check-in. For a total, `elapsed_value` is the total over the elapsed days only ([start, yesterday]);
    it sets the run-rate (defaults to `current`). `averaged`: a ratio or an average, whose remaining days can
    pull the period's level (`needed_level`); `logged_today`: `current` already holds values of today;
    `logged_days`: for such a goal, the days of [start, today] on which its weight was logged (a ratio's
    denominator, an average's values), None when `current` is a check-in (it stands for the elapsed days).

    total: projected = max(current, elapsed_value / elapsed days × total days); status from projected / target;
    needed_per_day = (target − current) / days left (today included), never below 0.
    level: projected = current; status from its attainment, due in step with time (attainment ≥ time × 0.95 is on
    track) for a lift from a baseline, due in full otherwise. needed_level = target + (target − current) × logged /
    rest, where logged is `logged_days` and rest the days after the data (the days left, less today once it is
    logged): the value is a weighted mean (Σ numerator ÷ Σ denominator, or Σ values ÷ their count) whose weight
    keeps coming at its rate so far, weight so far ÷ logged a day, so the rest brings weight so far × rest ÷
    logged, and target = (numerator so far + needed × that) ÷ (weight so far + that) reads the formula above."""
    days = goal_days(start, deadline, today)
    attained = attainment(current, target=target, baseline=baseline, better=better, kind=kind)
    projected: Decimal | None = None
    status: str | None = None
    needed: Decimal | None = None
    needed_level: Decimal | None = None
    if kind == TOTAL:
        so_far = current if elapsed_value is None else elapsed_value
        if current is not None and days.elapsed > 0 and so_far is not None:
            projected = max(current, so_far / days.elapsed * days.total)
        elif current is not None and days.left == 0:
            projected = current
        if projected is not None:
            status = status_of(attainment(projected, target=target, baseline=None, better=better, kind=kind))
        elif current is not None and days.started:
            status = ON_TRACK  # its first day, a value already there: nothing was due yet
        if days.left > 0 and days.started:
            needed = max((target - (current or ZERO)) / days.left, ZERO)
    elif current is not None:
        projected = current
        if days.started:
            lift = baseline is not None and (target > baseline if better != "down" else target < baseline)
            status = status_of(attained, expected=days.time if lift else ONE)
        done = min(days.elapsed + (1 if logged_today and days.elapsed < days.total else 0), days.total)
        weight = days.elapsed if logged_days is None else min(logged_days, done)  # the days the value stands for
        if averaged and done < days.total and weight > 0 and attained is not None and attained < 1:
            level = target + (target - current) * weight / (days.total - done)
            needed_level = level if level >= 0 else None  # below zero: out of reach, the status says so
    if current is None and days.elapsed > 0:
        status = OFF_TRACK  # a day is over and nothing at all is known: behind, and needing data
    if days.left == 0 and days.started and today > deadline:
        status = REACHED if attained is not None and attained >= 1 else MISSED
    return GoalFigures(
        kind=kind,
        current=current,
        attained=attained,
        time=days.time,
        days=days,
        projected=projected,
        status=status,
        needed_per_day=needed,
        needed_level=needed_level,
        vs_baseline=change(projected, baseline) if kind == TOTAL else None,
    )


def pace_at(day: date, *, start: date, deadline: date, target: Decimal, baseline: Decimal | None, kind: str) -> Decimal:
    """The pace line at the end of `day`: where a goal on pace stands. total: from 0 before the start to the
    target at the end of the deadline, in equal daily steps. level with a lift: from the baseline to the target
    the same way. level without: the target throughout."""
    days = goal_days(start, deadline, day)
    done = min(days.elapsed + (1 if days.started else 0), days.total)  # the end of `day`: that day is over too
    if kind == TOTAL:
        begin = ZERO
    elif baseline is None:
        return target
    else:
        begin = baseline
    return begin + (target - begin) * Decimal(done) / Decimal(days.total)
