"""Digest benchmark: compose one workspace's daily digest (goal pace for 100 goals, yesterday's KPIs with the
like-for-like channel comparison and the same-weekday significance test, campaigns, retros) over 50 metrics
(40 logged, 10 ratios) × 5 channels × 2 years of days in SQLite.

Target: the digest composes in under 1 s (median CPU time). The floor, timed in the same run on the same
database, is the plain SQL the digest's figures need at least: each goal's SUM over its period and metric
(and channel), and the per-(metric, channel, day) values of the 8 weeks the significance test reads. The
ratio to that floor is printed too. Exits 1 when the target is missed (`--no-fail` only reports).

    python benchmarks/digest.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aggregation

from bot.posts.digest import DIGEST
from storage.db import open_database
from storage.models import Goal

TARGET_SECONDS = 1.0
DAYS = 730
CHANNELS = ["天猫", "京东", "抖音", "拼多多", "email"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-fail", action="store_true")
    args = parser.parse_args(argv)
    aggregation.CHANNELS[:] = CHANNELS
    rows = aggregation.LEAF_METRICS * len(CHANNELS) * DAYS
    with tempfile.TemporaryDirectory(prefix="mktbot-digest-") as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        written = aggregation.build(db, rows)

        def compose() -> object:
            with db.session(write=False) as s:
                return DIGEST.compose(s, workspace_id=aggregation.WORKSPACE, today=aggregation.TODAY)

        with db.session(write=False) as s:
            goals = [(g.metric_id, g.channel, g.start_on, min(g.due_on, aggregation.TODAY))
                     for g in s.query(Goal).filter(Goal.workspace_id == aggregation.WORKSPACE)]
        since = (aggregation.TODAY - timedelta(days=57)).isoformat()

        def floor() -> int:
            n = 0
            with db.engine.connect() as conn:
                for metric_id, channel, start, end in goals:
                    query = "SELECT SUM(value) FROM kpi_values WHERE metric_id = :m AND day >= :a AND day <= :b"
                    params: dict[str, object] = {"m": metric_id, "a": start.isoformat(), "b": end.isoformat()}
                    if channel is not None:
                        query += " AND lower(channel) = lower(:c)"
                        params["c"] = channel
                    conn.execute(text(query), params).scalar()
                    n += 1
                n += len(conn.execute(text(
                    "SELECT metric_id, channel, day, SUM(value) FROM kpi_values WHERE workspace_id = :w AND day >= :d "
                    "GROUP BY metric_id, channel, day"), {"w": aggregation.WORKSPACE, "d": since}).all())
            return n

        draft = compose()
        assert draft is not None
        composed = aggregation.timed(compose, args.repeat)
        bare = aggregation.timed(floor, args.repeat)
    ratio = composed["cpu"] / bare["cpu"] if bare["cpu"] else float("inf")
    print(f"digest benchmark: {written:,} KPI rows, {aggregation.GOALS} goals, "
          f"{aggregation.LEAF_METRICS + aggregation.RATIO_METRICS} metrics × {len(CHANNELS)} channels × {DAYS} days\n")
    print("| | first run (s) | median wall (s) | median CPU (s) |")
    print("|---|---:|---:|---:|")
    for name, t in (("digest compose", composed), ("plain SQL sums (floor)", bare)):
        print(f"| {name} | {t['first']:.3f} | {t['wall']:.3f} | {t['cpu']:.3f} |")
    print(f"\nratio to the floor: {ratio:.1f}×")
    ok = composed["cpu"] < TARGET_SECONDS
    print(f"target: compose < {TARGET_SECONDS:.1f} s CPU: {'met' if ok else 'MISSED'} ({composed['cpu']:.3f} s)")
    return 0 if ok or args.no_fail else 1


if __name__ == "__main__":
    start = time.perf_counter()
    code = main()
    print(f"({time.perf_counter() - start:.0f} s in all)")
    sys.exit(code)
