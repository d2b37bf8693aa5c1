"""KPI metrics and values: definitions, ratio metrics, logging, and period aggregation from summed parts."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, bindparam, func, insert, select, type_coerce
from sqlalchemy.orm import Session

from bot import anomalies, metrics
from bot.errors import NotFound, UserError, check_length
from bot.i18n import msg
from bot.services import channels
from bot.services.refs import get_by_number, next_number
from storage.models import Goal, GoalCheckin, KpiValue, Metric
from storage.prepared import Prepared, Unit, column_binds, dialect_of, per_dialect
from storage.types import QUANTUM, SCALE, utcnow

AGGS = ("sum", "avg", "last")
BETTER = ("up", "down")


def metric_key(name: str) -> str:
    return " ".join(name.split()).casefold()


#: The longest metric name, however it comes in (`/kpi define`, `/kpi log`, a goal, a ratio's part, an import).
METRIC_NAME_MAX = 100


def check_metric_name(name: str) -> str:
    """The name as stored (spaces tidied), or a UserError: every path that names a new metric asks this."""
    tidy = " ".join(name.split())
    if not tidy:
        raise UserError.of("error.kpi.define_name")
    check_length(tidy, field="metric", limit=METRIC_NAME_MAX)
    return tidy


#: Metrics that count people or things (visits, orders): a count is never below zero. Money may be (a day's
#: refunds above its sales), and so may any other metric (a net change).
COUNT_NAMES = frozenset({
    "visits", "visitors", "sessions", "users", "uv", "pv", "orders", "transactions", "buyers", "impressions",
    "clicks", "conversions", "访客数", "访客", "浏览量", "订单数", "订单", "支付买家数", "买家数", "展示数", "曝光",
    "点击数", "转化数",
})


def check_value(name: str, value: Decimal) -> None:
    """A count (`COUNT_NAMES`) below zero is refused: `orders -3` is a typo, not a figure."""
    if value < 0 and metric_key(name) in COUNT_NAMES:
        raise UserError.of("error.kpi.negative_count", name=name, value=f"{value.normalize():f}")


def check_amount(value: Decimal, *, name: str, percent: bool = False) -> None:
    """Every amount stored (a KPI value, a goal's target, baseline or check-in, a budget, a spend) fits what
    storage keeps (bot.metrics.amount_fits): beyond 1,000,000,000,000 either way, or below the millionth it is
    stored to (and not 0), it is refused. `value` is as stored (a percentage as its fraction); `percent` shows
    it back as one."""
    fits = metrics.amount_fits(value)
    if fits is None:
        return
    shown = f"{(value * 100).normalize():f}%" if percent else f"{value.normalize():f}"
    if fits == "large":
        raise UserError.of("error.amount.too_large", name=name, value=shown)
    raise UserError.of("error.amount.too_small", name=name, value=shown)


_MICRO = 1_000_000


def safe_sum(column: Any) -> tuple[Any, Any]:
    """SUM of an amount column (stored as BIGINT millionths) that never overflows: SQLite's SUM of integers
    fails beyond 2⁶³ millionths (¥9.22 trillion), so the whole units and the millionths are summed apart
    (integer division and remainder truncate alike on SQLite and PostgreSQL) and put together by `summed`."""
    raw = type_coerce(column, BigInteger)
    return func.sum(raw // _MICRO), func.sum(raw % _MICRO)


def summed_micros(whole: Any, rest: Any) -> int:
    """The exact sum, in millionths, of `safe_sum`'s two parts (None when nothing was summed reads 0)."""
    return int(whole or 0) * _MICRO + int(rest or 0)


def summed(whole: Any, rest: Any) -> Decimal:
    """The exact sum of `safe_sum`'s two parts as an amount."""
    return (Decimal(summed_micros(whole, rest)) / SCALE).quantize(QUANTUM)


@dataclass(frozen=True)
class MetricSpec:
    name: str
    unit: str | None = None
    agg: str | None = None
    better: str | None = None
    numerator: str | None = None
    denominator: str | None = None


@dataclass
class DefineResult:
    metric: Metric
    created: bool
    changed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Entry:
    """One metric and value of a `/kpi log` line."""

    name: str
    value: Decimal
    percent: bool = False
    currency: str | None = None


@dataclass(frozen=True)
class MetricRef:
    """What a confirmation shows of a metric; read with one prepared query on the logging path."""

    id: int
    number: int
    name: str
    unit: str | None
    agg: str


@dataclass(frozen=True)
class MetricPart:
    """A ratio's numerator or denominator as replies show it."""

    name: str
    unit: str | None


@dataclass(frozen=True)
class MetricCard:
    """A metric as replies show it: reference, name, unit, how it aggregates, which way is better, and a
    ratio's two parts (None for a metric logged as itself)."""

    number: int
    name: str
    unit: str | None
    agg: str
    better: str
    parts: tuple[MetricPart, MetricPart] | None

    @classmethod
    def of(cls, metric: Metric) -> MetricCard:
        num, den = metric.numerator, metric.denominator
        parts = None
        if metric.is_ratio and num is not None and den is not None:
            parts = (MetricPart(num.name, num.unit), MetricPart(den.name, den.unit))
        return cls(metric.number, metric.name, metric.unit, metric.agg, metric.better, parts)


@dataclass
class LoggedValue:
    metric: MetricRef
    channel: str
    day: date
    value: Decimal
    previous: Decimal | None  # the value it replaced, if any
    metric_created: bool


def find_metric(session: Session, *, workspace_id: str, name: str) -> Metric | None:
    return session.scalars(
        select(Metric).where(Metric.workspace_id == workspace_id, Metric.key == metric_key(name))
    ).first()


def get_metric(session: Session, *, workspace_id: str, name_or_number: str | int) -> Metric:
    if isinstance(name_or_number, int):
        return get_by_number(session, Metric, workspace_id=workspace_id, number=name_or_number, kind="kpi")
    metric = find_metric(session, workspace_id=workspace_id, name=name_or_number)
    if metric is None:
        names = [m.name for m in list_metrics(session, workspace_id=workspace_id)[:12]]
        known = names or msg("error.kpi.none_yet")
        raise NotFound.of("error.kpi.unknown_metric", name=name_or_number, known=known)
    return metric


def list_metrics(session: Session, *, workspace_id: str) -> list[Metric]:
    return list(session.scalars(select(Metric).where(Metric.workspace_id == workspace_id).order_by(Metric.number)))


_INSERT_METRIC = Prepared(insert(Metric).values(column_binds(Metric)).returning(Metric.id))


def implicit_agg(unit_of_measure: str | None) -> str:
    """The aggregation of a metric created without one (by `/kpi log`, by a goal on a new metric, by `/kpi define`
    without `agg:`, as the part of a ratio): a percentage is a rate (CTR, open rate), averaged over a period;
    anything else (counts, money) is summed. Every path that creates a metric asks this one function."""
    return "avg" if unit_of_measure == "%" else "sum"


def _insert_metric(
    unit: Unit, *, workspace_id: str, name: str, user_id: str | None, unit_of_measure: str | None = None,
    agg: str | None = None,
) -> MetricRef:
    agg = agg or implicit_agg(unit_of_measure)
    name = check_metric_name(name)
    number = next_number(unit, workspace_id=workspace_id, kind="kpi")
    metric_id = _INSERT_METRIC.rows(unit, {
        "workspace_id": workspace_id, "number": number, "name": name, "key": metric_key(name), "unit": unit_of_measure,
        "agg": agg, "better": "up", "numerator_id": None, "denominator_id": None, "created_by": user_id,
        "created_at": utcnow(),
    })[0][0]
    return MetricRef(int(metric_id), number, name, unit_of_measure, agg)


def _create_metric(
    session: Session, *, workspace_id: str, name: str, user_id: str | None, agg: str | None = None
) -> Metric:
    created = _insert_metric(session, workspace_id=workspace_id, name=name, user_id=user_id, agg=agg)
    metric = session.get(Metric, created.id)
    assert metric is not None
    return metric


def define_metric(session: Session, *, workspace_id: str, spec: MetricSpec, user_id: str | None) -> DefineResult:
    check_metric_name(spec.name)
    for part in (spec.numerator, spec.denominator):
        if part is not None:
            check_metric_name(part)
    metric = find_metric(session, workspace_id=workspace_id, name=spec.name)
    created = metric is None
    if metric is None:
        # the unit is set below (and reported as a change), the aggregation is chosen with it when not given
        metric = _create_metric(
            session, workspace_id=workspace_id, name=spec.name, user_id=user_id, agg=spec.agg or implicit_agg(spec.unit)
        )
    changed: list[str] = []
    if spec.unit is not None and (spec.unit or None) != metric.unit:
        _rescale(session, metric, old=metric.unit, new=spec.unit or None)
        metric.unit = spec.unit or None
        changed.append("unit")
    if spec.agg is not None and spec.agg != metric.agg:
        metric.agg = spec.agg
        changed.append("aggregation")
    if spec.better is not None and spec.better != metric.better:
        metric.better = spec.better
        changed.append("direction")
    if spec.numerator is not None and spec.denominator is not None:
        parts = []
        for part in (spec.numerator, spec.denominator):
            if metric_key(part) == metric.key:
                raise UserError.of("error.kpi.self_ratio", name=metric.name)
            found = find_metric(session, workspace_id=workspace_id, name=part)
            if found is None:
                found = _create_metric(session, workspace_id=workspace_id, name=part, user_id=user_id)
            if found.is_ratio:
                raise UserError.of("error.kpi.ratio_of_ratio", part=found.name, name=metric.name)
            parts.append(found)
        has_values = session.scalar(select(func.count()).select_from(KpiValue).where(KpiValue.metric_id == metric.id))
        if has_values:
            raise UserError.of("error.kpi.has_values", name=metric.name)
        if (metric.numerator_id, metric.denominator_id) != (parts[0].id, parts[1].id):
            metric.numerator_id, metric.denominator_id = parts[0].id, parts[1].id
            changed.append("formula")
        if spec.unit is None and metric.unit is None:
            metric.unit = ratio_unit(parts[0], parts[1])
    session.flush()
    return DefineResult(metric=metric, created=created, changed=changed)


#: Names of metrics that count money, for a ratio whose parts have no unit yet (`aov = gmv / orders`).
MONEY_WORDS = ("gmv", "revenue", "sales", "spend", "cost", "budget", "销售额", "成交额", "营业额", "花费", "消耗", "收入")


def _is_money(metric: Metric) -> bool:
    if metric.unit and metric.unit != "%":
        return True
    return metric.unit is None and any(word in metric.key for word in MONEY_WORDS)


def ratio_unit(numerator: Metric, denominator: Metric) -> str | None:
    """The unit of numerator ÷ denominator when `/kpi define` gives none. Money over a count is money per unit
    (AOV = GMV / orders: ¥328.22, in the numerator's currency, or no unit while that is unknown); money over money
    (ROAS) and a count over a count (conversion = orders / visits, CTR) are percentages; a count over money (orders
    per ¥) is a plain number."""
    money_up, money_down = _is_money(numerator), _is_money(denominator)
    if money_up and not money_down:
        return numerator.unit if numerator.unit and numerator.unit != "%" else None
    if money_down and not money_up:
        return None
    return "%"


def _rescale(session: Session, metric: Metric, *, old: str | None, new: str | None) -> None:
    """A metric in % stores fractions (21 % is 0.21), and a bare number typed on it is in percent points. When its
    unit changes to or from %, everything stored of it changes scale together, its logged values and its goals'
    targets, baselines and check-ins alike, so each reads as the number typed (`330` logged or `target:330` on a
    metric later set to ¥ reads ¥330, not ¥3.30; `0.025` logged without a unit reads 0.025 % once the unit is %),
    and a goal keeps reading against the values it was set for. A ratio's values are computed from its parts,
    which do not change, so neither do its goals. Refused, changing nothing, when a value would no longer fit
    what storage keeps (bot.metrics.amount_fits)."""
    if (old == "%") == (new == "%") or metric.is_ratio:
        return
    factor = Decimal(100) if old == "%" else Decimal(1) / Decimal(100)
    goals = list(session.scalars(select(Goal).where(Goal.metric_id == metric.id)))
    checkins = list(session.scalars(select(GoalCheckin).where(GoalCheckin.goal_id.in_([g.id for g in goals])))) \
        if goals else []
    values = list(session.scalars(select(KpiValue).where(KpiValue.metric_id == metric.id)))
    amounts = [v.value for v in values] + [c.value for c in checkins] + [g.target for g in goals] \
        + [g.baseline for g in goals if g.baseline is not None]
    for amount in amounts:
        if metrics.amount_fits(amount * factor) is not None:
            shown = f"{amount.normalize():f}" if old != "%" else f"{(amount * 100).normalize():f}%"
            raise UserError.of("error.kpi.rescale_unfit", name=metric.name, value=shown)
    for value in values:
        value.value = value.value * factor
    for goal in goals:
        goal.target = goal.target * factor
        if goal.baseline is not None:
            goal.baseline = goal.baseline * factor
    for checkin in checkins:
        checkin.value = checkin.value * factor


# `/kpi log` is the busiest write: a few prepared statements (storage.prepared), not ORM objects, on its path.
# the metric by its key, and the value already logged for it on that channel and day
_FIND_METRIC = Prepared(
    select(
        Metric.id, Metric.number, Metric.name, Metric.unit, Metric.agg, Metric.numerator_id, Metric.denominator_id,
        KpiValue.value.label("previous"),
    )
    .outerjoin(
        KpiValue,
        (KpiValue.metric_id == Metric.id) & (KpiValue.channel == bindparam("channel")) & (KpiValue.day == bindparam("day")),
    )
    .where(Metric.workspace_id == bindparam("workspace_id"), Metric.key == bindparam("key"))
)


def _upsert_value(insert: Any) -> Any:
    statement = insert(KpiValue).values(column_binds(KpiValue))
    return statement.on_conflict_do_update(
        index_elements=[KpiValue.metric_id, KpiValue.channel, KpiValue.day],
        set_={"value": statement.excluded.value, "user_id": statement.excluded.user_id, "updated_at": statement.excluded.updated_at},
    )


_UPSERT_VALUE = per_dialect(_upsert_value)


_RATIO_PARTS = Prepared(
    select(Metric.id, Metric.name).where(Metric.id.in_([bindparam("numerator_id"), bindparam("denominator_id")]))
)


def log_values(
    unit: Unit, *, workspace_id: str, entries: list[Entry], channel: str, day: date, user_id: str | None
) -> list[LoggedValue]:
    """Log several metrics for one channel and day; a value already logged there is replaced (and reported).

    Prepared statements only, so it runs on a Session or on a bare transaction (Database.transaction). Every
    name and value is checked before anything is written."""
    for entry in entries:
        check_metric_name(entry.name)
        check_value(entry.name, entry.value)
    check_length(" ".join(channel.split()), field="channel", limit=channels.NAME_MAX)
    channel = channels.resolve(unit, workspace_id=workspace_id, channel=channel)
    metrics: list[tuple[MetricRef, bool, Decimal | None]] = []
    for entry in entries:
        found = _FIND_METRIC.rows(
            unit, {"workspace_id": workspace_id, "key": metric_key(entry.name), "channel": channel, "day": day}
        )
        if not found:
            created = _insert_metric(unit, workspace_id=workspace_id, name=entry.name, user_id=user_id,
                                     unit_of_measure="%" if entry.percent else entry.currency or None)
            metrics.append((created, True, None))
            continue
        metric_id, number, name, unit_of_measure, agg, numerator_id, denominator_id, previous = found[0]
        check_unit(name, unit_of_measure, percent=entry.percent, currency=entry.currency)
        if numerator_id is not None:
            names = dict(_RATIO_PARTS.rows(unit, {"numerator_id": numerator_id, "denominator_id": denominator_id}))
            parts = f"{names.get(numerator_id, '?')} / {names.get(denominator_id, '?')}"
            raise UserError.of("error.kpi.is_ratio", name=name, parts=parts)
        metrics.append((MetricRef(metric_id, number, name, unit_of_measure, agg), False, previous))
    now = utcnow()
    logged: list[LoggedValue] = []
    rows = []
    for entry, (ref, created_now, previous) in zip(entries, metrics, strict=True):
        # a bare number on a percent metric is read as percentage points
        value = entry.value / 100 if ref.unit == "%" and not entry.percent else entry.value
        check_amount(value, name=ref.name, percent=ref.unit == "%")
        rows.append({
            "workspace_id": workspace_id, "metric_id": ref.id, "channel": channel, "day": day, "value": value,
            "user_id": user_id, "created_at": now, "updated_at": now,
        })
        logged.append(LoggedValue(ref, channel, day, value, previous, created_now))
    _UPSERT_VALUE[dialect_of(unit).name].many(unit, rows)
    return logged


def check_unit(name: str, unit: str | None, *, percent: bool, currency: str | None) -> None:
    """A value typed with a unit must be in its metric's unit: `$100` on a ¥ metric or `15%` on a money goal is
    refused, never relabelled. A bare number fits any metric, and a metric with no unit takes any value."""
    typed = "%" if percent else currency
    if typed is not None and unit and typed != unit:
        raise UserError.of("error.kpi.unit_mismatch", name=name, typed=typed, unit=unit)


def log_value(
    session: Session,
    *,
    workspace_id: str,
    metric_name: str,
    value: Decimal,
    percent: bool,
    channel: str,
    day: date,
    user_id: str | None,
    currency: str | None = None,
) -> LoggedValue:
    entry = Entry(metric_name, value, percent, currency)
    return log_values(session, workspace_id=workspace_id, entries=[entry], channel=channel, day=day, user_id=user_id)[0]


@dataclass(frozen=True)
class PartTotals:
    """What a period of one metric adds up to, per channel: the parts ratios are computed from."""

    total: Decimal
    count: int
    last_day: date | None
    last_value: Decimal


def _part_totals(
    session: Session, *, metric: Metric, start: date, end: date, channel: str | Sequence[str] | None
) -> dict[str, PartTotals]:
    conditions = [KpiValue.metric_id == metric.id, KpiValue.day >= start, KpiValue.day <= end]
    if channel is not None:
        conditions.append(on_channels(session, workspace_id=metric.workspace_id,
                                       names=[channel] if isinstance(channel, str) else list(channel)))
    rows = session.execute(
        select(
            KpiValue.channel,
            *safe_sum(KpiValue.value),
            func.count(),
            func.max(KpiValue.day),
        )
        .where(*conditions)
        .group_by(KpiValue.channel)
    ).all()
    stored: dict[str, PartTotals] = {}
    for ch, whole, rest, count, last_day in rows:
        total = summed(whole, rest)
        last_value = session.scalar(
            select(KpiValue.value).where(
                KpiValue.metric_id == metric.id, KpiValue.channel == ch, KpiValue.day == last_day
            )
        )
        stored[ch] = PartTotals(
            total=total, count=int(count), last_day=last_day, last_value=last_value or Decimal(0)
        )
    if len(stored) < 2:
        return stored
    # one channel stored under two of its names (京东 and JD) is one channel, shown under its first spelling
    shown = channels.shown_names(session, workspace_id=metric.workspace_id, spellings=list(stored))
    result: dict[str, PartTotals] = {}
    for ch, part in stored.items():
        name = shown[ch]
        kept = result.get(name)
        if kept is None:
            result[name] = part
            continue
        latest = max(kept, part, key=lambda p: p.last_day or date.min)
        result[name] = PartTotals(kept.total + part.total, kept.count + part.count, latest.last_day, latest.last_value)
    return result


def combine(metric: Metric, parts: list[PartTotals]) -> Decimal | None:
    """One value for a plain metric over a period, by its aggregation."""
    if not parts:
        return None
    if metric.agg == "avg":
        count = sum(p.count for p in parts)
        return sum((p.total for p in parts), Decimal(0)) / count if count else None
    if metric.agg == "last":
        return sum((p.last_value for p in parts), Decimal(0))
    return sum((p.total for p in parts), Decimal(0))


@dataclass
class PeriodValue:
    value: Decimal | None
    by_channel: dict[str, Decimal | None]
    numerator: Decimal | None = None
    denominator: Decimal | None = None


def period_value(
    session: Session, *, metric: Metric, start: date, end: date, channel: str | Sequence[str] | None = None
) -> PeriodValue:
    """A metric over [start, end] (on one channel, or on any of several: a campaign's); a ratio metric from the
    summed parts, never the mean of daily ratios."""
    if metric.is_ratio:
        assert metric.numerator is not None and metric.denominator is not None
        num = _part_totals(session, metric=metric.numerator, start=start, end=end, channel=channel)
        den = _part_totals(session, metric=metric.denominator, start=start, end=end, channel=channel)
        n_total = combine(metric.numerator, list(num.values()))
        d_total = combine(metric.denominator, list(den.values()))
        by_channel = {
            ch: metrics.ratio(combine(metric.numerator, [num[ch]]) if ch in num else None, combine(metric.denominator, [den[ch]]))
            for ch in den
        }
        return PeriodValue(metrics.ratio(n_total, d_total), by_channel, n_total, d_total)
    parts = _part_totals(session, metric=metric, start=start, end=end, channel=channel)
    return PeriodValue(
        combine(metric, list(parts.values())), {ch: combine(metric, [p]) for ch, p in parts.items()}
    )


def days_logged(
    session: Session, *, metric: Metric, start: date, end: date, channel: str | Sequence[str] | None = None
) -> int:
    """On how many days of [start, end] the metric (a ratio: either part) has a value, on `channel` if given."""
    ids = [metric.numerator_id, metric.denominator_id] if metric.is_ratio else [metric.id]
    conditions = [KpiValue.metric_id.in_(ids), KpiValue.day >= start, KpiValue.day <= end]
    if channel:
        conditions.append(on_channels(session, workspace_id=metric.workspace_id,
                                       names=[channel] if isinstance(channel, str) else list(channel)))
    return int(session.scalar(select(func.count(func.distinct(KpiValue.day))).where(*conditions)) or 0)


#: A previous window with values on fewer of its days than this share is too thin to compare with.
MIN_PREVIOUS_COVERAGE = Decimal("0.5")


@dataclass(frozen=True)
class PeriodComparison:
    """A period's change against the one before it, like with like: the period's days that are over (today is
    not) against as many days just before the period, each side by `bot.metrics.like_for_like` (a summed
    metric by its mean per day logged, anything else as it is). `change` is None when there is nothing fair to
    compare, and `reason` says why: "none" (no day of the period is over yet), "thin" (the earlier days have
    values on fewer than half of them), "zero" (the earlier figure is 0) or "missing" (nothing logged in one of
    them: `current` or `previous` is None)."""

    change: Decimal | None
    days: int  # the days compared on each side
    period_days: int
    previous_days_logged: int
    reason: str | None = None
    current: Decimal | None = None  # the metric over the period's days that are over
    previous: Decimal | None = None  # the metric over as many days just before the period
    days_logged: int = 0  # of the period's days that are over, those with a value
    per_day: bool = False  # a summed metric: compared by its mean per day logged (`now`, `before`)

    @property
    def now(self) -> Decimal | None:
        """The figure compared of the period's days that are over."""
        return self.current if not self.per_day else metrics.like_for_like("sum", self.current, self.days_logged)

    @property
    def before(self) -> Decimal | None:
        """The figure compared of the days before."""
        return self.previous if not self.per_day else metrics.like_for_like("sum", self.previous,
                                                                            self.previous_days_logged)


def compared_days(start: date, end: date, today: date) -> tuple[date, date, date, date] | None:
    """The two spans `compare_periods` compares: the period's days that are over, [start, min(end, yesterday)],
    and as many days just before the period; None when no day of the period is over yet."""
    compared_end = min(end, today - timedelta(days=1))
    days = (compared_end - start).days + 1
    if days <= 0:
        return None
    return start, compared_end, start - timedelta(days=days), start - timedelta(days=1)


def compare_periods(
    session: Session, *, metric: Metric, start: date, end: date, today: date,
    channel: str | Sequence[str] | None = None,
) -> PeriodComparison:
    """`/kpi show`'s change, its `why` form's and a retrospective's: one rule (README "How the figures are
    computed"). `channel`: one channel, or any of several (a campaign's)."""
    period_days = (end - start).days + 1
    spans = compared_days(start, end, today)
    if spans is None:
        return PeriodComparison(None, 0, period_days, 0, "none")
    _, compared_end, before_start, before_end = spans
    days = (compared_end - start).days + 1
    now = period_value(session, metric=metric, start=start, end=compared_end, channel=channel).value
    before = period_value(session, metric=metric, start=before_start, end=before_end, channel=channel).value
    logged_now = days_logged(session, metric=metric, start=start, end=compared_end, channel=channel)
    logged = days_logged(session, metric=metric, start=before_start, end=before_end, channel=channel)
    per_day = not metric.is_ratio and metric.agg == "sum"
    comparison = PeriodComparison(None, days, period_days, logged, None, now, before, logged_now, per_day)
    if now is None or before is None:
        return dataclasses.replace(comparison, reason="missing")
    if Decimal(logged) < MIN_PREVIOUS_COVERAGE * days:
        return dataclasses.replace(comparison, reason="thin")
    change = metrics.change(comparison.now, comparison.before)
    return dataclasses.replace(comparison, change=change, reason=None if change is not None else "zero")


#: What "why it moved" splits a GMV into: traffic (visits) × conversion (orders ÷ visits) × AOV (GMV ÷ orders).
FUNNEL_NAMES = {"visits": ("visits", "访客数", "sessions"), "orders": ("orders", "订单数", "transactions")}


@dataclass(frozen=True)
class WhyItMoved:
    """A GMV-like metric's change split into traffic × conversion × AOV (bot.anomalies.why_gmv_moved), over the
    same days as `compare_periods`; `missing` says why there is none: "money" (not a sales amount), "visits" or
    "orders" (that part is not a metric yet), "days" (no day of the period is over), "earlier" (nothing logged
    in the days before), "thin" (`compare_periods` finds those days too thin to compare with), "later" (nothing
    logged in the period's days that are over)."""

    moves: anomalies.GmvMoves | None
    missing: str | None = None
    per_day: bool = False  # the funnels are means per day logged of the GMV (a summed one), as `compare_periods`


def why_it_moved(
    session: Session, *, workspace_id: str, metric: Metric, start: date, end: date, today: date,
    comparison: PeriodComparison, channel: str | None = None,
) -> WhyItMoved:
    """`comparison` is `compare_periods` of the metric over the same days and channel: where it does not compare
    (too few earlier days logged, or none), neither does the split."""
    if metric.is_ratio or not _is_money(metric):
        return WhyItMoved(None, "money")
    parts: dict[str, Metric] = {}
    for role, names in FUNNEL_NAMES.items():
        found = next((m for n in names if (m := find_metric(session, workspace_id=workspace_id, name=n)) is not None), None)
        if found is None:
            return WhyItMoved(None, role)
        parts[role] = found
    spans = compared_days(start, end, today)
    if spans is None or comparison.reason == "none":
        return WhyItMoved(None, "days")
    if comparison.reason == "missing":
        return WhyItMoved(None, "earlier" if comparison.previous is None else "later")
    if comparison.reason == "thin":
        return WhyItMoved(None, "thin")
    _, compared_end, before_start, before_end = spans
    # like with like, as `compare_periods`: a summed GMV by its mean per day logged, its funnel with it (visits
    # and orders over the same days, so conversion and AOV are unchanged and the three factors still multiply up)
    windows = ((before_start, before_end, comparison.previous_days_logged),
               (start, compared_end, comparison.days_logged))

    def funnels(first: date, last: date, logged: int) -> dict[str, anomalies.Funnel]:
        values = {role: period_value(session, metric=m, start=first, end=last, channel=channel).by_channel
                  for role, m in (*parts.items(), ("gmv", metric))}
        names = dict.fromkeys([*values["gmv"], *values["visits"], *values["orders"]])

        def scaled(value: Decimal | None) -> Decimal | None:
            return value / logged if value is not None and comparison.per_day and logged > 0 else value

        return {name: anomalies.Funnel(scaled(values["visits"].get(name)), scaled(values["orders"].get(name)),
                                       scaled(values["gmv"].get(name)))
                for name in names}

    before, after = (funnels(*window) for window in windows)
    return WhyItMoved(anomalies.why_gmv_moved(before, after), per_day=comparison.per_day)


def latest_day(session: Session, *, metric: Metric) -> date | None:
    ids = [metric.numerator_id, metric.denominator_id] if metric.is_ratio else [metric.id]
    return session.scalar(select(func.max(KpiValue.day)).where(KpiValue.metric_id.in_(ids)))


def _on_channel(session: Session, *, workspace_id: str, channel: str) -> Any:
    """A value's channel is `channel` under any of its names (京东 is JD)."""
    return on_channels(session, workspace_id=workspace_id, names=[channel])


def on_channels(session: Session, *, workspace_id: str, names: Sequence[str]) -> Any:
    """A value's channel is one of `names`, each under any of its names."""
    spellings = {n for name in names for n in channels.names(session, workspace_id=workspace_id, channel=name)}
    return func.lower(KpiValue.channel).in_(sorted(spellings))


def daily_series(
    session: Session, *, metric_ids: list[int], start: date, end: date, channel: str | None = None
) -> list[tuple[int, str, date, Decimal]]:
    """Raw (metric_id, channel, day, value) rows, for charts and analytics."""
    conditions = [KpiValue.metric_id.in_(metric_ids), KpiValue.day >= start, KpiValue.day <= end]
    if channel is not None and metric_ids:
        workspace_id = session.scalar(select(Metric.workspace_id).where(Metric.id == metric_ids[0]))
        conditions.append(_on_channel(session, workspace_id=str(workspace_id), channel=channel))
    rows = session.execute(
        select(KpiValue.metric_id, KpiValue.channel, KpiValue.day, KpiValue.value).where(*conditions)
    ).all()
    return [(int(r[0]), r[1], r[2], r[3]) for r in rows]


