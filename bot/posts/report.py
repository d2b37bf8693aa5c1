"""The weekly KPI report: numbers as a text table in the post, charts uploaded into its thread once it is sent."""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import metrics, uploads
from bot.i18n import DEFAULT_LOCALE, EN, resolve, t, tn
from bot.i18n.fmt import fmt_number, fmt_signed_percent
from bot.posts import Draft, PostKind, Sent
from bot.render import charts
from bot.render.reply import Builder
from bot.render.views import goal_progress_line
from bot.services import chart_files, kpis
from bot.services import goals as goal_service
from bot.services.languages import team_language
from bot.slack_text import esc
from storage.models import Goal, KpiValue, Metric, Outbox, Schedule

if TYPE_CHECKING:
    from jobs.context import JobContext

log = logging.getLogger(__name__)

MAX_GOAL_LINES = 15
MAX_GOAL_CHARTS = 4
MAX_RATIO_CHARTS = 2
MAX_TABLE_METRICS = 15


@dataclass(frozen=True)
class ReportData:
    """What the report shows: goals with their progress, each KPI's last 7 days against the 7 before, and
    the specs of the charts that follow in the thread."""

    goal_count: int
    goals: list[tuple[goal_service.GoalCard, goal_service.Progress]]  # the first MAX_GOAL_LINES
    rows: list[tuple[kpis.MetricCard, Any, Any]]  # (metric, last 7 days, previous 7)
    charts: list[dict[str, Any]]


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


def collect(session: Session, *, workspace_id: str, today: date) -> ReportData:
    goals = goal_service.list_goals(session, workspace_id=workspace_id)
    rows = kpi_rows(session, workspace_id=workspace_id, today=today)
    specs: list[dict[str, Any]] = [{"type": "goal", "goal_id": g.id, "name": f"goal-G-{g.number}"} for g in goals[:MAX_GOAL_CHARTS]]
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
        specs.append({"type": "breakdown", "metric_id": int(busiest[0]), "start": start.isoformat(), "end": end.isoformat(), "name": "by-channel"})
    ratios = [m for m, _, _ in rows if m.is_ratio][:MAX_RATIO_CHARTS]
    specs += [
        {"type": "ratio", "metric_id": m.id, "start": (today - timedelta(days=84)).isoformat(), "end": end.isoformat(), "name": f"ratio-K-{m.number}"}
        for m in ratios
    ]
    return ReportData(
        goal_count=len(goals),
        goals=[(goal_service.GoalCard.of(g), goal_service.progress(session, goal=g, today=today)) for g in goals[:MAX_GOAL_LINES]],
        rows=[(kpis.MetricCard.of(m), now, before) for m, now, before in rows],
        charts=specs,
    )


def kpi_field(metric: kpis.MetricCard, now: Any, before: Any, locale: str = DEFAULT_LOCALE) -> str:
    """`*gmv*\n¥1,240,000 · +8% vs ¥1,150,000`, the change only when both weeks have a value."""
    line = f"*{esc(metric.name)}*\n{fmt_number(now, metric.unit, locale)}"
    change = metrics.change(now, before)
    if change is not None:
        line += t("report.kpi.vs", locale, change=fmt_signed_percent(change, locale), before=fmt_number(before, metric.unit, locale))
    elif before is None:
        line += t("report.kpi.nothing_before", locale)
    return line


def _short_day(day: date, locale: str) -> str:
    return f"{day:%b} {day.day}" if resolve(locale) == EN else f"{day.month}月{day.day}日"


def render(data: ReportData, *, today: date, locale: str = DEFAULT_LOCALE) -> Draft:
    week_start = today - timedelta(days=7)
    b = Builder().header(t("report.header", locale, start=_short_day(week_start, locale),
                           end=_short_day(today - timedelta(days=1), locale)))
    if data.goals:
        b.section(t("report.goals", locale))
        b.lines_section([goal_progress_line(g, progress, today, locale=locale) for g, progress in data.goals])
    if data.rows:
        # one field per KPI (Block Kit lays them out in two columns): no monospaced table to wrap in a thread
        b.section(t("report.kpis", locale))
        b.fields([kpi_field(m, now, before, locale) for m, now, before in data.rows])
    if not data.goals and not data.rows:
        b.section(t("report.empty", locale))
    if data.charts:
        b.context(t("report.charts_follow", locale))
    reply = b.build(in_channel=True, text=t("report.plain", locale, goals=tn("report.goal_count", data.goal_count, locale),
                                             kpis=tn("report.kpi_count", len(data.rows), locale)))
    return Draft.of(reply, {"charts": data.charts, "locale": locale, "day": today.isoformat()})


class ReportPost(PostKind):
    def compose(self, session: Session, *, workspace_id: str, today: date, channel: str | None = None) -> Draft:
        """The report in the team language of `channel`; its charts follow in the same language."""
        locale = team_language(session, workspace_id=workspace_id, channel=channel)
        return render(collect(session, workspace_id=workspace_id, today=today), today=today, locale=locale)


def build_chart(ctx: JobContext, workspace_id: str, spec: dict[str, Any], locale: str = DEFAULT_LOCALE) -> charts.Chart:
    """One chart of a report, read fresh from the database, its words in `locale`; raises ChartError when there
    is nothing to draw."""
    from bot import analytics  # pandas: loaded with the first chart, not at start-up

    today = ctx.clock().astimezone(ctx.zone).date()
    labels = charts.ChartLabels.zh() if resolve(locale) != EN else charts.ChartLabels()
    with ctx.db.session(write=False) as session:
        if spec["type"] == "goal":
            goal = session.get(Goal, int(spec["goal_id"]))
            if goal is None or goal.workspace_id != workspace_id:
                raise charts.ChartError("the goal is gone")
            [series] = analytics.weekly_report(session, workspace_id=workspace_id, today=today, goals=[goal])
            chart: charts.Chart = charts.GoalChart.from_series(series, labels=labels, generated_on=today)
        else:
            metric = session.get(Metric, int(spec["metric_id"]))
            if metric is None or metric.workspace_id != workspace_id:
                raise charts.ChartError("the metric is gone")
            start, end = date.fromisoformat(spec["start"]), date.fromisoformat(spec["end"])
            freq: analytics.Freq = "D" if (end - start).days <= 31 else "W"
            channel = spec.get("channel") or None
            partial = analytics.partial_buckets(start, end, freq, today=today)
            references = _goal_references(session, workspace_id, spec.get("goals") or [], metric, freq, locale)
            suffix = f" · {channel}" if channel else ""
            if spec["type"] == "ratio":
                trend = analytics.ratio_trend(
                    session, workspace_id=workspace_id, metric=metric, start=start, end=end, freq=freq, channel=channel
                )
                chart = dataclasses.replace(
                    charts.RatioChart.from_trend(trend, labels=labels, generated_on=today),
                    title=f"{metric.name}{suffix}", references=references, partial=partial,
                )
            else:
                breakdown = analytics.channel_breakdown(
                    session, workspace_id=workspace_id, metric=metric, start=start, end=end, freq=freq, channel=channel
                )
                chart = charts.BreakdownChart.from_breakdown(
                    breakdown, title=t("report.chart.by_channel", locale, name=metric.name, suffix=suffix), labels=labels,
                    generated_on=today,
                )
                chart = dataclasses.replace(chart, references=references if chart.stacked else (), partial=partial)
    return chart


def _goal_references(
    session: Session, workspace_id: str, goal_ids: list[int], metric: Metric, freq: str, locale: str = DEFAULT_LOCALE
) -> tuple[tuple[str, Decimal], ...]:
    """The goals on a shown metric as chart lines: a total's pace per period (target ÷ its days × the period's
    days: bot.metrics' straight pace), a level's target."""
    out = []
    for goal_id in goal_ids[:3]:
        goal = session.get(Goal, int(goal_id))
        if goal is None or goal.workspace_id != workspace_id or goal.metric_id != metric.id:
            continue
        if metric.agg == "sum" and not metric.is_ratio:
            days = (goal.due_on - goal.start_on).days + 1
            per = {"D": 1, "W": 7}.get(freq, 30)
            key = "report.chart.pace_day" if freq == "D" else "report.chart.pace_week"
            out.append((t(key, locale, ref=f"G-{goal.number}"), goal.target / days * per))
        else:
            out.append((t("report.chart.target", locale, ref=f"G-{goal.number}"), goal.target))
    return tuple(out)


def upload_charts(ctx: JobContext, sent: Sent) -> None:
    """Charts go into the post's thread; a chart that cannot be drawn or uploaded becomes a text table, never a blank."""
    channel, ts = sent.channel, sent.ts
    locale = str(sent.payload.get("locale") or DEFAULT_LOCALE)
    uploaded: list[chart_files.ChartFile] = []
    for spec in sent.payload.get("charts") or []:
        try:
            chart = build_chart(ctx, sent.workspace_id, spec, locale)
        except charts.NoChartData:
            continue
        except Exception:
            log.exception("chart %s for post %s could not be built", spec, sent.outbox_id)
            continue
        try:
            png = charts.render(chart)
        except charts.NoChartData:
            try:
                ctx.client.chat_postMessage(
                    channel=channel, thread_ts=ts, text=t("chart.no_values", locale, title=esc(chart.title)), unfurl_links=False
                )
            except Exception:
                log.warning("could not say that %s has no values for post %s", spec, sent.outbox_id, exc_info=True)
            continue
        except Exception:
            png = b""
        filename = f"{spec.get('name', 'chart')}.png"
        try:
            if not png:
                raise charts.ChartError("the chart could not be drawn")
            file_id = uploads.share_file(
                ctx.client, channel=channel, thread_ts=ts, content=png, filename=filename, title=chart.title
            )
            uploaded.append(chart_files.remember(sent.workspace_id, file_id, chart.title, ctx.clock(), locale=locale))
        except uploads.ShareUnknown as exc:  # it may be in the thread: a table as well could show it twice
            log.error("chart %s for post %s: cannot tell whether file %s was shared", spec, sent.outbox_id, exc.file_id)
        except Exception:
            log.exception("chart %s for post %s failed; posting its numbers instead", spec, sent.outbox_id)
            try:  # the table starts with the chart's title itself
                fallback = "chart.fallback.not_uploaded" if png else "chart.fallback.not_drawn"
                table = charts.text_table(chart)
                ctx.client.chat_postMessage(
                    channel=channel, thread_ts=ts, text=f"{t(fallback, locale)}\n```{esc(table)}```",
                    unfurl_links=False,
                )
            except Exception:
                log.exception("text fallback for chart %s failed", spec)
    if uploaded:
        _record_chart_files(ctx, sent, uploaded)
        first = (sent.payload.get("charts") or [{}])[0]
        if first.get("type") == "goal" and uploaded[0].title:
            _show_headline(ctx, sent, uploaded[0], locale)


def _show_headline(ctx: JobContext, sent: Sent, chart: chart_files.ChartFile, locale: str = DEFAULT_LOCALE) -> None:
    """The headline goal chart in the report message itself (an image block of the file shared in its
    thread), not only in the thread. An update sets the same blocks however often it runs."""
    try:
        with ctx.db.session(write=False) as session:
            row = session.get(Outbox, sent.outbox_id)
            if row is None or not row.blocks:
                return
            blocks, text = json.loads(row.blocks), row.text
        image = {"type": "image", "slack_file": {"id": chart.file_id}, "alt_text": esc(chart.title)[:2000],
                 "title": {"type": "plain_text", "text": chart.title[:2000]}}
        if any(b.get("type") == "image" for b in blocks):
            return
        # after the goals, before the KPIs (or the closing context)
        heading = t("report.kpis", locale)
        kpis_at = [i for i, b in enumerate(blocks) if str((b.get("text") or {}).get("text", "")) == heading
                   or b.get("type") == "context"]
        at = kpis_at[0] if kpis_at else len(blocks)
        blocks = [*blocks[:at], image, *blocks[at:]][:50]
        ctx.client.chat_update(channel=sent.channel, ts=sent.ts, blocks=blocks, text=text)
    except Exception:
        log.warning("could not show the headline chart in report %s", sent.outbox_id, exc_info=True)


def _record_chart_files(ctx: JobContext, sent: Sent, uploaded: list[chart_files.ChartFile]) -> None:
    """Write the uploaded charts' file ids into the outbox row's payload, for the App Home after a restart.

    The post is already in Slack: a failure here is logged, never turned into a retry (which would post twice)."""
    try:
        with ctx.db.session() as session:
            row = session.get(Outbox, sent.outbox_id)
            if row is None:
                return
            payload = json.loads(row.payload) if row.payload else {}
            payload[chart_files.PAYLOAD_KEY] = [c.to_json() for c in uploaded]
            row.payload = json.dumps(payload, ensure_ascii=False)
    except Exception:
        log.exception("could not record the charts of post %s", sent.outbox_id)


def attach_table(ctx: JobContext, sent: Sent) -> None:
    """A schedule with `attach:xlsx`: the week's KPI table (the report's rows) as an XLSX file in its thread."""
    from bot import exports

    schedule_id, day = sent.payload.get("schedule_id"), sent.payload.get("day")
    if schedule_id is None or not day:
        return
    today = date.fromisoformat(str(day))
    with ctx.db.session(write=False) as session:
        schedule = session.get(Schedule, int(schedule_id))
        if schedule is None or schedule.attach != "xlsx":
            return
        rows = kpi_rows(session, workspace_id=sent.workspace_id, today=today)
        sheet = exports.report_sheet(rows, start=today - timedelta(days=7), end=today - timedelta(days=1))
    if not sheet.rows:
        return
    filename = f"kpi-report-{today.isoformat()}.xlsx"
    try:
        uploads.share_file(ctx.client, channel=sent.channel, thread_ts=sent.ts, content=exports.to_xlsx(sheet),
                           filename=filename, title=filename)
    except uploads.ShareUnknown as exc:
        log.error("report %s: cannot tell whether its table %s was shared", sent.outbox_id, exc.file_id)
    except Exception:
        log.exception("report %s: its KPI table could not be attached", sent.outbox_id)


def after_report_sent(ctx: JobContext, sent: Sent) -> None:
    upload_charts(ctx, sent)
    attach_table(ctx, sent)


REPORT = ReportPost("report", after_sent=after_report_sent)
