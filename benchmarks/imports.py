"""`mktbot kpi import` of a 1,000,000-row CSV against its floor, and the import's memory.

The file is long format (one row per day, channel, metric and value: `日期,渠道,指标,数值`): 50 metrics × 5 channels
× 4,000 days. Each phase runs in its own child process on one SQLite file database (WAL, as the bot opens it),
so the peak RSS it reports is its own:

- floor: `pandas.read_csv` of the whole file, then one bulk `INSERT` (executemany on the driver, one
  transaction) of the same rows, already in their stored form, into `kpi_values` (metrics made beforehand,
  untimed). Nothing else: no header search, no cell parsing, no check of the file before writing, no
  comparison with what is stored.
- import: `bot.imports.engine.run_import` into another workspace of the same database: the whole file is read
  and checked first (nothing is written if any cell is bad), then read again and written in chunks of 50,000
  rows, one short transaction each, each chunk compared with what is stored.
- re-import: the same file again (every value is already stored: nothing is written).

Targets: import ≤ 2× the floor; the import's peak RSS under 500 MB. Exits 1 when missed, unless --no-fail.

    .venv/bin/python benchmarks/imports.py                      # 1,000,000 rows (~1 min)
    .venv/bin/python benchmarks/imports.py --days 400 --no-fail   # 100,000 rows
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import Verdict, machine_note, md_table, tree_note

METRICS = 50
CHANNELS = ("天猫", "京东", "抖音", "小红书", "微信")
RATIO_TARGET = 2.0
RSS_TARGET_MB = 500.0


def generate(path: Path, days: int) -> int:
    import numpy as np
    import pandas as pd

    dates = pd.date_range("2015-01-01", periods=days, freq="D").strftime("%Y-%m-%d").to_numpy()
    metrics = np.array([f"metric_{i:02d}" for i in range(METRICS)], dtype=object)
    channels = np.array(CHANNELS, dtype=object)
    n = days * len(CHANNELS) * METRICS
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({
        "日期": np.repeat(dates, len(CHANNELS) * METRICS),
        "渠道": np.tile(np.repeat(channels, METRICS), days),
        "指标": np.tile(metrics, days * len(CHANNELS)),
        "数值": np.round(rng.uniform(0, 100_000, n), 2),
    })
    frame.to_csv(path, index=False)
    return n


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_floor(database: str, path: Path, workspace: str) -> dict[str, float]:
    import numpy as np
    import pandas as pd

    from bot.services import kpis
    from storage.db import open_database
    from storage.types import utcnow

    db = open_database(database)
    with db.session() as session:
        ids = {}
        for i in range(METRICS):
            name = f"metric_{i:02d}"
            ids[name] = kpis.define_metric(session, workspace_id=workspace, spec=kpis.MetricSpec(name),
                                           user_id=None).metric.id
    stamp = utcnow().replace(tzinfo=None).isoformat(sep=" ")
    started = time.perf_counter()
    frame = pd.read_csv(path)
    read = time.perf_counter() - started
    metric_ids = frame["指标"].map(ids).to_numpy()
    micros = np.rint(frame["数值"].to_numpy() * 1_000_000).astype("int64")
    rows = list(zip([workspace] * len(frame), metric_ids.tolist(), frame["渠道"].tolist(), frame["日期"].tolist(),
                    micros.tolist(), [None] * len(frame), [stamp] * len(frame), [stamp] * len(frame), strict=True))
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        cursor.executemany(
            "INSERT INTO kpi_values (workspace_id, metric_id, channel, day, value, user_id, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        raw.commit()
    finally:
        raw.close()
    total = time.perf_counter() - started
    return {"seconds": total, "read_seconds": read, "rows": len(frame), "rss_mb": peak_rss_mb()}


def child_import(database: str, path: Path, workspace: str) -> dict[str, float]:
    from bot.imports.engine import run_import
    from storage.db import open_database

    db = open_database(database)
    started = time.perf_counter()
    result = run_import(db, workspace_id=workspace, path=path)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": result.preview.rows_read, "inserted": result.inserted,
            "replaced": result.replaced, "unchanged": result.unchanged, "rss_mb": peak_rss_mb()}


def run_child(phase: str, database: str, path: Path, workspace: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", phase, "--database", database, "--file", str(path),
                          "--workspace", workspace], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{phase} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=4_000, help="days in the file (× 250 rows each)")
    parser.add_argument("--no-fail", action="store_true")
    parser.add_argument("--keep", help="folder for the file and database (default: a temporary one)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--workspace", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child = child_floor if args.child == "floor" else child_import
        print(json.dumps(child(args.database, Path(args.file), args.workspace)))
        return 0

    print(f"# kpi import benchmark — {machine_note()}, tree {tree_note()}\n")
    with tempfile.TemporaryDirectory(prefix="mktbot-imports-") as scratch:
        folder = Path(args.keep or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "kpis-long.csv"
        started = time.perf_counter()
        rows = generate(path, args.days)
        print(f"generated {rows:,} rows ({path.stat().st_size / 1e6:.1f} MB, long format: 日期,渠道,指标,数值) "
              f"in {time.perf_counter() - started:.1f} s")
        database = f"sqlite:///{folder / 'bench.db'}"
        from storage.db import open_database

        open_database(database).dispose()  # migrations, untimed
        floor = run_child("floor", database, path, "TFLOOR")
        imported = run_child("import", database, path, "TIMPORT")
        again = run_child("import", database, path, "TIMPORT")

    ratio = imported["seconds"] / floor["seconds"]
    print(md_table(
        ["phase", "rows", "seconds", "rows/s", "× floor", "peak RSS MB", "written"],
        [
            ["floor: read_csv + bulk INSERT", f"{floor['rows']:,}", f"{floor['seconds']:.2f}",
             f"{floor['rows'] / floor['seconds']:,.0f}", "1.00×", f"{floor['rss_mb']:.0f}", f"{floor['rows']:,}"],
            ["kpi import", f"{imported['rows']:,}", f"{imported['seconds']:.2f}",
             f"{imported['rows'] / imported['seconds']:,.0f}", f"{ratio:.2f}×", f"{imported['rss_mb']:.0f}",
             f"{imported['inserted'] + imported['replaced']:,}"],
            ["kpi import again (all unchanged)", f"{again['rows']:,}", f"{again['seconds']:.2f}",
             f"{again['rows'] / again['seconds']:,.0f}", f"{again['seconds'] / floor['seconds']:.2f}×",
             f"{again['rss_mb']:.0f}", f"{again['inserted'] + again['replaced']:,}"],
        ],
    ))
    print(f"\nfloor's read_csv alone: {floor['read_seconds']:.2f} s\n")
    verdict = Verdict()
    verdict.check(ratio <= RATIO_TARGET, f"import {imported['seconds']:.2f} s ≤ {RATIO_TARGET}× floor "
                                         f"{floor['seconds']:.2f} s ({ratio:.2f}×)")
    verdict.check(imported["rss_mb"] < RSS_TARGET_MB, f"import peak RSS {imported['rss_mb']:.0f} MB < {RSS_TARGET_MB:.0f} MB")
    verdict.check(imported["inserted"] == rows and again["unchanged"] == rows and again["inserted"] + again["replaced"] == 0,
                  f"every row written once ({imported['inserted']:,}), none again ({again['unchanged']:,} unchanged)")
    print(verdict.render())
    return verdict.exit_status(no_fail=args.no_fail)


if __name__ == "__main__":
    raise SystemExit(main())
