"""Chart rendering benchmark: median time per chart against a minimal matplotlib line chart, and memory growth.

Targets: each chart's median render time at most 3x the baseline's, measured in the same run with the
two interleaved (so machine load hits both alike); resident memory grows by less than 30 MB over
2,000 renders. Prints a table; exits 1 when a target is missed.

    python benchmarks/charts.py            # 40 timed renders per chart, 2,000 for memory
    python benchmarks/charts.py --quick    # 10 and 300
"""

from __future__ import annotations

import argparse
import gc
import io
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from bot.render import charts as c

D = Decimal
TODAY = date(2026, 11, 23)
TIME_RATIO_TARGET = 3.0
MEMORY_TARGET_MB = 30.0


def sample_charts() -> dict[str, c.Chart]:
    start, due = date(2026, 10, 20), date(2026, 11, 30)
    days = [start + timedelta(days=i) for i in range(35)]
    actual, total = [], D(0)
    for i in range(35):
        total += D(18000 + (i % 7) * 1500)
        actual.append(total)
    weeks = [date(2026, 10, 5) + timedelta(weeks=i) for i in range(8)]
    channels = ("天猫", "京东", "拼多多", "抖音", "小红书", "")
    values = {ch: [D(50000 // (i + 1) + 900 * w) for w in range(8)] for i, ch in enumerate(channels)}
    totals = {ch: sum(v, D(0)) for ch, v in values.items()}
    nums = [D(300 + 20 * i) for i in range(8)]
    dens = [D(10000 + 500 * (i % 3)) for i in range(8)]
    return {
        "goal": c.GoalChart(
            title="G-3 双十一 GMV 冲刺",
            subtitle="GMV · 天猫",
            unit="¥",
            start=start,
            deadline=due,
            target=D(1_200_000),
            pace=((start - timedelta(days=1), D(0)), (due, D(1_200_000))),
            days=days,
            actual=actual,
            projected=actual[-1] / 35 * 42,
            generated_on=TODAY,
        ),
        "breakdown": c.BreakdownChart(
            title="GMV by channel",
            subtitle="weekly",
            unit="¥",
            periods=weeks,
            values=values,
            totals=totals,
            overall=sum(totals.values(), D(0)),
            generated_on=TODAY,
        ),
        "ratio": c.RatioChart(
            title="转化率",
            unit="%",
            formula="转化率 = 订单 / 访客",
            periods=weeks,
            values=[n / d for n, d in zip(nums, dens, strict=True)],
            overall=sum(nums, D(0)) / sum(dens, D(0)),
            generated_on=TODAY,
        ),
    }


def baseline() -> bytes:
    """A minimal line chart: same canvas size and resolution, default style, one line, PNG out."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(c.WIDTH_IN, c.HEIGHT_IN), dpi=c.DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(range(35), [i * i for i in range(35)])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=c.DPI)
    return buffer.getvalue()


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run: 10 timed renders, 300 for memory")
    parser.add_argument("--samples", type=int, help="timed renders per chart")
    parser.add_argument("--renders", type=int, help="renders for the memory check")
    args = parser.parse_args(argv)
    samples = args.samples or (10 if args.quick else 40)
    renders = args.renders or (300 if args.quick else 2000)

    charts = sample_charts()
    for chart in charts.values():  # warm-up: imports, font registration, glyph caches
        c.render(chart)
        baseline()

    rows: list[tuple[str, float, float, float]] = []
    failed = False
    for name, chart in charts.items():
        base_times, chart_times = [], []
        for _ in range(samples):
            base_times.append(timed(baseline))
            chart_times.append(timed(lambda chart=chart: c.render(chart)))  # type: ignore[misc]
        base, med = statistics.median(base_times), statistics.median(chart_times)
        rows.append((name, med * 1000, base * 1000, med / base))
        failed |= med / base > TIME_RATIO_TARGET

    gc.collect()
    before = rss_mb()
    cycle = list(charts.values())
    started = time.perf_counter()
    for i in range(renders):
        c.render(cycle[i % len(cycle)])
    elapsed = time.perf_counter() - started
    gc.collect()
    growth = rss_mb() - before
    failed |= growth >= MEMORY_TARGET_MB

    print(f"chart render time: median of {samples}, interleaved with the baseline (minimal line chart)")
    print(f"{'chart':<12}{'median ms':>11}{'baseline ms':>13}{'ratio':>8}  target <= {TIME_RATIO_TARGET:g}x")
    for name, med_ms, base_ms, ratio in rows:
        flag = "" if ratio <= TIME_RATIO_TARGET else "  MISSED"
        print(f"{name:<12}{med_ms:>11.1f}{base_ms:>13.1f}{ratio:>7.2f}x{flag}")
    print(
        f"memory: {renders} renders in {elapsed:.1f}s ({elapsed / renders * 1000:.1f} ms each), "
        f"RSS {before:.1f} -> {before + growth:.1f} MB, growth {growth:+.1f} MB (target < {MEMORY_TARGET_MB:g} MB)"
        + ("  MISSED" if growth >= MEMORY_TARGET_MB else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
