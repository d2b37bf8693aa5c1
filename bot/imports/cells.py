"""Cells as exports write them: numbers (`1.2万`, `¥12,500`, `15.3%`, `-`) and dates (`2026/11/01`, `20261101`,
`2026年11月1日`), a column at a time with pandas, and one value at a time (exactly, as Decimals) for the API."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

#: cells that mean "no value" (not zero)
EMPTY = frozenset({"", "-", "--", "—", "–", "n/a", "na", "null", "none", "nan", "/"})

#: the first cell of a totals row
TOTAL_WORDS = frozenset({"合计", "总计", "汇总", "小计", "总和", "total", "totals", "grand total", "sum", "all"})

_CURRENCY = {"¥": "¥", "￥": "¥", "元": "¥", "rmb": "¥", "cny": "¥", "$": "$", "usd": "$", "€": "€", "eur": "€", "£": "£"}
_SCALE = {"万": 1e4, "萬": 1e4, "亿": 1e8, "億": 1e8, "k": 1e3, "千": 1e3, "m": 1e6, "w": 1e4}
_DECIMAL_SCALE = {key: Decimal(int(value)) for key, value in _SCALE.items()}

_NUMBER_RE = re.compile(
    r"^(?P<sign>[+-])?\s*(?P<cur1>[¥￥$€£]|rmb|cny|usd|eur)?\s*(?P<sign2>[+-])?"
    r"(?P<num>\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)"
    r"\s*(?P<scale>[万萬亿億千kmw])?\s*(?P<pct>[%％])?\s*(?P<cur2>[¥￥$€£元]|rmb|cny|usd|eur)?$"
)


def by_unique(cells: pd.Series, read: Callable[[pd.Series], Any]) -> np.ndarray:
    """`read` applied to each distinct cell once (a date, channel or metric column repeats a few values over
    many rows), spread back over the rows."""
    codes, uniques = pd.factorize(cells.fillna("").astype(str), use_na_sentinel=False)
    return np.asarray(read(pd.Series(uniques, dtype=object)))[codes]


def texts(cells: pd.Series) -> pd.Series:
    """The cells as stripped strings ("" for a missing one)."""
    return pd.Series(by_unique(cells, lambda u: u.str.strip()), index=cells.index, dtype=object)


def _totals(text: pd.Series) -> pd.Series:
    text = text.str.strip().str.casefold().str.rstrip(":：")
    return text.isin(TOTAL_WORDS) | text.str.startswith(("合计", "总计", "total "))


def totals(cells: pd.Series) -> np.ndarray:
    """Which cells start a totals row (合计, 总计, Total, …)."""
    return by_unique(cells, _totals).astype(bool)


@dataclass(frozen=True)
class Numbers:
    """One column of cells read as numbers: `values` is NaN where a cell is empty or not a number."""

    values: np.ndarray  # float64; a percentage already as a fraction (15.3% -> 0.153)
    percent: np.ndarray  # bool: typed with %
    currency: pd.Series  # the currency typed ("¥", "$", "€", "£"), else NaN
    bad: np.ndarray  # bool: a cell with text that is not a number


def parse_numbers(cells: pd.Series) -> Numbers:
    # plain numbers (most cells of most files) in C; the rest (1.2万, ¥12,500, 15.3%, -, "") by the pattern
    plain = pd.to_numeric(cells, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    rest = ~np.isfinite(plain)
    if not rest.any():
        return Numbers(plain, np.zeros(len(plain), dtype=bool), pd.Series(np.nan, index=cells.index, dtype=object),
                       np.zeros(len(plain), dtype=bool))
    if rest.all():
        return _parse_formatted(cells)
    formatted = _parse_formatted(cells[rest])
    values = plain.copy()
    values[rest] = formatted.values
    percent = np.zeros(len(plain), dtype=bool)
    percent[rest] = formatted.percent
    bad = np.zeros(len(plain), dtype=bool)
    bad[rest] = formatted.bad
    currency = pd.Series(np.nan, index=cells.index, dtype=object)
    currency[rest] = formatted.currency.to_numpy()
    return Numbers(values, percent, currency, bad)


def _parse_formatted(cells: pd.Series) -> Numbers:
    text = cells.fillna("").astype(str).str.strip().str.casefold()
    empty = text.isin(EMPTY).to_numpy()
    parts = text.str.extract(_NUMBER_RE)
    number = pd.to_numeric(parts["num"].str.replace(",", "", regex=False), errors="coerce").to_numpy(dtype="float64")
    scale = parts["scale"].map(_SCALE).fillna(1.0).to_numpy(dtype="float64")
    percent = parts["pct"].notna().to_numpy()
    negative = (parts["sign"].eq("-") | parts["sign2"].eq("-")).to_numpy()
    values = number * scale * np.where(percent, 0.01, 1.0) * np.where(negative, -1.0, 1.0)
    currency = parts["cur1"].fillna(parts["cur2"]).map(_CURRENCY).astype(object)
    values[empty] = np.nan
    bad = ~empty & np.isnan(values)
    return Numbers(values=values, percent=percent & ~bad, currency=currency.where(~bad, None), bad=bad)


@dataclass(frozen=True)
class Number:
    value: Decimal  # 15% -> 0.15
    percent: bool
    currency: str | None


def parse_number(text: str) -> Number | None:
    """One cell, exactly: None for an empty cell ("-", ""); ValueError when it is not a number."""
    t = str(text).strip().casefold()
    if t in EMPTY:
        return None
    m = _NUMBER_RE.match(t)
    if m is None or (m.group("cur1") and m.group("cur2")):
        raise ValueError(f"{text!r} is not a number")
    try:
        value = Decimal(m.group("num").replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the pattern only lets digits through
        raise ValueError(f"{text!r} is not a number") from exc
    scale = m.group("scale")
    if scale:
        value *= _DECIMAL_SCALE[scale]
    percent = m.group("pct") is not None
    if percent:
        value /= 100
    if "-" in (m.group("sign") or "", m.group("sign2") or ""):
        value = -value
    currency = _CURRENCY.get(m.group("cur1") or m.group("cur2") or "")
    return Number(value=value, percent=percent, currency=currency)


# --------------------------------------------------------------------------- dates

#: tried in this order; the one that reads most of a column's cells is used for it
DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%b %d, %Y", "%d %b %Y", "%B %d, %Y")

_TIME_RE = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$"


def normalise_dates(cells: pd.Series) -> pd.Series:
    """`2026年11月1日` and `2026/11/01 00:00:00` as `2026-11-1`; other spellings unchanged."""
    text = cells.fillna("").astype(str).str.strip()
    text = text.str.replace(_TIME_RE, "", regex=True)
    text = text.str.replace(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$", r"\1-\2-\3", regex=True)
    return text.str.replace(r"^(\d{4})[./](\d{1,2})[./](\d{1,2})$", r"\1-\2-\3", regex=True)


def parse_dates(cells: pd.Series, preferred: str | None = None) -> tuple[pd.Series, str | None]:
    """The cells as datetime64 (NaT where a cell is not a date) and the format that read most of them (tried
    first on the next chunk). Each cell is read with the first format, in DATE_FORMATS order, that reads it;
    each distinct cell once."""
    codes, uniques = pd.factorize(cells.fillna("").astype(str), use_na_sentinel=False)
    parsed, best = _parse_dates(pd.Series(uniques, dtype=object), preferred)
    return pd.Series(parsed.to_numpy()[codes], index=cells.index, dtype="datetime64[ns]"), best


def _parse_dates(cells: pd.Series, preferred: str | None) -> tuple[pd.Series, str | None]:
    text = normalise_dates(cells)
    parsed = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")
    missing = text.ne("")
    best: tuple[int, str | None] = (0, preferred)
    for fmt in ([preferred] if preferred else []) + [f for f in DATE_FORMATS if f != preferred]:
        if not missing.any():
            break
        read = pd.to_datetime(text[missing], format=fmt, errors="coerce")
        hits = read.notna()
        if hits.any():
            parsed[read.index[hits]] = read[hits]
            missing[read.index[hits]] = False
            best = max(best, (int(hits.sum()), fmt), key=lambda b: b[0])
    return parsed, best[1]
