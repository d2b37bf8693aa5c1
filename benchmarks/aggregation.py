"""Aggregation benchmark: analytics.weekly_report for 100 goals over 1,000,000 KPI rows in SQLite.

Target: weekly_report under 1 s on this machine. For scale it also times a bare
`SELECT metric_id, day, SUM(value) ... GROUP BY metric_id, day` over the same table (the baseline: the
least any report must read). Wall and CPU time are both shown; the target is judged on the median CPU
time, which other processes sharing the machine do not inflate (the database is a local file in the page
cache, so there is no I/O wait to miss). No ANALYZE is run: production databases have no statistics
either. Prints a table; exits 1 when the target is missed.

    python benchmarks/aggregation.py               # 1,000,000 rows
    python benchmarks/aggregation.py --rows 100000
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text

from bot import analytics
from storage.db import Database, open_database
from storage.models import Goal, Metric, Workspace

TARGET_SECONDS = 1.0
WORKSPACE = "TBENCH"
LEAF_METRICS = 40  # logged metrics: 34 sums, 4 averages, 2 "last" (followers-like)
RATIO_METRICS = 10
CHANNELS = [
    "天猫",
    "京东",
    "拼多多",
    "抖音",
    "小红书",
    "微信",
    "微博",
    "淘宝",
    "B站",
    "快手",
    "SEO",
    "SEM",
    "email",
]
CHANNELS += [f"KOL-{i}" for i in range(12)]  # 25 channels
GOALS = 100
TODAY = date(2026, 11, 23)


def build(db: Database, rows: int) -> int:
    """Metrics, values and goals; returns the number of KPI rows written."""
    now = datetime.now(UTC)
    days = max(1, math.ceil(rows / (LEAF_METRICS * len(CHANNELS))))
    first = TODAY - timedelta(days=days - 1)
    with db.session() as s:
        s.add(Workspace(id=WORKSPACE, name="bench", created_at=now))
        s.flush()
        leaves = []
        for i in range(LEAF_METRICS):
            agg = "avg" if 34 <= i < 38 else ("last" if i >= 38 else "sum")
            leaves.append(
                Metric(
                    workspace_id=WORKSPACE, number=i + 1, name=f"m{i}", key=f"m{i}", agg=agg, created_at=now
                )
            )
        s.add_all(leaves)
        s.flush()
        ratios = [
            Metric(
                workspace_id=WORKSPACE,
                number=LEAF_METRICS + i + 1,
                name=f"ratio{i}",
                key=f"ratio{i}",
                unit="%",
                numerator_id=leaves[2 * i].id,
                denominator_id=leaves[2 * i + 1].id,
                created_at=now,
            )
            for i in range(RATIO_METRICS)
        ]
        s.add_all(ratios)
        s.flush()
        leaf_ids = [m.id for m in leaves]
        rng = random.Random(7)
        for n in range(GOALS):
            kind = n % 10
            if kind < 6:
                metric, channel = leaves[n % 34], None
            elif kind < 8:
                metric, channel = leaves[n % 34], CHANNELS[n % len(CHANNELS)]
            elif kind == 8:
                metric, channel = ratios[n % RATIO_METRICS], None
            else:
                metric, channel = leaves[34 + n % 6], None
            length = rng.choice((30, 60, 90, 120, 180))
            start = max(first, TODAY - timedelta(days=rng.randrange(length)))
            s.add(
                Goal(
                    workspace_id=WORKSPACE,
                    number=n + 1,
                    title=f"goal {n}",
                    metric_id=metric.id,
                    target=Decimal(10_000_000),
                    baseline=None,
                    start_on=start,
                    due_on=start + timedelta(days=length),
                    channel=channel,
                    status="active",
                    created_at=now,
                )
            )

    # Bulk load through the driver: integer micro-units and ISO dates, as the ORM types store them.
    stamp = now.replace(tzinfo=None).isoformat(sep=" ")
    insert = (
        "INSERT INTO kpi_values (workspace_id, metric_id, channel, day, value, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    written = 0
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN")
        batch: list[tuple[object, ...]] = []
        for d in range(days):
            day = (first + timedelta(days=d)).isoformat()
            for metric_id in leaf_ids:
                for c, channel in enumerate(CHANNELS):
                    if written >= rows:
                        break
                    batch.append(
                        (
                            WORKSPACE,
                            metric_id,
                            channel,
                            day,
                            (metric_id * 7919 + c * 104_729 + d * 13) % 10**9,
                            stamp,
                            stamp,
                        )
                    )
                    written += 1
            if len(batch) >= 100_000:
                cursor.executemany(insert, batch)
                batch.clear()
        cursor.executemany(insert, batch)
        cursor.execute("COMMIT")
    finally:
        raw.close()
    return written


def timed(fn: Callable[[], object], repeat: int) -> dict[str, float]:
    """First run, and medians of the rest, in wall and CPU seconds."""
    wall, cpu = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    rest = slice(1, None) if repeat > 1 else slice(None)
    return {"first": wall[0], "wall": statistics.median(wall[rest]), "cpu": statistics.median(cpu[rest])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="KPI rows to generate (default 1,000,000)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each query")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="mktbot-bench-") as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        started = time.perf_counter()
        written = build(db, args.rows)
        load_seconds = time.perf_counter() - started

        def report() -> list[analytics.GoalSeries]:
            with db.session(write=False) as s:
                goals = list(s.query(Goal).filter(Goal.workspace_id == WORKSPACE).order_by(Goal.number))
                return analytics.weekly_report(s, workspace_id=WORKSPACE, today=TODAY, goals=goals)

        def bare_group_by() -> int:
            with db.engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT metric_id, day, SUM(value) FROM kpi_values GROUP BY metric_id, day")
                ).all()
            return len(rows)

        series = report()
        assert len(series) == GOALS and sum(s.current is not None for s in series) >= GOALS * 0.9
        rep = timed(report, args.repeat + 1)
        base = timed(bare_group_by, args.repeat + 1)
        groups = bare_group_by()
        days = sum(len(s.actual) for s in series)
        db.dispose()

    ok = rep["cpu"] < TARGET_SECONDS
    print(
        f"{written:,} KPI rows ({LEAF_METRICS} metrics x {len(CHANNELS)} channels), {GOALS} goals; loaded in {load_seconds:.1f}s"
    )
    print(f"{'query':<46}{'first s':>9}{'median s':>10}{'median CPU s':>14}")
    for name, t in (
        (f"weekly_report (100 goals, {days:,} goal-days)", rep),
        ("baseline: bare GROUP BY metric_id, day", base),
    ):
        print(f"{name:<46}{t['first']:>9.3f}{t['wall']:>10.3f}{t['cpu']:>14.3f}")
    print(f"({groups:,} groups in the baseline)")
    print(
        f"weekly_report / baseline (CPU) = {rep['cpu'] / base['cpu']:.2f}x; "
        f"target < {TARGET_SECONDS:g}s CPU: {'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
