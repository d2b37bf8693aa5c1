"""KPI analytics with pandas: buckets, ratios from summed parts, goal pace and projections, daily changes."""

# Numbers: values leave the database as BIGINT micro-units and stay int64 micro-units in pandas and numpy,
# so every sum is exact. Each figure a person reads (a bucket, a ratio, a projection) is turned into a
# Decimal from those integer sums at the boundary, so text agrees with kpis.period_value and goals.progress
# to the last digit. Floats appear only in render/charts.py, for drawing.
#
# Semantics mirror bot.services.kpis and bot.services.goals: a metric over [a, b] is combined by its
# aggregation (sum: total; avg: mean of the logged values; last: the sum over channels of each channel's
# last value in the range); a ratio metric over a range is numerator / denominator of the summed parts,
# never a mean of daily ratios. A goal's actual series is, for each day d, the period value over
# [goal start, d]: exactly what goals.progress reports as "current" on that day.

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, func, literal_column, select, type_coerce
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from bot import metrics as m
from bot.services import channels as channel_names
from bot.services.kpis import safe_sum, summed_micros
from storage.models import Goal, KpiValue, Metric
from storage.types import QUANTUM, SCALE, to_micros

Freq = Literal["D", "W", "M"]
FRAME_COLUMNS = ["metric_id", "channel", "day", "micros", "n"]


# ---------------------------------------------------------------------------------------------------------
# Plain data in and out


@dataclass(frozen=True)
class MetricInfo:
    """What analytics needs to know about a metric, detached from the ORM session."""

    id: int
    name: str
    unit: str | None = None
    agg: str = "sum"  # sum | avg | last
    better: str = "up"
    numerator_id: int | None = None
    denominator_id: int | None = None

    @property
    def is_ratio(self) -> bool:
        return self.numerator_id is not None and self.denominator_id is not None

    @property
    def parts(self) -> tuple[int, ...]:
        """The metrics whose logged values this one is computed from."""
        if self.numerator_id is not None and self.denominator_id is not None:
            return (self.numerator_id, self.denominator_id)
        return (self.id,)

    @classmethod
    def of(cls, metric: Metric) -> MetricInfo:
        return cls(
            id=metric.id,
            name=metric.name,
            unit=metric.unit,
            agg=metric.agg,
            better=metric.better,
            numerator_id=metric.numerator_id,
            denominator_id=metric.denominator_id,
        )


@dataclass(frozen=True)
class DayValue:
    day: date
    value: Decimal | None


@dataclass(frozen=True)
class Bucket:
    """One period (a day, a week from Monday, or a calendar month), clipped to the range asked for."""

    start: date
    end: date
    value: Decimal | None
    numerator: Decimal | None = None  # ratio metrics: the summed parts the value comes from
    denominator: Decimal | None = None


@dataclass(frozen=True)
class GoalSeries:
    """A goal's numbers for the KPI report: the actual-to-date series, its pace, weekly buckets, projection.

    From logged KPI values only: a later manual check-in, which goals.progress may report as current
    instead, is not part of the series.
    """

    goal_id: int
    number: int
    title: str
    metric: MetricInfo
    channel: str | None
    kind: str  # cumulative | average | latest | ratio
    start: date
    deadline: date
    as_of: date  # min(today, deadline): the last day in `actual`
    target: Decimal
    baseline: Decimal | None  # the goal's own
    actual: tuple[DayValue, ...]  # period value over [start, day] for each day start..as_of
    weekly: tuple[Bucket, ...]  # period value per Monday-based week, clipped to [start, as_of]
    current: Decimal | None
    projected: Decimal | None  # bot.metrics.goal_figures: at the deadline, at the pace so far
    needed_per_day: Decimal | None  # bot.metrics.goal_figures: what each day left must add (totals)
    pace: tuple[DayValue, DayValue] | None  # pace_path: the line a goal on pace follows; None: the target line


@dataclass(frozen=True)
class Breakdown:
    """A metric split by channel over a period: per bucket (when values add up) and per channel in total."""

    metric: MetricInfo
    start: date
    end: date
    freq: Freq
    periods: tuple[date, ...]  # bucket starts
    channels: tuple[str, ...]  # largest first; '' is "no channel"
    values: Mapping[str, tuple[Decimal | None, ...]]  # channel -> one value per period
    totals: Mapping[str, Decimal | None]  # channel -> period value (ratios from that channel's parts)
    total: Decimal | None  # all channels together
    stackable: bool  # sums only: channel values add up to the total
    # every channel of the workspace, in the order each was first logged: the key to a stable colour per channel
    workspace_channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class RatioTrend:
    """A ratio metric per bucket and over the whole period, each computed from its summed parts."""

    metric: MetricInfo
    numerator: MetricInfo
    denominator: MetricInfo
    start: date
    end: date
    freq: Freq
    buckets: tuple[Bucket, ...]
    overall: Bucket


@dataclass(frozen=True)
class DailyChange:
    """Yesterday's value of a metric against its trailing average, for the daily digest."""

    metric: MetricInfo
    day: date
    value: Decimal | None
    trailing: Decimal | None  # mean over the window's days that have data; ratios pooled from summed parts
    trailing_days: int  # days in the window that have data
    change: Decimal | None  # value / trailing - 1

    @property
    def improved(self) -> bool | None:
        if self.change is None or self.change == 0:
            return None
        return (self.change > 0) == (self.metric.better != "down")


# ---------------------------------------------------------------------------------------------------------
# Frames and buckets (pure)


def kpi_frame(rows: Iterable[tuple[int, str, date, Decimal | int | float | str]]) -> pd.DataFrame:
    """A frame of raw (metric_id, channel, day, value) rows, e.g. from kpis.daily_series; values become micros."""
    records = [(int(m), ch or "", d, to_micros(Decimal(v)), 1) for m, ch, d, v in rows]
    return _frame(records)


def _frame(records: Sequence[tuple[int, str, date, int, int]]) -> pd.DataFrame:
    if not records:
        frame = pd.DataFrame({c: pd.Series(dtype="int64") for c in FRAME_COLUMNS})
        frame["channel"] = frame["channel"].astype(object)
        frame["day"] = pd.to_datetime(frame["day"])
        return frame
    metric_ids, channels, days, micros, counts = zip(*records, strict=True)
    return pd.DataFrame(
        {
            "metric_id": np.asarray(metric_ids, dtype=np.int64),
            "channel": pd.Series(channels, dtype=object),
            "day": pd.to_datetime(pd.Series(days)),
            "micros": _micros_array([int(v) for v in micros]),
            "n": np.asarray([int(v) for v in counts], dtype=np.int64),
        }
    )


#: Below this, no sum of a frame's micro-units (whatever its subset or order) can leave int64; a margin under 2⁶³
#: for the float arithmetic that checks it.
_INT64_SAFE = float(2**62)


def _micros_array(values: list[int]) -> np.ndarray:
    """int64 micro-units, exact and fast, while the absolute values add up to less than int64 holds (so does every
    sum and running total of them); beyond (amounts summing past ¥4.6 trillion) Python integers, still exact."""
    try:
        array = np.asarray(values, dtype=np.int64)
    except OverflowError:
        return np.asarray(values, dtype=object)
    if float(np.abs(array.astype(np.float64)).sum()) < _INT64_SAFE:
        return array
    return np.asarray(values, dtype=object)


def bucket_start(day: date, freq: Freq) -> date:
    if freq == "W":
        return day - timedelta(days=day.weekday())
    if freq == "M":
        return day.replace(day=1)
    return day


def bucket_starts(start: date, end: date, freq: Freq) -> list[date]:
    """Every bucket touching [start, end], by its calendar start (which may be before `start`)."""
    out: list[date] = []
    current = bucket_start(start, freq)
    while current <= end:
        out.append(current)
        current = _next_bucket(current, freq)
    return out


def partial_buckets(start: date, end: date, freq: Freq, *, today: date) -> tuple[bool, ...]:
    """Per bucket of [start, end]: True when not all its calendar days are in the range and over (before
    `today`): the first and last weeks of a range that does not start on a Monday, the week still running."""
    complete_through = min(end, today - timedelta(days=1))
    out = []
    for first in bucket_starts(start, end, freq):
        last = _next_bucket(first, freq) - timedelta(days=1)
        out.append(first < start or last > complete_through)
    return tuple(out)


def _next_bucket(current: date, freq: Freq) -> date:
    if freq == "W":
        return current + timedelta(days=7)
    if freq == "M":
        return date(current.year + (current.month == 12), current.month % 12 + 1, 1)
    return current + timedelta(days=1)


def resample(frame: pd.DataFrame, freq: Freq, *, by_channel: bool = False) -> pd.DataFrame:
    """Daily rows → one row per metric (and channel) and bucket: total and count of micros, and `last`.

    `last` is the sum over channels of each channel's last logged value in the bucket, so every
    aggregation (sum, avg, last) can be combined from the result. Buckets are labelled by their start:
    Monday for weeks, the 1st for months.
    """
    keys = ["metric_id", "channel", "bucket"] if by_channel else ["metric_id", "bucket"]
    if frame.empty:
        return pd.DataFrame(columns=[*keys, "total", "count", "last"])
    data = frame.sort_values("day", kind="stable").copy()
    if freq == "W":
        data["bucket"] = data["day"] - pd.to_timedelta(data["day"].dt.day_of_week, unit="D")
    elif freq == "M":
        data["bucket"] = data["day"].dt.to_period("M").dt.start_time
    else:
        data["bucket"] = data["day"]
    data["bucket"] = data["bucket"].dt.normalize()
    per_channel = data.groupby(["metric_id", "channel", "bucket"], sort=True).agg(
        total=("micros", "sum"), count=("n", "sum"), last=("micros", "last")
    )
    if by_channel:
        return per_channel.reset_index()
    return (
        per_channel.groupby(["metric_id", "bucket"], sort=True)[["total", "count", "last"]]
        .sum()
        .reset_index()
    )


def combine_micros(agg: str, total: int, count: int, last: int) -> Decimal | None:
    """One exact value from integer micro-unit parts, by aggregation (as kpis.combine)."""
    if count <= 0:
        return None
    if agg == "avg":
        return Decimal(total) / Decimal(count) / SCALE
    if agg == "last":
        return _decimal(last)
    return _decimal(total)


def bucket_values(
    resampled: pd.DataFrame,
    metric: MetricInfo,
    metrics: Mapping[int, MetricInfo],
    *,
    start: date,
    end: date,
    freq: Freq,
) -> list[Bucket]:
    """One Bucket per period in [start, end] (empty ones too); ratio metrics from each bucket's summed parts.

    `resampled` is resample(frame, freq) without channels, with `frame` already limited to [start, end].
    """
    index: dict[tuple[int, date], tuple[int, int, int]] = {}
    for row in resampled.itertuples(index=False):
        index[(int(row.metric_id), pd.Timestamp(row.bucket).date())] = (
            int(row.total),
            int(row.count),
            int(row.last),
        )

    def part(metric_id: int, key: date) -> Decimal | None:
        found = index.get((metric_id, key))
        if found is None:
            return None
        return combine_micros(metrics[metric_id].agg, *found)

    out: list[Bucket] = []
    for key in bucket_starts(start, end, freq):
        b_start, b_end = max(key, start), min(_next_bucket(key, freq) - timedelta(days=1), end)
        if metric.is_ratio:
            assert metric.numerator_id is not None and metric.denominator_id is not None
            num, den = part(metric.numerator_id, key), part(metric.denominator_id, key)
            out.append(Bucket(b_start, b_end, m.ratio(num, den), num, den))
        else:
            out.append(Bucket(b_start, b_end, part(metric.id, key)))
    return out


def period_value(
    frame: pd.DataFrame, metric: MetricInfo, metrics: Mapping[int, MetricInfo], *, start: date, end: date
) -> Bucket:
    """The metric over [start, end] from a frame (ratios from summed parts): kpis.period_value in pandas."""
    data = _between(frame, start, end)

    def part(metric_id: int) -> Decimal | None:
        rows = data[data["metric_id"] == metric_id]
        if rows.empty:
            return None
        last = int(rows.sort_values("day", kind="stable").groupby("channel")["micros"].last().sum())
        return combine_micros(metrics[metric_id].agg, int(rows["micros"].sum()), int(rows["n"].sum()), last)

    if metric.is_ratio:
        assert metric.numerator_id is not None and metric.denominator_id is not None
        num, den = part(metric.numerator_id), part(metric.denominator_id)
        return Bucket(start, end, m.ratio(num, den), num, den)
    return Bucket(start, end, part(metric.id))


def _between(frame: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    if frame.empty:
        return frame
    return frame[(frame["day"] >= pd.Timestamp(start)) & (frame["day"] <= pd.Timestamp(end))]


# ---------------------------------------------------------------------------------------------------------
# Goal kinds (the pace formulas themselves are bot.metrics', shared with goals.progress)


def goal_kind(metric: MetricInfo) -> str:
    if metric.is_ratio:
        return "ratio"
    return {"avg": "average", "last": "latest"}.get(metric.agg, "cumulative")


def pace_kind(metric: MetricInfo) -> str:
    """bot.metrics.TOTAL for a summed metric, LEVEL for a ratio, an average or a latest value."""
    return m.TOTAL if metric.agg == "sum" and not metric.is_ratio else m.LEVEL


def pace_path(
    *, kind: str, start: date, deadline: date, target: Decimal, baseline: Decimal | None, better: str
) -> tuple[DayValue, DayValue] | None:
    """The pace line's two ends, (the day before the start, 0 or the baseline) to (deadline, target), on which
    bot.metrics.pace_at lies: for a total, and for a level lifted from a baseline; None for a level held to its
    target from the start (the target line is its pace)."""
    if kind == m.LEVEL and not (baseline is not None and (target > baseline if better != "down" else target < baseline)):
        return None
    before = start - timedelta(days=1)
    at = functools.partial(m.pace_at, start=start, deadline=deadline, target=target, baseline=baseline, kind=kind)
    return DayValue(before, at(before)), DayValue(deadline, at(deadline))


# ---------------------------------------------------------------------------------------------------------
# Dense day arrays: the fast path for many goals at once


@dataclass
class _Dense:
    """Per (metric, channel key) int64 arrays over one day range; channel key None means all channels."""

    first: date
    days: int
    totals: dict[tuple[int, str | None], np.ndarray] = field(default_factory=dict)
    counts: dict[tuple[int, str | None], np.ndarray] = field(default_factory=dict)
    # 'last' metrics: a (days x channels) float array of micros, NaN where a channel logged nothing that day
    latest: dict[tuple[int, str | None], np.ndarray] = field(default_factory=dict)

    def offset(self, day: date) -> int:
        return (day - self.first).days

    def add_sums(self, frame: pd.DataFrame, channel_key: str | None) -> None:
        if frame.empty:
            return
        offsets = ((frame["day"] - pd.Timestamp(self.first)).dt.days).to_numpy()
        for metric_id, idx in frame.groupby("metric_id").indices.items():
            total = np.zeros(self.days, dtype=frame["micros"].dtype)  # object: Python integers past int64
            count = np.zeros(self.days, dtype=np.int64)
            # SQL grouped by (metric, day): offsets are unique within a metric, so plain assignment is exact.
            total[offsets[idx]] = frame["micros"].to_numpy()[idx]
            count[offsets[idx]] = frame["n"].to_numpy()[idx]
            self.totals[(int(metric_id), channel_key)] = total
            self.counts[(int(metric_id), channel_key)] = count

    def add_latest(self, frame: pd.DataFrame, channel_key: str | None) -> None:
        if frame.empty:
            return
        for metric_id, rows in frame.groupby("metric_id"):
            wide = rows.pivot_table(index="day", columns="channel", values="micros", aggfunc="last")
            wide = wide.reindex(pd.date_range(self.first, periods=self.days, freq="D"))
            self.latest[(int(cast(int, metric_id)), channel_key)] = wide.to_numpy(dtype=np.float64)

    def has(self, key: tuple[int, str | None]) -> bool:
        return key in self.totals or key in self.latest

    def to_date(self, key: tuple[int, str | None], agg: str, lo: int, hi: int) -> list[Decimal | None]:
        """The period value over [lo, d] for every d in [lo, hi] (inclusive offsets)."""
        n = hi - lo + 1
        if n <= 0:
            return []
        if agg == "last":
            grid = self.latest.get(key)
            if grid is None:
                return [None] * n
            window = pd.DataFrame(grid[lo : hi + 1]).ffill()
            seen = window.notna().any(axis=1).to_numpy()
            sums = window.fillna(0).sum(axis=1).to_numpy()
            return [_decimal(round(s)) if ok else None for s, ok in zip(sums, seen, strict=True)]
        total, count = self.totals.get(key), self.counts.get(key)
        if total is None or count is None:
            return [None] * n
        run_total = np.cumsum(total[lo : hi + 1])
        run_count = np.cumsum(count[lo : hi + 1])
        if agg == "avg":
            return [
                Decimal(int(t)) / Decimal(int(c)) / SCALE if c else None
                for t, c in zip(run_total, run_count, strict=True)
            ]
        return [_decimal(int(t)) if c else None for t, c in zip(run_total, run_count, strict=True)]

    def period(self, key: tuple[int, str | None], agg: str, lo: int, hi: int) -> Decimal | None:
        if hi < lo:
            return None
        if agg == "last":
            grid = self.latest.get(key)
            if grid is None:
                return None
            window = pd.DataFrame(grid[lo : hi + 1]).ffill()
            if not window.notna().to_numpy().any():
                return None
            return _decimal(round(float(window.iloc[-1].fillna(0).sum())))
        total, count = self.totals.get(key), self.counts.get(key)
        if total is None or count is None:
            return None
        return combine_micros(agg, int(total[lo : hi + 1].sum()), int(count[lo : hi + 1].sum()), 0)


def _decimal(micros: int) -> Decimal:
    return (Decimal(micros) / SCALE).quantize(QUANTUM)


def _channel_key(channel: str | None, canon: channel_names.Canon) -> str | None:
    """The channel a goal is on, under any of its names (京东 is JD); None: every channel."""
    return None if channel is None else canon.of(channel)


def _on_channel(frame: pd.DataFrame, channel: str, canon: channel_names.Canon) -> pd.DataFrame:
    """The rows logged on `channel` under any of its names."""
    if frame.empty:
        return frame
    wanted = canon.of(channel)
    keys = {c: canon.of(c) for c in set(frame["channel"].tolist())}
    return frame[frame["channel"].map(keys) == wanted]


def _raw(column: InstrumentedAttribute[Decimal]) -> ColumnElement[int]:
    """The stored BIGINT, not the Decimal the Micros type would make of it."""
    return type_coerce(column, BigInteger)


def _ints(values: Iterable[object]) -> list[int]:
    # PostgreSQL's SUM(bigint) is numeric (a Decimal here); SQLite's is an int.
    return [int(v) for v in values]  # type: ignore[call-overload]


def _fetch_sums(
    session: Session,
    *,
    workspace_id: str,
    ranges: Mapping[int, tuple[date, date]],
    channels: Sequence[str] | None,
    canon: channel_names.Canon | None = None,
) -> pd.DataFrame:
    """SUM and COUNT per (metric, day) — or per (metric, channel, day) when channels are given: `channels` are
    channel keys (`Canon.of`), and every name of each counts as it (京东 and JD are one channel).

    One day range covers all the metrics: `metric_id IN (...) AND day BETWEEN` lets SQLite use an index
    with or without ANALYZE statistics (a per-metric OR of ranges made it scan the unique index, ~8x
    slower on a million rows). Days outside a goal's own range are read but sliced off later.
    """
    if not ranges:
        return _frame([])
    lo, hi = min(r[0] for r in ranges.values()), max(r[1] for r in ranges.values())
    whole, rest = safe_sum(KpiValue.value)
    count = func.count()
    scope = (
        KpiValue.workspace_id == workspace_id,
        KpiValue.metric_id.in_(sorted(ranges)),
        KpiValue.day >= lo,
        KpiValue.day <= hi,
    )
    rows: Sequence[Any]
    if channels is None:
        rows = session.execute(
            select(KpiValue.metric_id, KpiValue.day, whole, rest, count, literal_column("''"))
            .where(*scope)
            .group_by(KpiValue.metric_id, KpiValue.day)
        ).all()
    else:
        assert canon is not None
        lowered = func.lower(KpiValue.channel)
        names = sorted({name for c in channels for name in canon.group(c)})
        rows = session.execute(
            select(KpiValue.metric_id, KpiValue.day, whole, rest, count, lowered)
            .where(*scope, lowered.in_(names))
            .group_by(KpiValue.metric_id, lowered, KpiValue.day)
        ).all()
    if not rows:
        return _frame([])
    cols = list(zip(*rows, strict=True))
    totals = [summed_micros(w, r) for w, r in zip(cols[2], cols[3], strict=True)]
    if channels is None or canon is None:
        return _frame(list(zip(cols[0], cols[5], cols[1], totals, _ints(cols[4]), strict=True)))
    # two names of one channel on one day are one channel's values: added up under the channel's key
    frame = _frame(list(zip(cols[0], [canon.of(str(c)) for c in cols[5]], cols[1], totals, _ints(cols[4]),
                            strict=True)))
    return frame.groupby(["metric_id", "channel", "day"], as_index=False, sort=False)[["micros", "n"]].sum()[FRAME_COLUMNS]


def _fetch_rows(
    session: Session, *, workspace_id: str, metric_ids: Sequence[int], start: date, end: date
) -> pd.DataFrame:
    """Raw rows (one per metric, channel and day) of a few metrics over a short range."""
    if not metric_ids:
        return _frame([])
    rows = session.execute(
        select(KpiValue.metric_id, KpiValue.channel, KpiValue.day, _raw(KpiValue.value)).where(
            KpiValue.workspace_id == workspace_id,
            KpiValue.metric_id.in_(list(metric_ids)),
            KpiValue.day >= start,
            KpiValue.day <= end,
        )
    ).all()
    return _frame([(int(m), ch, d, int(v), 1) for m, ch, d, v in rows])


def load_metrics(session: Session, *, workspace_id: str, ids: Iterable[int]) -> dict[int, MetricInfo]:
    """The metrics with these ids and the parts of any ratio among them, in at most two queries."""
    wanted = set(ids)
    found: dict[int, MetricInfo] = {}
    while wanted - found.keys():
        batch = wanted - found.keys()
        for metric in session.scalars(
            select(Metric).where(Metric.workspace_id == workspace_id, Metric.id.in_(batch))
        ):
            found[metric.id] = MetricInfo.of(metric)
        missing = batch - found.keys()
        if missing:
            raise LookupError(f"metrics {sorted(missing)} are not in workspace {workspace_id}")
        wanted |= {p for m in found.values() for p in m.parts}
    return found


# ---------------------------------------------------------------------------------------------------------
# Reports


def weekly_report(
    session: Session, *, workspace_id: str, today: date, goals: Sequence[Goal]
) -> list[GoalSeries]:
    """Every goal's series for the KPI report: SQL sums per (metric, day), the rest in numpy/pandas.

    Goals are read, not refreshed: pass goals loaded in `session` (or detached ones with their columns loaded).
    """
    if not goals:
        return []
    metrics = load_metrics(session, workspace_id=workspace_id, ids={g.metric_id for g in goals})
    canon = channel_names.canon(session, workspace_id=workspace_id)
    first = min(g.start_on for g in goals)
    last = max(max(min(today, g.due_on), g.start_on) for g in goals)
    dense = _Dense(first=first, days=(last - first).days + 1)

    # Which (part metric, day range) each channel filter needs; 'last' metrics need per-channel rows.
    sum_ranges: dict[str | None, dict[int, tuple[date, date]]] = {}
    latest_ranges: dict[str | None, dict[int, tuple[date, date]]] = {}
    for goal in goals:
        end = min(today, goal.due_on)
        if end < goal.start_on:
            continue
        for part_id in metrics[goal.metric_id].parts:
            target = latest_ranges if metrics[part_id].agg == "last" else sum_ranges
            ranges = target.setdefault(_channel_key(goal.channel, canon), {})
            lo, hi = ranges.get(part_id, (goal.start_on, end))
            ranges[part_id] = (min(lo, goal.start_on), max(hi, end))

    plain = sum_ranges.pop(None, {})
    dense.add_sums(_fetch_sums(session, workspace_id=workspace_id, ranges=plain, channels=None), None)
    if sum_ranges:
        merged = _merge_ranges(sum_ranges.values())
        by_channel = _fetch_sums(
            session,
            workspace_id=workspace_id,
            ranges=merged,
            channels=[k for k in sum_ranges if k is not None],
            canon=canon,
        )
        for key, rows in by_channel.groupby("channel"):
            dense.add_sums(rows, str(key))
    for channel_key, ranges in latest_ranges.items():
        lo, hi = min(r[0] for r in ranges.values()), max(r[1] for r in ranges.values())
        rows = _fetch_rows(session, workspace_id=workspace_id, metric_ids=list(ranges), start=lo, end=hi)
        if channel_key is not None:
            rows = _on_channel(rows, channel_key, canon)
        if not rows.empty:  # a channel's latest value, whichever of its names it was logged under
            rows = rows.assign(channel=rows["channel"].map({c: canon.of(c) for c in set(rows["channel"].tolist())}))
        dense.add_latest(rows, channel_key)

    return [_goal_series(goal, metrics, dense, today, canon) for goal in goals]


def _merge_ranges(groups: Iterable[Mapping[int, tuple[date, date]]]) -> dict[int, tuple[date, date]]:
    merged: dict[int, tuple[date, date]] = {}
    for ranges in groups:
        for metric_id, (lo, hi) in ranges.items():
            old = merged.get(metric_id, (lo, hi))
            merged[metric_id] = (min(old[0], lo), max(old[1], hi))
    return merged


def _goal_series(
    goal: Goal, metrics: Mapping[int, MetricInfo], dense: _Dense, today: date, canon: channel_names.Canon
) -> GoalSeries:
    metric = metrics[goal.metric_id]
    kind = goal_kind(metric)
    as_of = min(today, goal.due_on)
    key = _channel_key(goal.channel, canon)
    lo, hi = dense.offset(goal.start_on), dense.offset(as_of)

    def to_date(part_id: int) -> list[Decimal | None]:
        return dense.to_date((part_id, key), metrics[part_id].agg, lo, hi)

    def period(part_id: int, a: int, b: int) -> Decimal | None:
        return dense.period((part_id, key), metrics[part_id].agg, a, b)

    if metric.is_ratio:
        assert metric.numerator_id is not None and metric.denominator_id is not None
        nums, dens = to_date(metric.numerator_id), to_date(metric.denominator_id)
        values = [m.ratio(n, d) for n, d in zip(nums, dens, strict=True)]
    else:
        values = to_date(metric.id)
    actual = tuple(DayValue(goal.start_on + timedelta(days=i), v) for i, v in enumerate(values))

    weekly: list[Bucket] = []
    if hi >= lo:
        for key_start in bucket_starts(goal.start_on, as_of, "W"):
            b_start, b_end = max(key_start, goal.start_on), min(key_start + timedelta(days=6), as_of)
            a, b = dense.offset(b_start), dense.offset(b_end)
            if metric.is_ratio:
                assert metric.numerator_id is not None and metric.denominator_id is not None
                num, den = period(metric.numerator_id, a, b), period(metric.denominator_id, a, b)
                weekly.append(Bucket(b_start, b_end, m.ratio(num, den), num, den))
            else:
                weekly.append(Bucket(b_start, b_end, period(metric.id, a, b)))

    current = actual[-1].value if actual else None
    figures_kind = pace_kind(metric)
    elapsed_value: Decimal | None = None
    logged_today = False
    if current is not None:
        yesterday = dense.offset(min(today - timedelta(days=1), goal.due_on))
        today_at = dense.offset(today)
        if metric.is_ratio:
            assert metric.denominator_id is not None
            logged_today = today_at <= hi and period(metric.denominator_id, today_at, today_at) is not None
        else:
            logged_today = today_at <= hi and period(metric.id, today_at, today_at) is not None
            if figures_kind == m.TOTAL:
                elapsed_value = period(metric.id, lo, yesterday) or Decimal(0)
    figures = m.goal_figures(
        kind=figures_kind, target=goal.target, baseline=goal.baseline, better=metric.better, start=goal.start_on,
        deadline=goal.due_on, today=today, current=current, elapsed_value=elapsed_value,
        averaged=metric.is_ratio or metric.agg == "avg", logged_today=logged_today,
    )
    return GoalSeries(
        goal_id=goal.id,
        number=goal.number,
        title=goal.title,
        metric=metric,
        channel=goal.channel,
        kind=kind,
        start=goal.start_on,
        deadline=goal.due_on,
        as_of=as_of,
        target=goal.target,
        baseline=goal.baseline,
        actual=actual,
        weekly=tuple(weekly),
        current=current,
        projected=figures.projected,
        needed_per_day=figures.needed_per_day,
        pace=pace_path(kind=figures_kind, start=goal.start_on, deadline=goal.due_on, target=goal.target,
                       baseline=goal.baseline, better=metric.better),
    )


def channel_breakdown(
    session: Session,
    *,
    workspace_id: str,
    metric: Metric | MetricInfo,
    start: date,
    end: date,
    freq: Freq = "W",
    channel: str | None = None,
) -> Breakdown:
    """A metric by channel over [start, end]: per-bucket values and per-channel totals (ratios from parts);
    with `channel`, that channel alone (under any of its names). Each channel is one, under its first spelling,
    whatever names its values were stored under."""
    info = metric if isinstance(metric, MetricInfo) else MetricInfo.of(metric)
    metrics = load_metrics(session, workspace_id=workspace_id, ids=[info.id])
    canon = channel_names.canon(session, workspace_id=workspace_id)
    frame = _fetch_rows(session, workspace_id=workspace_id, metric_ids=list(info.parts), start=start, end=end)
    if channel is not None:
        frame = _on_channel(frame, channel, canon)
    order = channels_in_order(session, workspace_id=workspace_id, canon=canon)
    frame = _shown_channels(frame, order, canon)
    breakdown = breakdown_from_frame(frame, metrics[info.id], metrics, start=start, end=end, freq=freq)
    return dataclasses.replace(breakdown, workspace_channels=order)


def _shown_channels(frame: pd.DataFrame, order: Sequence[str], canon: channel_names.Canon) -> pd.DataFrame:
    """The frame with every channel under the name it is shown by (`order`: the first spellings)."""
    if frame.empty:
        return frame
    shown = {canon.of(name): name for name in order}
    names = {c: shown.get(canon.of(c), c) for c in set(frame["channel"].tolist())}
    if all(k == v for k, v in names.items()):
        return frame
    return frame.assign(channel=frame["channel"].map(names))


def channels_in_order(
    session: Session, *, workspace_id: str, canon: channel_names.Canon | None = None
) -> tuple[str, ...]:
    """The workspace's channels (first spelling among all of a channel's names) in the order they were first
    logged; '' (no channel) included."""
    canon = canon or channel_names.canon(session, workspace_id=workspace_id)
    first = func.min(KpiValue.id)
    rows = session.execute(
        select(KpiValue.channel, first).where(KpiValue.workspace_id == workspace_id).group_by(KpiValue.channel).order_by(first)
    ).all()
    seen: dict[str, str] = {}
    for channel, _ in rows:
        seen.setdefault(canon.of(str(channel)), str(channel))
    return tuple(seen.values())


def breakdown_from_frame(
    frame: pd.DataFrame,
    metric: MetricInfo,
    metrics: Mapping[int, MetricInfo],
    *,
    start: date,
    end: date,
    freq: Freq = "W",
) -> Breakdown:
    frame = _between(frame, start, end)
    channel_names = sorted(set(frame["channel"].tolist())) if not frame.empty else []
    values: dict[str, tuple[Decimal | None, ...]] = {}
    totals: dict[str, Decimal | None] = {}
    for channel in channel_names:
        rows = frame[frame["channel"] == channel]
        buckets = bucket_values(resample(rows, freq), metric, metrics, start=start, end=end, freq=freq)
        values[channel] = tuple(b.value for b in buckets)
        totals[channel] = period_value(rows, metric, metrics, start=start, end=end).value
    ordered = tuple(sorted(channel_names, key=lambda ch: (-(totals[ch] or Decimal(0)), ch)))
    return Breakdown(
        metric=metric,
        start=start,
        end=end,
        freq=freq,
        periods=tuple(max(b, start) for b in bucket_starts(start, end, freq)),
        channels=ordered,
        values={ch: values[ch] for ch in ordered},
        totals={ch: totals[ch] for ch in ordered},
        total=period_value(frame, metric, metrics, start=start, end=end).value,
        stackable=metric.agg == "sum" and not metric.is_ratio,
    )


def ratio_trend(
    session: Session,
    *,
    workspace_id: str,
    metric: Metric | MetricInfo,
    start: date,
    end: date,
    freq: Freq = "W",
    channel: str | None = None,
) -> RatioTrend:
    """A ratio metric per bucket over [start, end], each bucket numerator sum / denominator sum."""
    info = metric if isinstance(metric, MetricInfo) else MetricInfo.of(metric)
    if not info.is_ratio:
        raise ValueError(f"{info.name} is not a ratio metric")
    metrics = load_metrics(session, workspace_id=workspace_id, ids=[info.id])
    frame = _fetch_rows(session, workspace_id=workspace_id, metric_ids=list(info.parts), start=start, end=end)
    if channel is not None:
        frame = _on_channel(frame, channel, channel_names.canon(session, workspace_id=workspace_id))
    return ratio_trend_from_frame(frame, metrics[info.id], metrics, start=start, end=end, freq=freq)


def ratio_trend_from_frame(
    frame: pd.DataFrame,
    metric: MetricInfo,
    metrics: Mapping[int, MetricInfo],
    *,
    start: date,
    end: date,
    freq: Freq = "W",
) -> RatioTrend:
    assert metric.numerator_id is not None and metric.denominator_id is not None
    frame = _between(frame, start, end)
    return RatioTrend(
        metric=metric,
        numerator=metrics[metric.numerator_id],
        denominator=metrics[metric.denominator_id],
        start=start,
        end=end,
        freq=freq,
        buckets=tuple(bucket_values(resample(frame, freq), metric, metrics, start=start, end=end, freq=freq)),
        overall=period_value(frame, metric, metrics, start=start, end=end),
    )


def daily_changes(
    session: Session, *, workspace_id: str, metrics: Sequence[Metric | MetricInfo], day: date, window: int = 7
) -> list[DailyChange]:
    """Each metric on `day` (usually yesterday) against its average over the `window` days before it."""
    infos = [m if isinstance(m, MetricInfo) else MetricInfo.of(m) for m in metrics]
    known = load_metrics(session, workspace_id=workspace_id, ids=[m.id for m in infos])
    parts = sorted({p for m in infos for p in m.parts})
    frame = _fetch_rows(
        session, workspace_id=workspace_id, metric_ids=parts, start=day - timedelta(days=window), end=day
    )
    return daily_changes_from_frame(frame, [known[m.id] for m in infos], known, day=day, window=window)


def daily_changes_from_frame(
    frame: pd.DataFrame,
    metrics: Sequence[MetricInfo],
    known: Mapping[int, MetricInfo],
    *,
    day: date,
    window: int = 7,
) -> list[DailyChange]:
    """Sum metrics: mean daily total; avg: mean of values; last: mean of the as-of totals; ratios pooled."""
    first = day - timedelta(days=window)
    previous_day = day - timedelta(days=1)
    out: list[DailyChange] = []
    for metric in metrics:
        value = period_value(frame, metric, known, start=day, end=day).value
        trailing, trailing_days = _trailing(frame, metric, known, first, previous_day)
        change = value / trailing - 1 if value is not None and trailing else None
        out.append(DailyChange(metric, day, value, trailing, trailing_days, change))
    return out


def _trailing(
    frame: pd.DataFrame, metric: MetricInfo, known: Mapping[int, MetricInfo], first: date, last: date
) -> tuple[Decimal | None, int]:
    data = _between(frame, first, last)
    data = data[data["metric_id"].isin(list(metric.parts))]
    days = int(data["day"].nunique()) if not data.empty else 0
    if days == 0:
        return None, 0
    if metric.is_ratio:
        # A ratio's average over a window is the ratio of the window's summed parts.
        return period_value(data, metric, known, start=first, end=last).value, days
    if metric.agg == "avg":
        return Decimal(int(data["micros"].sum())) / Decimal(int(data["n"].sum())) / SCALE, days
    if metric.agg == "last":
        wide = (
            data.pivot_table(index="day", columns="channel", values="micros", aggfunc="last")
            .sort_index()
            .ffill()
        )
        as_of = wide.fillna(0).sum(axis=1)
        return Decimal(round(float(as_of.sum()))) / Decimal(len(as_of)) / SCALE, days
    return Decimal(int(data["micros"].sum())) / Decimal(days) / SCALE, days
