"""The README's worked examples of the goal formulas, computed by bot.metrics row by row: the README says what
the code does, literally."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from bot import metrics

README = Path(__file__).resolve().parents[2] / "README.md"
KINDS = {"total": metrics.TOTAL, "ratio": metrics.LEVEL, "average": metrics.LEVEL, "latest": metrics.LEVEL}


def example_rows() -> list[dict[str, str]]:
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| kind | better | target |"))
    header = [cell.strip() for cell in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")), strict=True)))
    return rows


def number(cell: str) -> Decimal | None:
    return Decimal(cell) if cell else None


def places(cell: str) -> int:
    digits = cell.split()[0]
    return len(digits.split(".")[1]) if "." in digits else 0


def shown(value: Decimal | None, like: str, *, percent: bool = False) -> str:
    """`value` written as the README cell `like` writes it (same decimals, same suffix)."""
    if value is None:
        return ""
    scaled = value * 100 if percent else value
    quantum = Decimal(1).scaleb(-places(like))
    text = str(scaled.quantize(quantum, rounding=ROUND_HALF_UP))
    suffix = like.split(" ", 1)[1] if " " in like else ""
    return f"{text} {suffix}".strip()


ROWS = example_rows()


def test_the_readme_has_its_worked_examples() -> None:
    assert len(ROWS) >= 8
    assert {row["kind"] for row in ROWS} >= {"total", "ratio", "average", "latest"}


def test_a_level_needed_from_here_on_weighs_the_days_logged_not_the_days_elapsed() -> None:
    """CAC ¥60 wanted, one ¥75 logged on Nov 22 with 8 days left: the rest must average ¥58.13, not ¥18.75 (which
    weighs the one value as if it stood for all 22 elapsed days)."""
    [row] = [r for r in ROWS if r["kind"] == "average" and r["days logged"] == "1"]
    assert row["needed"] == "58.13 level"
    # and it is the ratio identity: target = (num so far + needed × den rest) ÷ (den so far + den rest), with the
    # denominator coming at its run-rate so far (den so far ÷ days logged a day, over the days left)
    figures = metrics.goal_figures(
        kind=metrics.LEVEL, target=Decimal("0.03"), baseline=None, better="up", start=date(2026, 11, 1),
        deadline=date(2026, 11, 30), today=date(2026, 11, 21), current=Decimal(100) / Decimal(5000),
        averaged=True, logged_days=5,
    )
    den_so_far, num_so_far = Decimal(5000), Decimal(100)
    den_rest = den_so_far / 5 * 10
    assert figures.needed_level is not None
    assert (num_so_far + figures.needed_level * den_rest) / (den_so_far + den_rest) == Decimal("0.03")


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['kind']}-{r['today']}-{r['current']}" for r in ROWS])
def test_a_worked_example(row: dict[str, str]) -> None:
    kind = KINDS[row["kind"]]
    figures = metrics.goal_figures(
        kind=kind,
        target=Decimal(row["target"]),
        baseline=number(row["baseline"]),
        better=row["better"],
        start=date.fromisoformat(row["start"]),
        deadline=date.fromisoformat(row["deadline"]),
        today=date.fromisoformat(row["today"]),
        current=number(row["current"]),
        elapsed_value=number(row["through yesterday"]),
        averaged=row["kind"] in ("ratio", "average"),
        logged_today=row["logged today"] == "yes",
        logged_days=int(row["days logged"]) if row["days logged"] else None,
    )
    assert shown(figures.attained, row["% of target"], percent=True) == row["% of target"]
    assert shown(figures.time, row["% of time"], percent=True) == row["% of time"]
    assert shown(figures.projected, row["projected"]) == row["projected"]
    assert (figures.status or "") == row["status"]
    needed = figures.needed_per_day if kind == metrics.TOTAL else figures.needed_level
    assert shown(needed, row["needed"]) == row["needed"]
