"""The export files themselves: a CSV Excel opens with Chinese intact, an XLSX with typed cells."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl

from bot.exports import Sheet, render, to_csv, to_xlsx

SHEET = Sheet("kpis", ["date", "channel", "gmv", "conversion"], [
    [date(2026, 11, 20), "天猫", Decimal("12500.50"), Decimal("0.035")],
    [date(2026, 11, 21), "京东", Decimal("9000"), None],
], frozenset({3}))


def test_csv_is_utf8_with_a_bom_and_percentages_as_typed() -> None:
    raw = to_csv(SHEET)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows == [["date", "channel", "gmv", "conversion"], ["2026-11-20", "天猫", "12500.5", "3.5%"],
                    ["2026-11-21", "京东", "9000", ""]]


def test_xlsx_has_a_bold_header_numbers_dates_and_percent_formats() -> None:
    ws = openpyxl.load_workbook(io.BytesIO(to_xlsx(SHEET))).active
    assert ws.title == "kpis" and [c.value for c in ws[1]] == SHEET.header and ws["A1"].font.bold
    assert ws.freeze_panes == "A2"
    assert isinstance(ws["A2"].value, datetime) and ws["A2"].number_format == "yyyy-mm-dd"
    assert ws["C2"].value == 12500.5 and ws["C3"].value == 9000 and isinstance(ws["C3"].value, int)
    assert ws["D2"].value == 0.035 and ws["D2"].number_format == "0.00%" and ws["D3"].value is None
    assert render(SHEET, "csv") == to_csv(SHEET)
