"""Files for people: a workspace's KPIs, goals or tasks as a table (`Sheet`), written as CSV (UTF-8 with a BOM,
so Excel shows Chinese) or XLSX (real numbers and dates under a header row). Pure of Slack.

A KPI export is wide, as the platforms export: a row per day (and channel with `by_channel`), a column per
metric; `/kpi import` reads it back as it is. A % metric is written as a percentage (`3.5%` in a CSV, 0.035
formatted as a percent in XLSX), as `/kpi log` and the import read one."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from bot.services import goals as goal_service
from bot.services import kpis as kpi_service
from bot.services import tasks as task_service
from storage.models import Metric

FORMATS = ("xlsx", "csv")
Cell = str | int | Decimal | date | None


@dataclass(frozen=True)
class Sheet:
    title: str  # the XLSX sheet's name and the file's stem
    header: list[str]
    rows: list[list[Cell]]
    percent: frozenset[int] = field(default_factory=frozenset)  # columns holding fractions shown as percentages


def render(sheet: Sheet, fmt: str) -> bytes:
    return to_xlsx(sheet) if fmt == "xlsx" else to_csv(sheet)


def _csv_cell(value: Cell, percent: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        shown = value * 100 if percent else value
        text = f"{shown.normalize():f}"
        return f"{text}%" if percent else text
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def to_csv(sheet: Sheet) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(sheet.header)
    for row in sheet.rows:
        writer.writerow([_csv_cell(v, i in sheet.percent) for i, v in enumerate(row)])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(sheet: Sheet) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    ws = book.active
    ws.title = sheet.title[:31]
    ws.append(sheet.header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for row in sheet.rows:
        ws.append([float(v) if isinstance(v, Decimal) and v != v.to_integral_value() else
                   int(v) if isinstance(v, Decimal) else v for v in row])
    for index, name in enumerate(sheet.header, start=1):
        letter = ws.cell(row=1, column=index).column_letter
        for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
            elif index - 1 in sheet.percent and cell.value is not None:
                cell.number_format = "0.00%"
        ws.column_dimensions[letter].width = max(10, min(50, len(str(name)) * 2 + 2))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# ---- KPIs ------------------------------------------------------------------------------------------


def _day_value(metric: Metric, values: list[Decimal]) -> Decimal | None:
    """Several channels' values of one day as one: averaged for an averaged metric, else summed."""
    if not values:
        return None
    total = sum(values, Decimal(0))
    return total / len(values) if metric.agg == "avg" else total


def kpi_sheet(session: Session, *, metrics: list[Metric], start: date, end: date, by_channel: bool,
              channel: str | None = None) -> Sheet:
    """A row per day (and channel) with any value in [start, end], a column per metric; a ratio from its summed
    parts on that row."""
    ids = sorted({i for m in metrics for i in ([m.numerator_id, m.denominator_id] if m.is_ratio else [m.id]) if i})
    cells: dict[tuple[date, str], dict[int, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
    for metric_id, ch, day, value in kpi_service.daily_series(session, metric_ids=ids, start=start, end=end,
                                                               channel=channel):
        cells[(day, (ch or "") if by_channel else "")][metric_id].append(Decimal(value))
    header = ["date", *(["channel"] if by_channel else []), *(m.name for m in metrics)]
    rows: list[list[Cell]] = []
    for day, ch in sorted(cells):
        row_values = cells[(day, ch)]
        row: list[Cell] = [day, *([ch] if by_channel else [])]
        for metric in metrics:
            if metric.is_ratio:
                top, bottom = sum(row_values.get(metric.numerator_id or -1, []), Decimal(0)), \
                    sum(row_values.get(metric.denominator_id or -1, []), Decimal(0))
                row.append(top / bottom if bottom else None)
            else:
                row.append(_day_value(metric, row_values.get(metric.id, [])))
        rows.append(row)
    offset = 2 if by_channel else 1
    percent = frozenset(offset + i for i, m in enumerate(metrics) if m.unit == "%" or (m.is_ratio and _is_rate(m)))
    return Sheet("kpis", header, rows, percent)


def _is_rate(metric: Metric) -> bool:
    return metric.unit == "%" or (metric.unit is None and metric.numerator is not None and metric.denominator is not None
                                  and kpi_service.ratio_unit(metric.numerator, metric.denominator) == "%")


# ---- goals and tasks -------------------------------------------------------------------------------


def goal_sheet(session: Session, *, workspace_id: str, include_closed: bool, today: date) -> Sheet:
    header = ["goal", "title", "metric", "channel", "target", "baseline", "start", "deadline", "current",
              "% of target", "% of time", "projected", "status", "owner", "state"]
    rows: list[list[Cell]] = []
    for goal in goal_service.list_goals(session, workspace_id=workspace_id, include_closed=include_closed):
        p = goal_service.progress(session, goal=goal, today=today)
        rows.append([f"G-{goal.number}", goal.title, goal.metric.name, goal.channel, goal.target, goal.baseline,
                     goal.start_on, goal.due_on, p.current, p.percent_of_target, p.percent_of_time, p.projected,
                     p.status, goal.owner_id, goal.status])
    return Sheet("goals", header, rows, frozenset({9, 10}))


def task_sheet(session: Session, *, workspace_id: str, filters: task_service.TaskFilter, today: date) -> Sheet:
    header = ["task", "title", "status", "owner", "start", "due", "campaign", "goal", "blocked because", "created",
              "done"]
    rows: list[list[Cell]] = []
    for task in task_service.list_tasks(session, workspace_id=workspace_id, filters=filters, today=today, limit=10_000):
        rows.append([f"T-{task.number}", task.title, task.status, task.owner_id, task.start_on, task.due_on,
                     f"C-{task.campaign.number}" if task.campaign else None,
                     f"G-{task.goal.number}" if task.goal else None, task.block_reason,
                     task.created_at.date(), task.completed_at.date() if task.completed_at else None])
    return Sheet("tasks", header, rows)


def report_sheet(rows: list[tuple[Metric, Any, Any]], *, start: date, end: date) -> Sheet:
    """The weekly report's KPI table: each metric over its last 7 days and the 7 before."""
    header = ["metric", "unit", f"{start.isoformat()}..{end.isoformat()}", "7 days before", "change"]
    out: list[list[Cell]] = []
    for metric, now, before in rows:
        change = (Decimal(now) - Decimal(before)) / abs(Decimal(before)) if now is not None and before else None
        out.append([metric.name, metric.unit, now, before, change])
    return Sheet("kpi report", header, out, frozenset({4}))
