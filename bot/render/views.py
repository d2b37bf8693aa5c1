"""Replies to slash commands: pure functions from records to (text, blocks)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.render.reply import Builder, Reply
from bot.render.text import bar, esc, fmt_date, fmt_number, fmt_percent, fmt_signed_percent, mention
from bot.services.campaigns import CampaignSummary, phase
from bot.services.goals import Progress
from bot.services.kpis import DefineResult, LoggedValue, PeriodValue
from bot.services.tasks import Change, TaskFilter
from storage.models import Campaign, CampaignSpend, Feedback, Goal, Metric, Task

STATUS_EMOJI = {"todo": ":white_circle:", "in_progress": ":large_blue_circle:", "blocked": ":red_circle:", "done": ":white_check_mark:"}
PACE_EMOJI = {"on track": ":large_green_circle:", "at risk": ":large_yellow_circle:", "off track": ":red_circle:"}


# ---- tasks ---------------------------------------------------------------------------------------

def task_line(task: Task, today: date) -> str:
    due = ""
    if task.due_on:
        overdue = task.due_on < today and task.status != "done"
        due = f" · {'*overdue* since ' if overdue else 'due '}{fmt_date(task.due_on, today)}"
    links = []
    if task.campaign is not None:
        links.append(f"C-{task.campaign.number}")
    if task.goal is not None:
        links.append(f"G-{task.goal.number}")
    link = f" · {', '.join(links)}" if links else ""
    blocked = f"\n      _blocked: {esc(task.block_reason)}_" if task.status == "blocked" and task.block_reason else ""
    return f"{STATUS_EMOJI[task.status]} *T-{task.number}* {esc(task.title)} · {mention(task.owner_id)}{due}{link}{blocked}"


def task_created(task: Task, *, today: date) -> Reply:
    b = Builder().section(f":memo: Task *T-{task.number}* added: {esc(task.title)}")
    fields = [f"*Owner*\n{mention(task.owner_id)}", f"*Due*\n{fmt_date(task.due_on, today)}"]
    if task.start_on:
        fields.append(f"*Start*\n{fmt_date(task.start_on, today)}")
    if task.campaign is not None:
        fields.append(f"*Campaign*\nC-{task.campaign.number} {esc(task.campaign.name)}")
    if task.goal is not None:
        fields.append(f"*Goal*\nG-{task.goal.number} {esc(task.goal.title)}")
    b.fields(fields)
    b.context(f"`/task start T-{task.number}` · `/task done T-{task.number}` · `/task block T-{task.number} <reason>`")
    return b.build(text=f"Task T-{task.number} added: {task.title}")


def task_changed(change: Change, *, actor: str, today: date) -> Reply:
    task = change.task
    if not change.changed:
        what = {"done": "already done", "in_progress": "already in progress", "blocked": "already blocked", "todo": "already open"}
        message = f"T-{task.number} is {what.get(task.status, 'unchanged')}; nothing changed."
        return Builder().section(f":information_source: {message}").section(task_line(task, today)).build(text=message)
    verb = {
        "done": "marked done :tada:",
        "in_progress": "started",
        "blocked": "marked blocked",
        "todo": "reopened",
    }[task.status]
    if change.before == task.status:
        verb = "updated"
    message = f"T-{task.number} {verb} by {mention(actor)}"
    plain = verb.replace(" :tada:", "")
    return Builder().section(message).section(task_line(task, today)).build(text=f"T-{task.number} {plain}: {task.title}")


def task_list(rows: list[Task], *, filters: TaskFilter, today: date, viewer: str) -> Reply:
    scope = []
    if filters.owner_id:
        scope.append("yours" if filters.owner_id == viewer else f"of {mention(filters.owner_id)}")
    if filters.overdue:
        scope.append("overdue")
    if filters.blocked:
        scope.append("blocked")
    title = "Tasks" + (f" ({', '.join(scope)})" if scope else "") + ("" if filters.include_done else " — open")
    if not rows:
        return Builder().section(f"*{title}*\nNothing here. Add one with `/task add <title> @owner due:fri`.").build()
    overdue = sum(1 for t in rows if t.due_on and t.due_on < today and t.status != "done")
    b = Builder().section(f"*{title}* · {len(rows)} task{'s' if len(rows) != 1 else ''}" + (f" · {overdue} overdue" if overdue else ""))
    b.lines_section([task_line(t, today) for t in rows], more="and {n} more — narrow it with mine, overdue or campaign:")
    return b.build()


# ---- goals ---------------------------------------------------------------------------------------

def goal_progress_line(goal: Goal, progress: Progress, today: date) -> str:
    unit = goal.metric.unit
    pace = f"{PACE_EMOJI.get(progress.status or '', ':white_circle:')} {progress.status or 'no data yet'}"
    current = fmt_number(progress.current, unit)
    return (
        f"*G-{goal.number}* {esc(goal.title)} · {pace}\n"
        f"      `{bar(progress.percent_of_target)}` {current} of {fmt_number(goal.target, unit)} "
        f"({fmt_percent(progress.percent_of_target)}) · {fmt_percent(progress.percent_of_time)} of time · "
        f"by {fmt_date(goal.due_on, today)} · {mention(goal.owner_id)}"
    )


def goal_created(goal: Goal, *, today: date, actor: str) -> Reply:
    unit = goal.metric.unit
    b = Builder().section(f":dart: {mention(actor)} set goal *G-{goal.number}*: {esc(goal.title)}")
    fields = [
        f"*Metric*\n{esc(goal.metric.name)} (K-{goal.metric.number})",
        f"*Target*\n{fmt_number(goal.target, unit)}" + (f" from {fmt_number(goal.baseline, unit)}" if goal.baseline is not None else ""),
        f"*Time frame*\n{fmt_date(goal.start_on, today)} → {fmt_date(goal.due_on, today)}",
        f"*Owner*\n{mention(goal.owner_id)}",
    ]
    if goal.channel:
        fields.append(f"*Channel*\n{esc(goal.channel)}")
    if goal.parent is not None:
        fields.append(f"*Part of*\nG-{goal.parent.number} {esc(goal.parent.title)}")
    b.fields(fields)
    b.context(f"Log progress with `/kpi log {goal.metric.name} <value>` or `/goal checkin G-{goal.number} <value>`")
    return b.build(in_channel=True, text=f"Goal G-{goal.number} set: {goal.title}")


def goal_list(items: list[tuple[Goal, Progress]], *, today: date) -> Reply:
    if not items:
        return Builder().section("*Goals*\nNo active goals. Set one: `/goal add \"Q4 GMV\" metric:gmv target:2.5m by:eoq`").build()
    b = Builder().section(f"*Goals* · {len(items)}")
    b.lines_section([goal_progress_line(g, p, today) for g, p in items])
    return b.build()


def goal_show(goal: Goal, progress: Progress, children: list[tuple[Goal, Progress]], *, today: date) -> Reply:
    unit = goal.metric.unit
    status = "closed" if goal.status == "closed" else (progress.status or "no data yet")
    b = Builder().header(f"G-{goal.number} {goal.title}")
    b.section(f"{PACE_EMOJI.get(progress.status or '', ':white_circle:')} *{status}* · `{bar(progress.percent_of_target)}`")
    source = {"kpi": "from logged KPIs", "checkin": "latest check-in", "none": "nothing logged yet"}[progress.source]
    fields = [
        f"*Current*\n{fmt_number(progress.current, unit)} ({source})",
        f"*Target*\n{fmt_number(goal.target, unit)}" + (f" from {fmt_number(goal.baseline, unit)}" if goal.baseline is not None else ""),
        f"*Reached*\n{fmt_percent(progress.percent_of_target)} of target",
        f"*Time elapsed*\n{fmt_percent(progress.percent_of_time)} ({fmt_date(goal.start_on, today)} → {fmt_date(goal.due_on, today)})",
        f"*Metric*\n{esc(goal.metric.name)} (K-{goal.metric.number}){' · ' + esc(goal.channel) if goal.channel else ''}",
        f"*Owner*\n{mention(goal.owner_id)}",
    ]
    if progress.projected is not None:
        fields.append(f"*Projected at deadline*\n{fmt_number(progress.projected, unit)}")
    if progress.needed_per_day is not None:
        fields.append(f"*Needed per day*\n{fmt_number(progress.needed_per_day, unit)}")
    if progress.confidence is not None:
        fields.append(f"*Confidence*\n{progress.confidence}/10")
    if goal.parent is not None:
        fields.append(f"*Part of*\nG-{goal.parent.number} {esc(goal.parent.title)}")
    b.fields(fields)
    if children:
        b.section("*Broken down into*")
        b.lines_section([goal_progress_line(g, p, today) for g, p in children])
    return b.build(text=f"G-{goal.number} {goal.title}: {fmt_number(progress.current, unit)} of {fmt_number(goal.target, unit)} ({status})")


def goal_closed(goal: Goal, progress: Progress, *, changed: bool, today: date, actor: str) -> Reply:
    if not changed:
        return Builder().section(f":information_source: G-{goal.number} was already closed; nothing changed.").build()
    unit = goal.metric.unit
    reached = progress.percent_of_target is not None and progress.percent_of_target >= 1
    icon = ":trophy:" if reached else ":checkered_flag:"
    text = (
        f"{icon} {mention(actor)} closed *G-{goal.number}* {esc(goal.title)}: {fmt_number(progress.current, unit)} of "
        f"{fmt_number(goal.target, unit)} ({fmt_percent(progress.percent_of_target)})"
    )
    return Builder().section(text).context("Time for a retrospective? `/retro start`").build(text=f"G-{goal.number} closed")


def goal_checked_in(goal: Goal, progress: Progress, *, today: date, actor: str) -> Reply:
    b = Builder().section(f":white_check_mark: Check-in recorded for *G-{goal.number}* by {mention(actor)}")
    b.section(goal_progress_line(goal, progress, today))
    return b.build(text=f"Check-in recorded for G-{goal.number}")


# ---- KPIs ----------------------------------------------------------------------------------------

def kpi_logged(logged: list[LoggedValue], *, today: date) -> Reply:
    lines = []
    notes = []
    for item in logged:
        m = item.metric
        channel = f" · {esc(item.channel)}" if item.channel else ""
        line = f"*{esc(m.name)}* (K-{m.number}) = {fmt_number(item.value, m.unit)}{channel} · {fmt_date(item.day, today)}"
        if item.previous is not None:
            line += f" — _replaced {fmt_number(item.previous, m.unit)}_"
        lines.append(line)
        if item.metric_created:
            notes.append(f"new metric K-{m.number} {esc(m.name)} ({m.agg}, higher is better)")
    b = Builder().section(":bar_chart: Logged\n" + "\n".join(lines))
    if notes:
        b.context("Created " + "; ".join(notes) + ". Change with `/kpi define <metric> unit:… agg:… better:…`")
    replaced = sum(1 for i in logged if i.previous is not None)
    text = f"Logged {len(logged)} KPI value{'s' if len(logged) != 1 else ''}" + (f" ({replaced} replaced)" if replaced else "")
    return b.build(text=text)


def describe_metric(metric: Metric) -> str:
    if metric.is_ratio and metric.numerator is not None and metric.denominator is not None:
        how = f"= {esc(metric.numerator.name)} / {esc(metric.denominator.name)}"
    else:
        how = {"sum": "summed", "avg": "averaged", "last": "latest value"}[metric.agg]
    unit = f" · unit {esc(metric.unit)}" if metric.unit else ""
    better = "higher is better" if metric.better == "up" else "lower is better"
    return f"*K-{metric.number} {esc(metric.name)}* {how}{unit} · {better}"


def kpi_defined(result: DefineResult) -> Reply:
    if result.created:
        head = "Defined"
    elif result.changed:
        head = "Updated " + ", ".join(result.changed) + " of"
    else:
        head = "No change to"
    return Builder().section(f":straight_ruler: {head} {describe_metric(result.metric)}").build(
        text=f"{head} K-{result.metric.number} {result.metric.name}"
    )


def kpi_list(items: list[tuple[Metric, date | None]], *, today: date) -> Reply:
    if not items:
        return Builder().section("*KPI metrics*\nNone yet. `/kpi log visits 12500` creates one as you log it.").build()
    lines = [describe_metric(m) + f" · last logged {fmt_date(d, today) if d else 'never'}" for m, d in items]
    return Builder().section(f"*KPI metrics* · {len(items)}").lines_section(lines).build()


def kpi_show(
    metric: Metric,
    current: PeriodValue,
    previous: PeriodValue,
    *,
    start: date,
    end: date,
    by_channel: bool,
    channel: str | None,
    goals: list[tuple[Goal, Progress]],
    today: date,
) -> Reply:
    unit = metric.unit
    title = f"{metric.name} · {fmt_date(start, today)} – {fmt_date(end, today)}" + (f" · {channel}" if channel else "")
    b = Builder().header(title)
    change = None
    if current.value is not None and previous.value not in (None, Decimal(0)):
        assert previous.value is not None
        change = (current.value - previous.value) / abs(previous.value)
    good = change is None or (change >= 0) == (metric.better == "up")
    trend = "" if change is None else f" ({fmt_signed_percent(change)} vs previous period {':arrow_upper_right:' if change >= 0 else ':arrow_lower_right:'}{'' if good else ' :warning:'})"
    b.section(f"*{fmt_number(current.value, unit)}*{trend}")
    if metric.is_ratio and metric.numerator is not None and metric.denominator is not None:
        b.context(
            f"{esc(metric.numerator.name)} {fmt_number(current.numerator, metric.numerator.unit)} ÷ "
            f"{esc(metric.denominator.name)} {fmt_number(current.denominator, metric.denominator.unit)} "
            "— computed from the period's summed parts"
        )
    if by_channel:
        rows = sorted(current.by_channel.items(), key=lambda kv: kv[1] if kv[1] is not None else Decimal(-1), reverse=True)
        if rows:
            b.lines_section([f"• {esc(ch) or '_no channel_'}: {fmt_number(v, unit)}" for ch, v in rows])
        else:
            b.context("No values by channel in this period.")
    for goal, progress in goals:
        b.section(goal_progress_line(goal, progress, today))
    if current.value is None:
        b.context(f"Nothing logged for {esc(metric.name)} in this period. `/kpi log {esc(metric.name)} <value>`")
    return b.build(text=f"{metric.name}: {fmt_number(current.value, unit)} ({start} – {end})")


# ---- campaigns -----------------------------------------------------------------------------------

PHASE_EMOJI = {"upcoming": ":calendar:", "live": ":rocket:", "ended": ":hourglass:", "closed": ":checkered_flag:"}


def _budget_line(s: CampaignSummary) -> str:
    c = s.campaign
    cur = c.currency or ""
    if c.budget:
        used = s.spend / c.budget
        return f"{fmt_number(s.spend, cur or None)} of {fmt_number(c.budget, cur or None)} ({fmt_percent(used)})"
    return f"{fmt_number(s.spend, cur or None)} spent, no budget set"


def campaign_line(s: CampaignSummary, today: date) -> str:
    c = s.campaign
    p = phase(c, today)
    channels = f" · {', '.join(esc(ch) for ch in c.channels)}" if c.channels else ""
    return (
        f"{PHASE_EMOJI[p]} *C-{c.number}* {esc(c.name)} · {p} · {fmt_date(c.start_on, today)} → {fmt_date(c.end_on, today)}"
        f"{channels} · {_budget_line(s)}"
    )


def campaign_created(s: CampaignSummary, *, today: date, actor: str) -> Reply:
    c = s.campaign
    b = Builder().section(f":rocket: {mention(actor)} added campaign *C-{c.number}*: {esc(c.name)}")
    b.fields(_campaign_fields(s, today))
    b.context(f"`/campaign spend C-{c.number} <amount>` · `/campaign risk C-{c.number} <text>` · `/task add <title> campaign:C-{c.number}`")
    return b.build(in_channel=True, text=f"Campaign C-{c.number} added: {c.name}")


def _campaign_fields(s: CampaignSummary, today: date) -> list[str]:
    c = s.campaign
    fields = [
        f"*Dates*\n{fmt_date(c.start_on, today)} → {fmt_date(c.end_on, today)} ({phase(c, today)})",
        f"*Budget*\n{_budget_line(s)}",
    ]
    if c.channels:
        fields.append("*Channels*\n" + ", ".join(esc(ch) for ch in c.channels))
    if c.theme:
        fields.append(f"*Theme*\n{esc(c.theme)}")
    if c.audience:
        fields.append(f"*Audience*\n{esc(c.audience)}")
    if s.goals:
        fields.append("*Goals*\n" + "\n".join(f"G-{g.number} {esc(g.title)}" for g in s.goals))
    if s.revenue is not None:
        fields.append(f"*Revenue* ({esc(s.revenue_metric)})\n{fmt_number(s.revenue, c.currency)}")
    if s.roi is not None:
        fields.append(f"*ROI*\n{fmt_percent(s.roi)}")
    return fields


def campaign_list(items: list[CampaignSummary], *, today: date) -> Reply:
    if not items:
        return Builder().section("*Campaigns*\nNone open. `/campaign add \"双十一\" start:11-01 end:11-11 budget:¥200k`").build()
    return Builder().section(f"*Campaigns* · {len(items)}").lines_section([campaign_line(s, today) for s in items]).build()


def campaign_show(s: CampaignSummary, *, today: date) -> Reply:
    c = s.campaign
    b = Builder().header(f"C-{c.number} {c.name}")
    b.fields(_campaign_fields(s, today))
    if s.spend_by_channel and len(s.spend_by_channel) > 1:
        b.section("*Spend by channel*\n" + "\n".join(
            f"• {esc(ch) or '_unassigned_'}: {fmt_number(v, c.currency)}" for ch, v in sorted(s.spend_by_channel.items())
        ))
    b.section(f"*Tasks* · {s.open_tasks} open, {s.done_tasks} done")
    if s.risks:
        b.section("*Risks*\n" + "\n".join(f"• {esc(r.text)}" for r in s.risks[-10:]))
    if s.documents:
        b.section("*Documents*\n" + "\n".join(f"• <{d.url}|{esc(d.title or d.url)}>" for d in s.documents[-10:]))
    return b.build(text=f"C-{c.number} {c.name}: {phase(c, today)}, {_budget_line(s)}")


def campaign_closed(s: CampaignSummary, *, changed: bool, today: date, actor: str) -> Reply:
    c = s.campaign
    if not changed:
        return Builder().section(f":information_source: C-{c.number} was already closed; nothing changed.").build()
    b = Builder().section(f":checkered_flag: {mention(actor)} closed *C-{c.number}* {esc(c.name)}")
    b.fields(_campaign_fields(s, today))
    b.context(f"Run the review: `/retro start campaign:C-{c.number}`")
    return b.build(text=f"C-{c.number} closed")


def campaign_spent(s: CampaignSummary, row: CampaignSpend, *, today: date) -> Reply:
    c = s.campaign
    channel = f" on {esc(row.channel)}" if row.channel else ""
    return Builder().section(
        f":money_with_wings: {fmt_number(row.amount, c.currency)}{channel} recorded for *C-{c.number}* {esc(c.name)} "
        f"({fmt_date(row.day, today)})\nBudget: {_budget_line(s)}"
        + (f" · ROI {fmt_percent(s.roi)}" if s.roi is not None else "")
    ).build(text=f"Spend recorded for C-{c.number}")


def campaign_noted(campaign: Campaign, note: str, *, raw: bool = False) -> Reply:
    shown = note if raw else esc(note)
    return Builder().section(f":pushpin: *C-{campaign.number}* {esc(campaign.name)}: {shown}").build(
        text=f"C-{campaign.number}: {note}"
    )


# ---- feedback ------------------------------------------------------------------------------------

def feedback_line(row: Feedback, today: date) -> str:
    tags = " ".join(f"`#{esc(t)}`" for t in row.tags)
    links = []
    if row.campaign is not None:
        links.append(f"C-{row.campaign.number}")
    if row.goal is not None:
        links.append(f"G-{row.goal.number}")
    icon = ":speech_balloon:" if row.source == "customer" else ":busts_in_silhouette:"
    meta = " · ".join(x for x in [row.source, ", ".join(links), tags] if x)
    return f"{icon} *F-{row.number}* {esc(row.text)}\n      {meta}"


def feedback_created(row: Feedback) -> Reply:
    return Builder().section(f":inbox_tray: Feedback *F-{row.number}* recorded\n{feedback_line(row, date.today())}").build(
        text=f"Feedback F-{row.number} recorded"
    )


def feedback_list(rows: list[Feedback], *, today: date, tag: str | None) -> Reply:
    title = "*Feedback*" + (f" tagged `#{esc(tag)}`" if tag else "")
    if not rows:
        return Builder().section(f"{title}\nNothing yet.").build()
    return Builder().section(f"{title} · latest {len(rows)}").lines_section([feedback_line(r, today) for r in rows]).build()


# ---- help ----------------------------------------------------------------------------------------

HELP = [
    ("/task", "tasks with owners and due dates", "/task add \"Banner for 双十一\" @ana due:fri campaign:C-2"),
    ("/goal", "SMART goals: metric, target, deadline", "/goal add \"Q4 GMV\" metric:gmv target:¥2.5m by:eoq"),
    ("/kpi", "log and show KPIs; ratios from summed parts", "/kpi log visits 12500 orders 310 channel:天猫"),
    ("/campaign", "promotions: dates, budget, spend, ROI, risks", "/campaign add \"双十一\" start:11-01 end:11-11 budget:¥200k"),
    ("/feedback", "customer and team feedback", "/feedback \"Coupon unclear\" from:customer campaign:C-2 #coupon"),
    ("/retro", "retrospectives in threads; action items become tasks", "/retro start campaign:C-2"),
    ("/mkt", "digests and schedules", "/mkt schedule digest 09:30 tz:Asia/Shanghai days:mon-fri"),
]


def bot_help() -> Reply:
    b = Builder().header("mktbot — your marketing loop in Slack")
    b.section("Record in seconds, and let the daily digest keep everyone honest. Every command answers `help`.")
    for command, what, example in HELP:
        b.section(f"*{command}* — {what}\n`{example}`")
    b.context("References: T-12 task · G-3 goal · C-2 campaign · F-7 feedback · R-1 retro · K-4 KPI metric")
    return b.build()
