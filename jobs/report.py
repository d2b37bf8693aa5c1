"""The weekly KPI report: numbers as a text table in the post, charts uploaded into its thread."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.render.reply import Builder, Reply
from bot.render.text import esc, fmt_number, fmt_signed_percent
from bot.render.views import goal_progress_line
from bot.services import goals as goal_service
from bot.services import kpis
from jobs.context import JobContext
from storage.models import Goal, KpiValue, Metric

log = logging.getLogger(__name__)

MAX_GOAL_CHARTS = 4
MAX_RATIO_CHARTS = 2
MAX_TABLE_METRICS = 15


def kpi_rows(session: Session, *, workspace_id: str, today: date) -> list[tuple[Metric, Any, Any]]:
    """Each metric over the last 7 days and the 7 before; ratios from summed parts."""
    end = today - timedelta(days=1)
    start = end - timedelta(days=6)
    prev_end, prev_start = start - timedelta(days=1), start - timedelta(days=7)
    logged = set(
        session.scalars(
            select(KpiValue.metric_id)
            .where(KpiValue.workspace_id == workspace_id, KpiValue.day >= prev_start, KpiValue.day <= end)
            .distinct()
        )
    )
    rows = []
    for metric in kpis.list_metrics(session, workspace_id=workspace_id):
        parts = {metric.numerator_id, metric.denominator_id} if metric.is_ratio else {metric.id}
        if not parts <= logged:
            continue
        now = kpis.period_value(session, metric=metric, start=start, end=end).value
        before = kpis.period_value(session, metric=metric, start=prev_start, end=prev_end).value
        rows.append((metric, now, before))
    return rows[:MAX_TABLE_METRICS]


def compose_report(session: Session, *, workspace_id: str, today: date) -> tuple[Reply, dict[str, Any]]:
    from bot.render.charts import format_table

    week_start = today - timedelta(days=7)
    b = Builder().header(f"Weekly KPI report · {week_start:%b %-d} – {today - timedelta(days=1):%b %-d}")
    goals = goal_service.list_goals(session, workspace_id=workspace_id)
    if goals:
        b.section("*Goals and pace*")
        b.lines_section([goal_progress_line(g, goal_service.progress(session, goal=g, today=today), today) for g in goals[:15]])
    rows = kpi_rows(session, workspace_id=workspace_id, today=today)
    if rows:
        table = format_table(
            ["KPI", "last 7 days", "previous 7", "change"],
            [
                [
                    m.name,
                    fmt_number(now, m.unit),
                    fmt_number(before, m.unit),
                    fmt_signed_percent((now - before) / abs(before)) if now is not None and before else "—",
                ]
                for m, now, before in rows
            ],
            align="lrrr",
        )
        b.section("*KPIs* (ratios from summed parts)\n```" + esc(table) + "```")
    if not goals and not rows:
        b.section("No goals or KPIs yet. `/kpi log visits 12500 channel:天猫` and `/goal add …` fill this report.")
    charts: list[dict[str, Any]] = [{"type": "goal", "goal_id": g.id, "name": f"goal-G-{g.number}"} for g in goals[:MAX_GOAL_CHARTS]]
    end, start = today - timedelta(days=1), today - timedelta(days=28)
    busiest = session.execute(
        select(KpiValue.metric_id, func.count())
        .join(Metric, Metric.id == KpiValue.metric_id)
        .where(KpiValue.workspace_id == workspace_id, KpiValue.day >= start, KpiValue.day <= end, Metric.agg == "sum")
        .group_by(KpiValue.metric_id)
        .order_by(func.count().desc())
        .limit(1)
    ).first()
    if busiest is not None:
        charts.append({"type": "breakdown", "metric_id": int(busiest[0]), "start": start.isoformat(), "end": end.isoformat(), "name": "by-channel"})
    ratios = [m for m, _, _ in rows if m.is_ratio][:MAX_RATIO_CHARTS]
    charts += [
        {"type": "ratio", "metric_id": m.id, "start": (today - timedelta(days=84)).isoformat(), "end": end.isoformat(), "name": f"ratio-K-{m.number}"}
        for m in ratios
    ]
    if charts:
        b.context("Charts follow in this thread.")
    reply = b.build(in_channel=True, text=f"Weekly KPI report: {_count(len(goals), 'goal')}, {_count(len(rows), 'KPI')}")
    return reply, {"charts": charts}


def build_chart(ctx: JobContext, workspace_id: str, spec: dict[str, Any]) -> Any:
    """One chart of a report, read fresh from the database; raises ChartError when there is nothing to draw."""
    from bot import analytics
    from bot.render import charts

    today = ctx.clock().astimezone(ctx.zone).date()
    with ctx.db.session(write=False) as session:
        if spec["type"] == "goal":
            goal = session.get(Goal, int(spec["goal_id"]))
            if goal is None or goal.workspace_id != workspace_id:
                raise charts.ChartError("the goal is gone")
            [series] = analytics.weekly_report(session, workspace_id=workspace_id, today=today, goals=[goal])
            chart: charts.Chart = charts.GoalChart.from_series(series, generated_on=today)
        else:
            metric = session.get(Metric, int(spec["metric_id"]))
            if metric is None or metric.workspace_id != workspace_id:
                raise charts.ChartError("the metric is gone")
            start, end = date.fromisoformat(spec["start"]), date.fromisoformat(spec["end"])
            freq: analytics.Freq = "D" if (end - start).days <= 31 else "W"
            if spec["type"] == "ratio":
                trend = analytics.ratio_trend(session, workspace_id=workspace_id, metric=metric, start=start, end=end, freq=freq)
                chart = charts.RatioChart.from_trend(trend, generated_on=today)
            else:
                breakdown = analytics.channel_breakdown(session, workspace_id=workspace_id, metric=metric, start=start, end=end, freq=freq)
                chart = charts.BreakdownChart.from_breakdown(breakdown, title=f"{metric.name} by channel", generated_on=today)
    return chart


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
