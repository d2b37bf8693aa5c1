"""Anomaly benchmark: bot.anomalies.check_day against the digest's fixed-percent rule on seasonal KPI data.

A year of daily values (fixed seed) for 4 metrics × 4 channels: a weekly pattern per channel, a trend,
lognormal noise, a day in a hundred not logged, campaign spikes (双十二, 年货节, 38 女王节, 618, 双十一)
passed as campaigns, and anomalies injected on known days outside campaigns (drops to 35–65 %, spikes
to 150–250 %). Every logged day after an 8-week warm-up is judged by both rules:

- new: `check_day` (the same weekday's median over 8 weeks, a 1.4826 × MAD spread pooled over the
  weekdays, campaigns known; the rule is in bot/anomalies.py's docstring); a flag is a `high` or `low`
  verdict;
- old: `analytics.daily_changes_from_frame` (the value against the mean of the 7 days before), flagged
  red or green when |change| ≥ `bot.services.digest.FLAT`, as the digest colours it; the same rule at
  ±20 % is shown for comparison.

Precision and recall are against the injected days; a false alarm is a flag on any other day (campaign
days included: a spike the team planned is not news). Targets: precision ≥ 0.8, recall ≥ 0.7, and at
most 1 false alarm per 100 metric-days, under a tenth of the old rule's. Prints a markdown table; exits 1
when a target is missed (unless --no-fail).

    python benchmarks/anomalies.py
    python benchmarks/anomalies.py --seed 7 --no-fail
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd
from _common import Verdict, md_table, tree_note

from bot import analytics
from bot.anomalies import WEEKS, CampaignWindow, check_day
from bot.services.digest import FLAT

SEED = 20261111
DAYS = 365
FIRST_DAY = date(2025, 11, 20)
WARMUP = 7 * WEEKS
ANOMALIES_PER_SERIES = 3
MISSING_RATE = 0.01
LOOSE = Decimal("0.20")

TARGET_PRECISION = 0.8
TARGET_RECALL = 0.7
TARGET_FALSE_PER_100 = 1.0

METRICS = [
    analytics.MetricInfo(id=1, name="visits"),
    analytics.MetricInfo(id=2, name="orders"),
    analytics.MetricInfo(id=3, name="GMV", unit="¥"),
    analytics.MetricInfo(id=4, name="refunds", better="down"),
]
# sigma of the lognormal day-to-day noise, and the decimals each metric is logged with
NOISE = {"visits": 0.05, "orders": 0.07, "GMV": 0.08, "refunds": 0.10}
DIGITS = {"visits": 0, "orders": 0, "GMV": 2, "refunds": 0}
# per channel: base visits, conversion, AOV, Monday..Sunday multipliers
CHANNELS = {
    "天猫": (40_000, 0.030, 260.0, (1.10, 1.00, 0.95, 0.95, 1.00, 0.90, 1.10)),
    "京东": (30_000, 0.035, 330.0, (1.15, 1.05, 1.00, 1.00, 0.95, 0.85, 1.00)),
    "抖音": (60_000, 0.012, 150.0, (0.80, 0.85, 0.90, 0.95, 1.10, 1.50, 1.60)),
    "拼多多": (25_000, 0.045, 90.0, (1.00, 1.00, 1.00, 1.05, 1.10, 1.20, 1.25)),
}
# ref, name, start, end, peak day, multiplier on the other campaign days, multiplier on the peak day
CAMPAIGNS = [
    ("C-1", "双十二", date(2025, 12, 8), date(2025, 12, 12), date(2025, 12, 12), 1.4, 3.0),
    ("C-2", "年货节", date(2026, 1, 10), date(2026, 1, 25), date(2026, 1, 20), 1.3, 1.8),
    ("C-3", "38 女王节", date(2026, 3, 1), date(2026, 3, 8), date(2026, 3, 8), 1.3, 2.5),
    ("C-4", "618", date(2026, 5, 25), date(2026, 6, 18), date(2026, 6, 18), 1.5, 5.0),
    ("C-5", "双十一", date(2026, 10, 20), date(2026, 11, 11), date(2026, 11, 11), 1.6, 8.0),
]
WINDOWS = [CampaignWindow(ref, start, end) for ref, _, start, end, _, _, _ in CAMPAIGNS]

Series = tuple[str, str]  # (channel, metric name)


@dataclass
class Data:
    values: dict[Series, dict[date, Decimal]]
    injected: dict[tuple[Series, date], float]  # the factor applied
    days: list[date]


def campaign_factor(day: date) -> float:
    for _, _, start, end, peak, lift, peak_lift in CAMPAIGNS:
        if start <= day <= end:
            return peak_lift if day == peak else lift
    return 1.0


def in_campaign(day: date) -> bool:
    return any(w.covers(day) for w in WINDOWS)


def generate(seed: int, days: int) -> Data:
    rng = random.Random(seed)
    calendar = [FIRST_DAY + timedelta(days=i) for i in range(days)]
    values: dict[Series, dict[date, Decimal]] = {}
    injected: dict[tuple[Series, date], float] = {}
    candidates = [d for d in calendar[WARMUP:] if not in_campaign(d)]
    for channel, (visits, conversion, aov, weekly) in CHANNELS.items():
        growth = rng.uniform(0.05, 0.35)  # a year's trend
        base = {
            "visits": visits,
            "orders": visits * conversion,
            "GMV": visits * conversion * aov,
            "refunds": visits * conversion * 0.06,
        }
        for metric in METRICS:
            key = (channel, metric.name)
            anomalies: list[date] = []
            while len(anomalies) < ANOMALIES_PER_SERIES:
                day = rng.choice(candidates)
                if all(abs((day - other).days) > 14 for other in anomalies):
                    anomalies.append(day)
            series: dict[date, Decimal] = {}
            for i, day in enumerate(calendar):
                level = base[metric.name] * weekly[day.weekday()] * (1 + growth * i / days) * campaign_factor(day)
                level *= math.exp(rng.gauss(0.0, NOISE[metric.name]))
                if day in anomalies:
                    factor = rng.uniform(0.35, 0.65) if rng.random() < 0.5 else rng.uniform(1.5, 2.5)
                    injected[(key, day)] = factor
                    level *= factor
                if rng.random() < MISSING_RATE and day not in anomalies:
                    continue
                series[day] = round(Decimal(level), DIGITS[metric.name])
            values[key] = series
    return Data(values, injected, calendar)


@dataclass
class Score:
    rule: str
    judged: int = 0
    flags: int = 0
    true_positives: int = 0
    campaign_flags: int = 0
    seconds: float = 0.0

    def precision(self) -> float:
        return self.true_positives / self.flags if self.flags else math.nan

    def recall(self, truth: int) -> float:
        return self.true_positives / truth if truth else math.nan

    @property
    def false_alarms(self) -> int:
        return self.flags - self.true_positives

    def false_per_100(self) -> float:
        return 100 * self.false_alarms / self.judged if self.judged else math.nan


def score(rule: str, data: Data, flagged: Callable[[Series, date], bool | None]) -> Score:
    """Run a rule on every logged day after the warm-up; None from the rule means it could not judge."""
    result = Score(rule)
    started = time.perf_counter()
    for key, series in data.values.items():
        for day in data.days[WARMUP:]:
            if day not in series:
                continue
            result.judged += 1
            if not flagged(key, day):
                continue
            result.flags += 1
            result.true_positives += (key, day) in data.injected
            result.campaign_flags += in_campaign(day)
    result.seconds = time.perf_counter() - started
    return result


def run(seed: int, days: int) -> tuple[Data, Score, Score, Score, dict[str, int]]:
    data = generate(seed, days)
    verdicts: dict[str, int] = {}

    def new_rule(key: Series, day: date) -> bool:
        metric = next(m for m in METRICS if m.name == key[1])
        check = check_day(day, data.values[key][day], data.values[key], campaigns=WINDOWS, better=metric.better)
        verdicts[check.verdict] = verdicts.get(check.verdict, 0) + 1
        return check.flagged

    # The old rule through the digest's own analytics: one frame per channel, one call per channel and day.
    known = {m.id: m for m in METRICS}
    ids = {m.name: m.id for m in METRICS}
    changes: dict[tuple[Series, date], Decimal | None] = {}
    for channel in CHANNELS:
        rows = [
            (ids[name], channel, day, value)
            for (ch, name), series in data.values.items()
            if ch == channel
            for day, value in series.items()
        ]
        frame = analytics.kpi_frame(rows)
        for day in data.days[WARMUP:]:
            # The window the call reads (the day and the 7 before), cut first so each call stays small.
            window = frame[(frame["day"] >= pd.Timestamp(day - timedelta(days=7))) & (frame["day"] <= pd.Timestamp(day))]
            for change in analytics.daily_changes_from_frame(window, METRICS, known, day=day):
                changes[((channel, change.metric.name), day)] = change.change

    def old_rule(threshold: Decimal) -> Callable[[Series, date], bool | None]:
        def flagged(key: Series, day: date) -> bool | None:
            change = changes.get((key, day))
            return None if change is None else abs(change) >= threshold

        return flagged

    new = score("new: same-weekday median, pooled MAD, campaigns known", data, new_rule)
    old = score(f"old: ±{float(FLAT) * 100:g} % vs the trailing 7-day mean (the digest today)", data, old_rule(FLAT))
    loose = score(f"old rule at ±{float(LOOSE) * 100:g} %", data, old_rule(LOOSE))
    return data, new, old, loose, verdicts


def demo_flags(today: date) -> tuple[int, int, list[str]]:
    """The digest's own verdicts on the playground demo's three months (no anomaly injected there: every flag
    is a false alarm, unless it names a real break in the demo's story): flags, metric-days judged, the flags."""
    import tempfile
    from pathlib import Path

    from bot.playground.demo import Team, seed_demo
    from bot.services import digest
    from storage.db import open_database

    with tempfile.TemporaryDirectory(prefix="mktbot-demo-") as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'demo.db'}")
        team = Team("U0ANA", "U0BO", "U0LILEI", "U0SARA", "C0MKT", "C0CAMP")
        seed_demo(db, workspace_id="TDEMO", team=team, today=today, zone="Asia/Shanghai")
        flags: list[str] = []
        judged = 0
        for back in range(1, 35):  # the days with 8 weeks of history behind them
            day = today - timedelta(days=back - 1)
            with db.session(write=False) as session:
                for kpi in digest.collect(session, workspace_id="TDEMO", today=day).kpis:
                    if kpi.check is None or kpi.check.verdict in ("insufficient", "campaign"):
                        continue
                    judged += 1
                    for alert in kpi.alerts:
                        flags.append(f"{day - timedelta(days=1)} {alert.metric} {alert.channel or 'all'} {alert.check.verdict}")
        db.dispose()
    return len({f.split(" ")[0] + f.split(" ")[1] for f in flags}), judged, flags


def fmt(x: float, digits: int = 2) -> str:
    return "–" if math.isnan(x) else f"{x:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    parser.add_argument("--days", type=int, default=DAYS, help=f"days of data per series (default {DAYS})")
    parser.add_argument("--no-fail", action="store_true", help="report only; never exit 1")
    args = parser.parse_args(argv)

    data, new, old, loose, verdicts = run(args.seed, args.days)
    truth = len(data.injected)
    campaign_days = sum(
        1 for series in data.values.values() for day in data.days[WARMUP:] if day in series and in_campaign(day)
    )
    print(
        f"## Anomaly detection: {len(METRICS)} metrics × {len(CHANNELS)} channels × {args.days} days, "
        f"seed {args.seed}, tree {tree_note()}\n"
    )
    print(
        f"{new.judged:,} metric-days judged after a {WARMUP}-day warm-up; {truth} injected anomalies; "
        f"{campaign_days:,} metric-days inside {len(WINDOWS)} campaigns.\n"
    )
    rows = [
        [
            s.rule,
            s.flags,
            s.true_positives,
            s.false_alarms,
            s.campaign_flags,
            fmt(s.precision()),
            fmt(s.recall(truth)),
            fmt(s.false_per_100()),
        ]
        for s in (new, old, loose)
    ]
    print(
        md_table(
            [
                "rule",
                "flags",
                "true",
                "false alarms",
                "on campaign days",
                "precision",
                "recall",
                "false per 100 metric-days",
            ],
            rows,
        )
    )
    print("\nVerdicts of the new rule: " + ", ".join(f"{k} {v:,}" for k, v in sorted(verdicts.items())))
    print(f"({new.seconds:.1f} s for the new rule's {new.judged:,} judgements)\n")

    verdict = Verdict()
    verdict.check(new.precision() >= TARGET_PRECISION, f"precision {fmt(new.precision())} ≥ {TARGET_PRECISION}")
    verdict.check(new.recall(truth) >= TARGET_RECALL, f"recall {fmt(new.recall(truth))} ≥ {TARGET_RECALL}")
    verdict.check(
        new.false_per_100() <= TARGET_FALSE_PER_100,
        f"false alarms {fmt(new.false_per_100())} per 100 metric-days ≤ {TARGET_FALSE_PER_100:g}",
    )
    verdict.check(
        new.false_per_100() * 10 <= old.false_per_100(),
        f"false alarms {fmt(new.false_per_100())} per 100 under a tenth of the old rule's "
        f"{fmt(old.false_per_100())}",
    )
    verdict.check(new.campaign_flags == 0, f"no flag on a campaign day ({new.campaign_flags})")
    flagged, judged, which = demo_flags(date(2026, 11, 23))
    per_100 = 100 * flagged / judged if judged else 0.0
    print(f"Demo (playground --demo, 34 digests): {flagged} metric-days flagged of {judged:,} judged "
          f"({per_100:.2f} per 100)" + (": " + "; ".join(which[:10]) if which else ""))
    verdict.check(per_100 <= 2.0, f"demo: {per_100:.2f} flagged metric-days per 100 ≤ 2")
    print(verdict.render())
    return verdict.exit_status(no_fail=args.no_fail)


if __name__ == "__main__":
    sys.exit(main())
