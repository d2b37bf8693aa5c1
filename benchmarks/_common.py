"""Small helpers shared by the benchmarks: percentiles, markdown tables, a verdict list."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of `values`; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(seconds: float) -> str:
    """Seconds as a short millisecond figure for tables."""
    if math.isnan(seconds):
        return "–"
    value = seconds * 1000.0
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table; numeric-looking columns are right-aligned."""

    def numeric(text: str) -> bool:
        return text.replace(".", "", 1).replace("×", "").replace("-", "").replace("–", "").strip().isdigit()

    cells = [[str(c) for c in row] for row in rows]
    align = []
    for i in range(len(headers)):
        column = [row[i] for row in cells if i < len(row)]
        align.append("---:" if column and all(numeric(c) or c == "–" for c in column) else "---")
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


@dataclass
class Verdict:
    """Collects target checks; `failed` decides the exit status."""

    checks: list[tuple[bool, str]] = field(default_factory=list)

    def check(self, ok: bool, text: str) -> bool:
        self.checks.append((ok, text))
        return ok

    @property
    def failed(self) -> bool:
        return any(not ok for ok, _ in self.checks)

    def render(self) -> str:
        return "\n".join(f"- {'PASS' if ok else 'MISS'}: {text}" for ok, text in self.checks)

    def exit_status(self, *, no_fail: bool) -> int:
        """1 when a target was missed (unless only reporting), after saying so."""
        if self.failed and not no_fail:
            print("\nSome targets were missed (use --no-fail to report only).")
            return 1
        return 0


def machine_note() -> str:
    """CPU count and load average: these benchmarks share the machine with whatever else is running."""
    import os

    try:
        one, five, _ = os.getloadavg()
        load = f"load average {one:.2f} (1 min), {five:.2f} (5 min)"
    except OSError:
        load = "load average unknown"
    return f"{os.cpu_count()} CPUs, {load}"


def tree_note() -> str:
    """The commit measured and how many files differed from it (read-only git calls)."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True,
                               timeout=10).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head or 'unknown'}" + (f" + {len(dirty)} uncommitted paths" if dirty else "")
