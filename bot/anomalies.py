"""Is one day's KPI value unusual for its weekday? A robust, campaign-aware test; and why GMV moved.

Pure functions on plain values: no database, no pandas, no Slack. The caller picks the series (one metric,
optionally one channel), the day and the campaigns; this module only judges.

The anomaly rule (`check_day`), for a value v of one metric on day d:

1. History: the same weekday in the 8 weeks before d (d − 7, d − 14, …, d − 56). A day without a value is
   skipped, and so is every day covered by one of the campaigns passed in: a planned spike (双十一, 618)
   never widens the normal range of the weeks after it. Nothing older than 8 weeks is used.
2. Fewer than 4 history points: verdict `insufficient`, never a flag.
3. Expected value: m = median of the history. Spread: s = 1.4826 × MAD, where MAD is the median of
   |x − m| (1.4826 × MAD estimates the standard deviation of normal data, as monitoring tools use it).
   The scale is floored at 2 % of |m|: scale = max(s, 0.02 × |m|), so a flat history does not turn a
   tiny move into a huge z.
4. Robust z-score: z = (v − m) / scale.
5. A value is flagged when |z| ≥ 3.5 and it moved at least 15 % from the median, |v − m| ≥ 0.15 × |m|:
   `high` above, `low` below; otherwise `normal`. Both together mean the normal range is
   m ± max(3.5 × scale, 0.15 × |m|) (its ends are flagged), which is what `low` and `high` report.
   A value equal to the median is never flagged, so an all-zero history flags any non-zero value (z is
   then None: there is no spread to divide by).
6. A day covered by a campaign is `campaign` ("expected: campaign C-2 live"), never `high` or `low`,
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
reason. Overall figures are computed from parts summed over the channels, never from channel ratios.
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
MAD_TO_SIGMA = Decimal("1.4826")
SCALE_FLOOR = Decimal("0.02")  # the scale is at least 2 % of |median|
Z_THRESHOLD = Decimal("3.5")
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


def same_weekday_history(
    day: date, history: Mapping[date, Decimal | None], campaigns: Iterable[CampaignWindow] = ()
) -> list[Decimal]:
    """The values the baseline of `day` is computed from: same weekday, last WEEKS weeks, no campaign days."""
    windows = list(campaigns)
    points: list[Decimal] = []
    for k in range(1, WEEKS + 1):
        past = day - timedelta(days=7 * k)
        value = history.get(past)
        if value is None or any(w.covers(past) for w in windows):
            continue
        points.append(value)
    return points


def check_day(
    day: date,
    value: Decimal,
    history: Mapping[date, Decimal | None],
    *,
    campaigns: Sequence[CampaignWindow] = (),
    better: str = "up",
) -> DayCheck:
    """Judge `value` on `day` by the rule in the module docstring.

    `history` maps earlier days to the same series' values (other days, the day itself and later days are
    ignored). `campaigns` are every campaign overlapping the 8 weeks up to `day`: those covering `day`
    make it a campaign day, the others only take their days out of the baseline.
    """
    live = tuple(w.ref for w in campaigns if w.covers(day))
    points = same_weekday_history(day, history, campaigns)
    n = len(points)
    if n < MIN_HISTORY:
        verdict: Verdict = "campaign" if live else "insufficient"
        return DayCheck(day, value, None, None, None, None, verdict, live, n, better)
    median = statistics.median(points)
    mad = statistics.median(abs(x - median) for x in points)
    scale = max(MAD_TO_SIGMA * mad, SCALE_FLOOR * abs(median))
    half_width = max(Z_THRESHOLD * scale, MIN_MOVE * abs(median))
    move = value - median
    z = float(move / scale) if scale else None
    if live:
        verdict = "campaign"
    elif move != 0 and abs(move) >= half_width:
        verdict = "high" if move > 0 else "low"
    else:
        verdict = "normal"
    return DayCheck(day, value, median, median - half_width, median + half_width, z, verdict, live, n, better)


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
class GmvMove:
    """The split for one channel (None: all channels together), or why there is none."""

    channel: str | None
    before: Funnel
    after: Funnel
    split: GmvSplit | None
    reason: str | None  # set exactly when split is None


@dataclass(frozen=True)
class GmvMoves:
    overall: GmvMove
    channels: tuple[GmvMove, ...]  # in the order first seen, earlier period first


def _factor(name: Literal["traffic", "conversion", "aov"], before: Decimal, after: Decimal, total: float) -> Factor:
    log_change = math.log(after / before)
    share = log_change / total if total else None
    return Factor(name, before, after, float(after / before) - 1, log_change, share)


def _positive_parts(funnel: Funnel, label: str) -> tuple[Decimal, Decimal, Decimal] | str:
    """(visits, orders, GMV), or why they cannot be split (a log needs positive numbers)."""
    positive: list[Decimal] = []
    for name, amount in (("visits", funnel.visits), ("orders", funnel.orders), ("gmv", funnel.gmv)):
        if amount is None:
            return f"{name} not logged in the {label} period"
        if amount <= 0:
            return f"{name} is {amount} in the {label} period"
        positive.append(amount)
    visits, orders, gmv = positive
    return visits, orders, gmv


def split_gmv_change(before: Funnel, after: Funnel, *, channel: str | None = None) -> GmvMove:
    """Split the GMV change from `before` to `after` (two periods, or expected vs actual) into its factors."""
    earlier = _positive_parts(before, "earlier")
    later = _positive_parts(after, "later")
    if isinstance(earlier, str) or isinstance(later, str):
        return GmvMove(channel, before, after, None, earlier if isinstance(earlier, str) else str(later))
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
    """Per channel and overall. A channel missing from one period had no activity there (all zeros)."""
    zero = Funnel(Decimal(0), Decimal(0), Decimal(0))
    names = list(dict.fromkeys([*before, *after]))
    channels = tuple(
        split_gmv_change(before.get(name, zero), after.get(name, zero), channel=name) for name in names
    )
    overall = split_gmv_change(_summed(before.values()), _summed(after.values()))
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
