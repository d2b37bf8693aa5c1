"""Cells as exports write them: numbers (`1.2万`, `¥12,500`, `15.3%`, `-`) and dates (`2026/11/01`, `20261101`,
`2026年11月1日`), a column at a time with pandas, and one value at a time (exactly, as Decimals) for the API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

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


def totals(cells: pd.Series) -> np.ndarray:
    """Which cells start a totals row (合计, 总计, Total, …)."""
    text = cells.fillna("").astype(str).str.strip().str.casefold().str.rstrip(":：")
    return np.array(text.isin(TOTAL_WORDS) | text.str.startswith(("合计", "总计", "total ")), dtype=bool)


@dataclass(frozen=True)
class Numbers:
    """One column of cells read as numbers: `values` is NaN where a cell is empty or not a number."""

    values: np.ndarray  # float64; a percentage already as a fraction (15.3% -> 0.153)
    percent: np.ndarray  # bool: typed with %
    currency: pd.Series  # the currency typed ("¥", "$", "€", "£"), else NaN
    bad: np.ndarray  # bool: a cell with text that is not a number


def parse_numbers(cells: pd.Series) -> Numbers:
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
    first on the next chunk). Each cell is read with the first format, in DATE_FORMATS order, that reads it."""
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
