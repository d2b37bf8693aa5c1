"""Sample exports as the platforms write them, made in the test's own folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from storage.db import Database
from storage.models import KpiValue, Metric

#: 生意参谋's 店铺整体 export: two preamble rows, Chinese headers, ￥ and 万, a ratio column and a 合计 row
SYCM = (
    "生意参谋 - 店铺整体数据\n"
    "统计时间：2026-11-01 ~ 2026-11-03,,,,\n"
    "统计日期,访客数,支付金额(元),支付买家数,支付转化率\n"
    '2026-11-01,"12,500",￥4.2万,310,2.48%\n'
    '2026/11/02,1.3万,"￥45,000.50",320,2.46%\n'
    "2026年11月3日,-,38000,,\n"
    '合计,"25,500",12.5万,630,2.47%\n'
)


def write_sycm(folder: Path, text: str = SYCM, name: str = "sycm.csv") -> Path:
    path = folder / name
    path.write_bytes(text.encode("gbk"))
    return path


def write_xlsx(folder: Path, rows: list[list[object]], name: str = "export.xlsx", percent_columns: tuple[int, ...] = ()) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "数据"
    for row in rows:
        sheet.append(row)
    for column in percent_columns:
        for cells in sheet.iter_rows(min_col=column, max_col=column):
            for cell in cells:
                if isinstance(cell.value, float):
                    cell.number_format = "0.00%"
    path = folder / name
    book.save(path)
    return path


def stored(db: Database, workspace_id: str) -> dict[tuple[str, str, dt.date], str]:
    """(metric, channel, day) -> value as text, for assertions."""
    with db.session(write=False) as session:
        rows = session.execute(
            select(Metric.name, KpiValue.channel, KpiValue.day, KpiValue.value)
            .join(Metric, Metric.id == KpiValue.metric_id)
            .where(KpiValue.workspace_id == workspace_id)
        ).all()
    return {(name, channel, day): f"{value.normalize():f}" for name, channel, day, value in rows}


def metrics(db: Database, workspace_id: str) -> dict[str, tuple[str | None, str]]:
    """name -> (unit, aggregation)."""
    with db.session(write=False) as session:
        rows = session.execute(select(Metric.name, Metric.unit, Metric.agg).where(Metric.workspace_id == workspace_id))
        return {name: (unit, agg) for name, unit, agg in rows}
