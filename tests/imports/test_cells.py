"""Numbers and dates as exports write them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from bot.imports.cells import parse_dates, parse_number, parse_numbers, totals


def test_numbers_column() -> None:
    cells = pd.Series(["1.2万", "¥12,500", "15.3%", "-", "", "  3,000.5 ", "-4", "1.5亿", "abc", "$1,200", "12元", None])
    n = parse_numbers(cells)
    expected = [12000, 12500, 0.153, np.nan, np.nan, 3000.5, -4, 150_000_000, np.nan, 1200, 12, np.nan]
    np.testing.assert_allclose(n.values, expected, equal_nan=True)
    assert n.bad.tolist() == [False] * 8 + [True] + [False] * 3
    assert n.percent.tolist() == [False, False, True] + [False] * 9
    currencies = [c if isinstance(c, str) else None for c in n.currency]
    assert currencies == [None, "¥"] + [None] * 7 + ["$", "¥", None]


@pytest.mark.parametrize(("text", "value", "percent", "currency"), [
    ("1.2万", Decimal("12000.0"), False, None),
    ("￥12,500", Decimal(12500), False, "¥"),
    ("15.3%", Decimal("0.153"), True, None),
    ("-2.5", Decimal("-2.5"), False, None),
])
def test_one_number_exactly(text: str, value: Decimal, percent: bool, currency: str | None) -> None:
    parsed = parse_number(text)
    assert parsed is not None
    assert (parsed.value, parsed.percent, parsed.currency) == (value, percent, currency)


def test_empty_and_bad_single_numbers() -> None:
    assert parse_number("-") is None and parse_number("") is None
    with pytest.raises(ValueError):
        parse_number("twelve")
    with pytest.raises(ValueError):
        parse_number("$12¥")


def test_dates_in_many_spellings() -> None:
    cells = pd.Series(["2026-11-01", "2026/11/02", "20261103", "2026年11月4日", "2026-11-05 00:00:00", "2026.11.06",
                       "11/07/2026", "Nov 8, 2026", "合计", ""])
    days, fmt = parse_dates(cells)
    assert fmt == "%Y-%m-%d"
    assert [d.date() if not pd.isna(d) else None for d in days] == [
        dt.date(2026, 11, d) for d in range(1, 9)
    ] + [None, None]


def test_totals_rows() -> None:
    assert totals(pd.Series(["合计", "总计：", "Total", "Grand Total", "2026-11-01", "天猫", None])).tolist() == [
        True, True, True, True, False, False, False,
    ]
