"""Is one day's KPI value unusual for its weekday? A robust, campaign-aware test; and why GMV moved.

Pure functions on plain values: no database, no pandas, no Slack. The caller picks the series (one metric,
optionally one channel), the day and the campaigns; this module only judges.

The anomaly rule (`check_day`), for a value v of one metric on day d:

1. History: the 56 days before d (8 weeks). A day without a value is skipped, and so is every day covered
   by one of the campaigns passed in: a planned spike (双十一, 618) never widens the normal range of the
   weeks after it.
2. Expected value: m = median of the same weekday in that history (d − 7, d − 14, …, d − 56). Fewer
   than 4 such points: verdict `insufficient`, never a flag.
3. Spread, for positive series (m > 0 and every same-weekday point > 0), on the log scale because KPI
   noise is multiplicative: each weekday of the 8 weeks with at least 4 points, all positive, gives
   every point's deviation ln(x / median of the other points of its weekday) (leave one out, as v is
   compared with a median it is not part of); s = 1.4826 × the median of all those |deviations| (MAD ×
   1.4826, as monitoring tools scale it), floored at 0.02 so a flat history does not turn a tiny move
   into a huge z. Pooling the weekdays (up to 56 deviations) is deliberate: a MAD of 4 to 8 points is
   too unsteady for a fixed threshold (on benchmarks/anomalies.py's data it gave several times the
   false alarms).
   Robust z-score: z = ln(v / m) / s (None when v ≤ 0).
   Other series (zero or negative values): z = (v − m) / scale with scale = 1.4826 × the MAD of the
   same-weekday points, floored at 2 % of |m|.
4. A value is flagged when |z| ≥ 4 and it moved at least 15 % from the median, |v − m| ≥ 0.15 × |m|
   (a positive series' value ≤ 0 has moved 100 %): `high` above, `low` below; otherwise `normal`. The
   normal range `low`…`high` reported is where both do not hold: m × min(e^(−4s), 0.85) to
   m × max(e^(4s), 1.15), or m ± max(4 × scale, 0.15 × |m|): values strictly between its ends are
   `normal`, values beyond them are flagged. A value equal to the median is never flagged, so an all-zero history flags any non-zero value (z is then None).
   The threshold is 4 rather than the customary 3.5: on benchmarks/anomalies.py's data (seeds
   20261111, 1, 2, 3), 3.5 with the same 15 % gave a precision of 0.69–0.87, 4 gave 0.87–0.94 at a
   recall of 0.94–0.98.
5. A day covered by a campaign is `campaign` ("expected: campaign C-2 live"), never `high` or `low`,
   whatever the value; the expected range is still reported when there is history.

Detection is two-sided whatever the metric's better direction; `better` only words the result (a high
GMV is good, a high refund count is bad).

Numbers: figures in the metric's own units (values, medians, ranges, visits, orders, GMV) are Decimal,
as they come from storage. Dimensionless statistics (z-scores, relative and log changes, shares) are
floats.

Why GMV moved (`split_gmv_change`, `why_gmv_moved`): GMV = visits × (orders / visits) × (GMV / orders),
i.e. traffic × conversion × AOV, so ln(G1/G0) = ln(V1/V0) + ln(C1/C0) + ln(A1/A0) exactly. Each factor is
reported with its own relative change and its share of the total log change (the three shares sum to 1;
they are None when GMV did not change). A split needs all six parts positive; otherwise it is None with a
reason (a `Gap`). Overall figures are computed from parts summed over the channels, never from channel ratios.
A channel with nothing logged in one period has no data there, not zeros: its gap says so, and it is never
split against ¥0.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

WEEKS = 8  # same-weekday history looked at
MIN_HISTORY = 4  # fewer same-weekday points: "not enough history"
MAD_TO_SIGMA = 1.4826
LOG_SCALE_FLOOR = 0.02  # positive series: the log-scale spread is at least 0.02 (about 2 %)
SCALE_FLOOR = Decimal("0.02")  # other series: the scale is at least 2 % of |median|
Z_THRESHOLD = 4.0
MIN_MOVE = Decimal("0.15")  # and the value moved at least 15 % from the median

Verdict = Literal["normal", "high", "low", "campaign", "insufficient"]


@dataclass(frozen=True)
class CampaignWindow:
    """A campaign's dates, both ends included, and its reference ("C-2")."""

    ref: str
    start: date
    end: date

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class DayCheck:
    """One day's value judged against the same weekday in the weeks before it."""

    day: date
    value: Decimal
    expected: Decimal | None  # median of the history; None without enough history
    low: Decimal | None  # the normal range: values strictly inside it are `normal`
    high: Decimal | None
    z: float | None  # (value − expected) / scale; None without history or spread
    verdict: Verdict
    campaigns: tuple[str, ...]  # refs of the campaigns covering the day
    history_points: int  # same-weekday values the baseline was computed from
    better: str = "up"  # up | down: wording only

    @property
    def flagged(self) -> bool:
        return self.verdict in ("high", "low")

    @property
    def tone(self) -> Literal["good", "bad"] | None:
        """Whether a flagged move is good or bad news for this metric; None when not flagged."""
        if not self.flagged:
            return None
        return "good" if (self.verdict == "high") == (self.better != "down") else "bad"

    @property
    def note(self) -> str:
        """A short plain-language reason."""
        if self.verdict == "campaign":
            return f"expected: campaign {', '.join(self.campaigns)} live"
        if self.verdict == "insufficient":
            return f"not enough history: {self.history_points} of {MIN_HISTORY} same-weekday days"
        if self.verdict == "normal":
            return "within the normal range for this weekday"
        return f"unusually {self.verdict} for this weekday ({self.tone})"


def _usable(day: date, history: Mapping[date, Decimal | None], windows: Sequence[CampaignWindow]) -> Decimal | None:
    value = history.get(day)
    return None if value is None or any(w.covers(day) for w in windows) else value


def same_weekday_history(
    day: date, history: Mapping[date, Decimal | None], campaigns: Sequence[CampaignWindow] = ()
) -> list[Decimal]:
    """The values the expected value of `day` is the median of: same weekday, last WEEKS weeks, no campaign days."""
    points = [_usable(day - timedelta(days=7 * k), history, campaigns) for k in range(1, WEEKS + 1)]
    return [p for p in points if p is not None]


def _log_spread(day: date, history: Mapping[date, Decimal | None], campaigns: Sequence[CampaignWindow]) -> float:
    """1.4826 × the median leave-one-out |ln deviation| over the weekdays of the WEEKS weeks before `day`."""
    deviations: list[float] = []
    for offset in range(1, 8):  # day - 1 … day - 7: one of each weekday, then back in weeks
        points = [
            p
            for p in (_usable(day - timedelta(days=offset + 7 * k), history, campaigns) for k in range(WEEKS))
            if p is not None
        ]
        if len(points) < MIN_HISTORY or any(p <= 0 for p in points):
            continue
        for i, point in enumerate(points):
            others = statistics.median(points[:i] + points[i + 1 :])
            deviations.append(abs(math.log(point / others)))
    spread = MAD_TO_SIGMA * statistics.median(deviations) if deviations else 0.0
    return max(spread, LOG_SCALE_FLOOR)


def check_day(
    day: date,
    value: Decimal,
    history: Mapping[date, Decimal | None],
    *,
    campaigns: Sequence[CampaignWindow] = (),
    better: str = "up",
) -> DayCheck:
    """Judge `value` on `day` by the rule in the module docstring.

    `history` maps days to the same series' values: pass every day of the 8 weeks before `day`, not only
    its weekday, since the spread is pooled over the weekdays (the day itself and later days are ignored).
    `campaigns` are every campaign overlapping those 8 weeks or `day`: those covering `day` make it a
    campaign day, the others only take their days out of the history.
    """
    live = tuple(w.ref for w in campaigns if w.covers(day))
    points = same_weekday_history(day, history, campaigns)
    n = len(points)
    if n < MIN_HISTORY:
        verdict: Verdict = "campaign" if live else "insufficient"
        return DayCheck(day, value, None, None, None, None, verdict, live, n, better)
    median = statistics.median(points)
    move = value - median
    z: float | None
    if median > 0 and all(p > 0 for p in points):
        spread = _log_spread(day, history, campaigns)
        z = math.log(value / median) / spread if value > 0 else None
        low = median * min(Decimal(repr(math.exp(-Z_THRESHOLD * spread))), 1 - MIN_MOVE)
        high = median * max(Decimal(repr(math.exp(Z_THRESHOLD * spread))), 1 + MIN_MOVE)
    else:
        mad = statistics.median(abs(x - median) for x in points)
        scale = max(Decimal(MAD_TO_SIGMA) * mad, SCALE_FLOOR * abs(median))
        z = float(move / scale) if scale else None
        half_width = max(Decimal(Z_THRESHOLD) * scale, MIN_MOVE * abs(median))
        low, high = median - half_width, median + half_width
    significant = z is None or abs(z) >= Z_THRESHOLD
    if live:
        verdict = "campaign"
    elif move != 0 and significant and abs(move) >= MIN_MOVE * abs(median):
        verdict = "high" if move > 0 else "low"
    else:
        verdict = "normal"
    return DayCheck(day, value, median, low, high, z, verdict, live, n, better)


# ---------------------------------------------------------------------------------------------------------
# Why it moved: GMV = traffic × conversion × AOV


@dataclass(frozen=True)
class Funnel:
    """One period's (or one expected day's) visits, orders and GMV; None when a part was not logged."""

    visits: Decimal | None
    orders: Decimal | None
    gmv: Decimal | None


@dataclass(frozen=True)
class Factor:
    """One factor of GMV in both periods."""

    name: Literal["traffic", "conversion", "aov"]
    before: Decimal
    after: Decimal
    change: float  # after / before − 1
    log_change: float  # ln(after / before)
    share: float | None  # log_change / the GMV's log change; None when GMV did not change


@dataclass(frozen=True)
class GmvSplit:
    """A GMV change split into traffic × conversion × AOV."""

    gmv_before: Decimal
    gmv_after: Decimal
    change: float  # GMV after / before − 1
    log_change: float  # = traffic.log_change + conversion.log_change + aov.log_change
    traffic: Factor  # visits
    conversion: Factor  # orders / visits
    aov: Factor  # GMV / orders

    @property
    def factors(self) -> tuple[Factor, Factor, Factor]:
        return (self.traffic, self.conversion, self.aov)


@dataclass(frozen=True)
class Gap:
    """Why a move cannot be split: in the `period` ("earlier" or "later") nothing was logged at all (`part`
    None), or `part` was not logged (`amount` None) or is not positive (`amount` ≤ 0). Words are the renderer's;
    `str()` is for logs."""

    period: Literal["earlier", "later"]
    part: Literal["visits", "orders", "gmv"] | None = None
    amount: Decimal | None = None

    def __str__(self) -> str:
        if self.part is None:
            return f"nothing logged in the {self.period} period"
        if self.amount is None:
            return f"{self.part} not logged in the {self.period} period"
        return f"{self.part} is {self.amount} in the {self.period} period"


@dataclass(frozen=True)
class GmvMove:
    """The split for one channel (None: all channels together), or why there is none."""

    channel: str | None
    before: Funnel
    after: Funnel
    split: GmvSplit | None
    reason: Gap | None  # set exactly when split is None


@dataclass(frozen=True)
class GmvMoves:
    overall: GmvMove
    channels: tuple[GmvMove, ...]  # in the order first seen, earlier period first


def _factor(name: Literal["traffic", "conversion", "aov"], before: Decimal, after: Decimal, total: float) -> Factor:
    log_change = math.log(after / before)
    share = log_change / total if total else None
    return Factor(name, before, after, float(after / before) - 1, log_change, share)


def _positive_parts(funnel: Funnel, label: Literal["earlier", "later"]) -> tuple[Decimal, Decimal, Decimal] | Gap:
    """(visits, orders, GMV), or why they cannot be split (a log needs positive numbers)."""
    positive: list[Decimal] = []
    parts: tuple[tuple[Literal["visits", "orders", "gmv"], Decimal | None], ...] = (
        ("visits", funnel.visits), ("orders", funnel.orders), ("gmv", funnel.gmv))
    if all(amount is None for _, amount in parts):
        return Gap(label)
    for name, amount in parts:
        if amount is None or amount <= 0:
            return Gap(label, name, amount)
        positive.append(amount)
    visits, orders, gmv = positive
    return visits, orders, gmv


def split_gmv_change(before: Funnel, after: Funnel, *, channel: str | None = None) -> GmvMove:
    """Split the GMV change from `before` to `after` (two periods, or expected vs actual) into its factors."""
    earlier = _positive_parts(before, "earlier")
    later = _positive_parts(after, "later")
    if isinstance(earlier, Gap):
        return GmvMove(channel, before, after, None, earlier)
    if isinstance(later, Gap):
        return GmvMove(channel, before, after, None, later)
    (v0, o0, g0), (v1, o1, g1) = earlier, later
    total = math.log(g1 / g0)
    split = GmvSplit(
        gmv_before=g0,
        gmv_after=g1,
        change=float(g1 / g0) - 1,
        log_change=total,
        traffic=_factor("traffic", v0, v1, total),
        conversion=_factor("conversion", o0 / v0, o1 / v1, total),
        aov=_factor("aov", g0 / o0, g1 / o1, total),
    )
    return GmvMove(channel, before, after, split, None)


def _summed(funnels: Iterable[Funnel]) -> Funnel:
    """Parts summed over channels; a part not logged on some channel leaves the total unknown."""
    items = list(funnels)

    def total(part: str) -> Decimal | None:
        amounts: list[Decimal | None] = [getattr(f, part) for f in items]
        if any(a is None for a in amounts):
            return None
        return sum((a for a in amounts if a is not None), Decimal(0))

    return Funnel(total("visits"), total("orders"), total("gmv"))


def why_gmv_moved(before: Mapping[str, Funnel], after: Mapping[str, Funnel]) -> GmvMoves:
    """Per channel and overall. A channel with nothing logged in one period has no data there (a `Gap` of that
    period), never zeros to compare with."""
    nothing = Funnel(None, None, None)
    names = list(dict.fromkeys([*before, *after]))
    channels = tuple(
        split_gmv_change(before.get(name, nothing), after.get(name, nothing), channel=name) for name in names
    )
    overall = split_gmv_change(_summed(before.values()) if before else nothing, _summed(after.values()) if after else nothing)
    return GmvMoves(overall, channels)


def expected_funnel(
    day: date,
    visits: Mapping[date, Decimal | None],
    orders: Mapping[date, Decimal | None],
    gmv: Mapping[date, Decimal | None],
    *,
    campaigns: Sequence[CampaignWindow] = (),
) -> Funnel:
    """Each part's same-weekday median before `day`, as `check_day` computes it; None without enough history.

    Split a day against what was expected with `split_gmv_change(expected_funnel(...), actual)`.
    """

    def median(history: Mapping[date, Decimal | None]) -> Decimal | None:
        points = same_weekday_history(day, history, campaigns)
        return statistics.median(points) if len(points) >= MIN_HISTORY else None

    return Funnel(median(visits), median(orders), median(gmv))
