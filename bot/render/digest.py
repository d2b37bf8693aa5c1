"""The daily digest as one compact Block Kit message, always within Slack's limits."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.i18n import EN
from bot.i18n.fmt import bar, fmt_date, fmt_number, fmt_percent, fmt_signed_percent, mention
from bot.ids import BlockId, record_block
from bot.render.reply import FALLBACK_TEXT, SECTION_TEXT, Builder, Reply
from bot.render.views import PACE_EMOJI, STATUS_EMOJI, task_actions_block
from bot.services.digest import (
    DigestCampaign,
    DigestData,
    DigestGoal,
    DigestRetro,
    DigestTask,
    KpiAlert,
    KpiChange,
    OwnerTasks,
)
from bot.services.goals import AT_RISK, OFF_TRACK, ON_TRACK
from bot.slack_text import esc, truncate

TITLE_CHARS = 150  # user-typed titles are cut before escaping, so an entity is never split
MORE_RESERVE = 200  # room kept in a section for its closing "and N more" line
TASKS_PER_OWNER = 5
URGENT_TASKS = 6  # the most urgent overdue / due-today tasks, each with its own line and buttons

# (items at most, section blocks at most): with the header, summary, dividers and footer the packed
# sections take at most 27 blocks, so every section keeps its place however long the others are.
LIMITS = {"tasks": (40, 8), "goals": (20, 5), "kpis": (30, 3), "campaigns": (12, 2), "retros": (10, 1)}
# The urgent tasks add a title and two blocks each (the line, task_line:T-n, and its buttons,
# task_actions:T-n). A click replaces the buttons with a note saying who did what, followed by the
# buttons that still make sense (views.update_task_blocks), so each urgent task can grow by one block
# later: the message must leave that room under Slack's 50 (checked in tests/unit/test_digest_render.py).
PACKED_BLOCKS = 27
URGENT_BLOCKS = 1 + 2 * URGENT_TASKS

VERDICT_EMOJI = {
    "good": ":large_green_circle:", "bad": ":red_circle:", "flat": ":white_circle:", "new": ":new:", "campaign": ":tada:",
}
STAGE_EMOJI = {"starting": ":calendar:", "live": ":rocket:", "ending": ":hourglass_flowing_sand:", "ended": ":checkered_flag:"}


def _title(text: str) -> str:
    return esc(truncate(text, TITLE_CHARS))


def _short(text: str) -> str:
    return esc(truncate(text, 60))


def _day(day: date, *, weekday: bool = False) -> str:
    return (f"{day:%a} " if weekday else "") + f"{day:%b} {day.day}"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _pack(title: str, items: list[str], *, max_items: int, max_blocks: int, more: str) -> list[str]:
    """Section texts: the title then whole items, each text within SECTION_TEXT and at most max_blocks of
    them; what does not fit is counted in a closing line, never dropped silently."""
    limit = SECTION_TEXT - MORE_RESERVE
    chunks: list[list[str]] = [[title]]
    size = len(title)
    shown = 0
    for item in items[:max_items]:
        item = truncate(item, limit)
        if size + 1 + len(item) > limit:
            if len(chunks) >= max_blocks:
                break
            chunks.append([])
            size = -1
        chunks[-1].append(item)
        size += 1 + len(item)
        shown += 1
    hidden = len(items) - shown
    if hidden:
        chunks[-1].append(more.format(n=hidden))
    return ["\n".join(chunk) for chunk in chunks]


# ---- summary -------------------------------------------------------------------------------------

def pace_summary(data: DigestData) -> str:
    if not data.goals:
        return "no active goals"
    counts = data.pace_counts()
    parts = [f"{counts[s]} {s}" for s in (ON_TRACK, AT_RISK, OFF_TRACK) if counts.get(s)]
    if counts.get(None):
        parts.append(f"{counts[None]} without data")
    return f"{_plural(len(data.goals), 'goal')}: {', '.join(parts)}"


def summary_line(data: DigestData) -> str:
    parts = [
        f"{data.due_today} due today",
        f"{data.overdue} overdue",
        f"{data.blocked} blocked",
        pace_summary(data),
    ]
    live = sum(1 for c in data.campaigns if c.stage in ("live", "ending"))
    if live:
        parts.append(f"{_plural(live, 'campaign')} live")
    if data.retros:
        parts.append(_plural(len(data.retros), "open retro"))
    return " · ".join(parts)


# ---- tasks ---------------------------------------------------------------------------------------

def task_line(task: DigestTask, today: date, *, owner: bool = False) -> str:
    """One task; `owner` adds who owns it (the urgent items stand outside the by-owner groups)."""
    if task.due_on is not None and task.due_on < today:
        days = (today - task.due_on).days
        due = f" · *{_plural(days, 'day')} overdue*"
    elif task.due_on == today:
        due = " · due today"
    elif task.due_on is not None:
        due = f" · due {fmt_date(task.due_on, today, EN)}"
    else:
        due = ""
    links = [f"C-{task.campaign_number}"] if task.campaign_number is not None else []
    if task.goal_number is not None:
        links.append(f"G-{task.goal_number}")
    link = f" · {', '.join(links)}" if links else ""
    blocked = ""
    if task.status == "blocked":
        blocked = f" · blocked: _{_title(task.block_reason)}_" if task.block_reason else " · blocked"
    who = ""
    if owner:
        who = f" · {mention(task.owner_id, EN)}" if task.owner_id else " · _unassigned_"
    emoji = STATUS_EMOJI.get(task.status, ":white_circle:")
    return f"{emoji} *T-{task.number}* {_title(task.title)}{who}{due}{link}{blocked}"


def urgent_tasks(data: DigestData, limit: int = URGENT_TASKS) -> list[DigestTask]:
    """Whoever owns them: overdue first (oldest due date first), then due today (blocked ones first)."""
    overdue = sorted((t for g in data.owners for t in g.overdue), key=lambda t: (t.due_on or data.today, t.number))
    due_today = sorted((t for g in data.owners for t in g.due_today), key=lambda t: (t.status != "blocked", t.number))
    return [*overdue, *due_today][:limit]


def urgent_blocks(task: DigestTask, today: date) -> list[Block]:
    """The task's line and its Start / Done / Block… / Snooze a day buttons, with the block_ids a click
    uses to update exactly this task in the posted message (views.update_task_blocks)."""
    ref = f"T-{task.number}"
    text = task_line(task, today, owner=True)
    if task.owner_id is None:
        text += f"\n      _give it an owner: `/task assign {ref} @someone`_"
    blocks: list[Block] = [
        SectionBlock(block_id=record_block(BlockId.TASK_LINE, ref), text=MarkdownTextObject(text=truncate(text, SECTION_TEXT)))
    ]
    actions = task_actions_block(task.number, task.status, task.due_on)
    parsed = Block.parse(actions) if actions is not None else None
    if parsed is not None:
        blocks.append(parsed)
    return blocks


def without(groups: list[OwnerTasks], shown: set[int]) -> list[OwnerTasks]:
    """The owner groups minus the tasks already shown on their own; groups left empty are dropped."""
    rest = []
    for g in groups:
        left = OwnerTasks(
            g.owner_id,
            overdue=[t for t in g.overdue if t.number not in shown],
            due_today=[t for t in g.due_today if t.number not in shown],
            blocked=[t for t in g.blocked if t.number not in shown],
        )
        if left.total:
            rest.append(left)
    return rest


def owner_item(group: OwnerTasks, today: date) -> str:
    counts = [
        f"{len(group.overdue)} overdue" if group.overdue else "",
        f"{len(group.due_today)} due today" if group.due_today else "",
        f"{len(group.blocked)} blocked" if group.blocked else "",
    ]
    who = f"*{mention(group.owner_id, EN)}*" if group.owner_id else "*_unassigned_*"
    head = f"{who} · {' · '.join(c for c in counts if c)}"
    tasks = [*group.overdue, *group.due_today, *group.blocked]
    lines = [head, *(task_line(t, today) for t in tasks[:TASKS_PER_OWNER])]
    if len(tasks) > TASKS_PER_OWNER:
        lines.append(f"      _and {len(tasks) - TASKS_PER_OWNER} more_")
    if group.owner_id is None:
        lines.append(f"      _give each an owner: `/task assign T-{tasks[0].number} @someone`_")
    return truncate("\n".join(lines), FALLBACK_TEXT)


# ---- goals ---------------------------------------------------------------------------------------

def goal_item(goal: DigestGoal, today: date) -> str:
    p = goal.progress
    unit = goal.unit
    status = p.status or "no data yet"
    head = f"{PACE_EMOJI.get(p.status or '', ':white_circle:')} *G-{goal.number}* {_title(goal.title)} · {status}"
    if p.current is None:
        metric = truncate(goal.metric_name, 60)
        metric = f'"{metric}"' if len(metric.split()) > 1 else metric  # the /kpi grammar needs quotes then
        detail = (
            f"nothing logged yet · target {fmt_number(goal.target, unit, EN)} by {fmt_date(goal.due_on, today, EN)} · "
            f"`/kpi log {esc(metric)} <value>`"
        )
    else:
        deadline = f"by {fmt_date(goal.due_on, today, EN)}" if goal.due_on >= today else f"deadline was {fmt_date(goal.due_on, today, EN)}"
        detail = (
            f"`{bar(p.percent_of_target)}` {fmt_percent(p.percent_of_target, EN)} · "
            f"{fmt_number(p.current, unit, EN)} of {fmt_number(goal.target, unit, EN)} · {fmt_percent(p.percent_of_time, EN)} of time"
        )
        if p.projected is not None:
            detail += f" · projected {fmt_number(p.projected, unit, EN)} {deadline}"
        else:
            detail += f" · {deadline}"
        if p.needed_per_day is not None:
            detail += f" · needs {fmt_number(p.needed_per_day, unit, EN)}/day"
        elif p.needed_level is not None:
            detail += f" · needs {fmt_number(p.needed_level, unit, EN)} from here on"
    owner = f" · {mention(goal.owner_id, EN)}" if goal.owner_id else ""
    return f"{head}\n      {detail}{owner}"


# ---- KPIs ----------------------------------------------------------------------------------------

def kpi_line(kpi: KpiChange) -> str:
    name = f"{VERDICT_EMOJI[kpi.verdict]} *{_title(kpi.name)}* {fmt_number(kpi.yesterday, kpi.unit, EN)}"
    if kpi.trailing is None:
        return f"{name} · nothing logged in the 7 days before{coverage(kpi)}"
    diff = kpi.yesterday - kpi.trailing
    arrow = "→" if kpi.verdict == "flat" or diff == 0 else ("↑" if diff > 0 else "↓")
    if kpi.unit == "%":
        points = (diff * 100).quantize(Decimal("0.01"))
        delta = f"{'+' if points > 0 else ''}{points.normalize():f} pp"
    elif kpi.change is not None:
        delta = fmt_signed_percent(kpi.change, EN)
    else:
        delta = "from zero"
    basis = f"{fmt_number(kpi.trailing, kpi.unit, EN)} avg"
    if kpi.trailing_days and kpi.trailing_days < 7 and not kpi.is_ratio:
        basis += f" over {_plural(kpi.trailing_days, 'logged day')}"
    return f"{name} {arrow} {delta} vs {basis}{significance(kpi)}{coverage(kpi)}"


def significance(kpi: KpiChange) -> str:
    """Why a line is coloured, or not: ` · unusual for a Sunday (expected ¥9.0k–¥12.5k)`, ` · campaign C-2 live`."""
    check = kpi.check
    if check is None:
        return ""
    if check.verdict == "campaign":
        return " · campaign " + ", ".join(check.campaigns) + " live"
    if check.verdict in ("high", "low") and check.low is not None and check.high is not None:
        return (f" · unusual for a {check.day:%A} (expected {fmt_number(check.low, kpi.unit, EN)}–"
                f"{fmt_number(check.high, kpi.unit, EN)})")
    return ""


def alert_reply(kpis: list[KpiChange], today: date) -> Reply | None:
    """The one threaded alert under a digest: each significant move, with its channel, expected range and
    actual value, and for GMV the split into traffic × conversion × AOV."""
    alerts = [a for k in kpis for a in k.alerts]
    if not alerts:
        return None
    lines = []
    for alert in alerts[:20]:
        check, unit = alert.check, alert.unit
        where = f" on {esc(alert.channel) or '(no channel)'}" if alert.channel is not None else ""
        arrow = "↑" if check.verdict == "high" else "↓"
        lines.append(
            f"{VERDICT_EMOJI['good' if check.tone == 'good' else 'bad']} *{_title(alert.metric)}*{where} {arrow} "
            f"{fmt_number(check.value, unit, EN)} yesterday; expected {fmt_number(check.low, unit, EN)}–"
            f"{fmt_number(check.high, unit, EN)} (median {fmt_number(check.expected, unit, EN)} on the last "
            f"{check.history_points} {check.day:%A}s)"
            + why_line(alert)
        )
    day = today - timedelta(days=1)
    b = Builder().section(f":rotating_light: *Unusual KPIs on {day:%a, %b} {day.day}*")
    b.lines_section(lines)
    b.context("Unusual: at least 15 % off the same weekday's median over 8 weeks, and beyond 4 robust standard "
              "deviations; campaign days are expected, not flagged.")
    return b.build(text=f"Unusual KPIs on {day.isoformat()}: " + ", ".join(esc(a.metric) for a in alerts[:5]))


def why_line(alert: KpiAlert) -> str:
    """`\n   why: traffic −8 %, conversion −55 %, AOV +2 %` (log shares of the move) for a GMV alert."""
    split = alert.why.split if alert.why is not None else None
    if split is None:
        return ""
    parts = [(label, factor.change) for label, factor in
             (("traffic", split.traffic), ("conversion", split.conversion), ("AOV", split.aov))]
    text = ", ".join(f"{label} {fmt_signed_percent(Decimal(str(round(change, 4))), EN)}" for label, change in parts)
    return f"\n      why: {text}"


def coverage(kpi: KpiChange) -> str:
    """` · 1 of 5 channels logged (JD, email… missing)`: said whenever a channel that usually logs is missing."""
    if not kpi.missing:
        return ""
    shown = ", ".join(esc(c or "(no channel)") for c in kpi.missing[:3]) + ("…" if len(kpi.missing) > 3 else "")
    total = len(kpi.channels) + len(kpi.missing)
    return f" · {len(kpi.channels)} of {total} channels logged ({shown} missing; compared on those that did)"


# ---- campaigns and retros ------------------------------------------------------------------------

def campaign_item(c: DigestCampaign, today: date) -> str:
    if c.stage == "starting":
        when = f"starts {fmt_date(c.start_on, today, EN)}"
    elif c.stage == "ending":
        when = "ends today" if c.end_on == today else f"ends {fmt_date(c.end_on, today, EN)}"
    elif c.stage == "live":
        when = f"live until {fmt_date(c.end_on, today, EN)}"
    else:
        when = "ended yesterday"
    money = c.currency or None
    if c.budget:
        used = c.budget_used
        over = " :warning:" if used is not None and used > 1 else ""
        budget = f" · {fmt_number(c.spend, money, EN)} of {fmt_number(c.budget, money, EN)} ({fmt_percent(used, EN)}){over}"
    elif c.spend:
        budget = f" · {fmt_number(c.spend, money, EN)} spent, no budget set"
    else:
        budget = ""
    roi = f" · ROI {fmt_percent(c.roi, EN)}" if c.roi is not None else ""
    tasks = f" · {_plural(c.open_tasks, 'open task')}" if c.open_tasks else ""
    line = f"{STAGE_EMOJI[c.stage]} *C-{c.number}* {_title(c.name)} · {when}{budget}{roi}{tasks}"
    if c.stage == "ended":
        line += f"\n      _review it: `/retro start campaign:C-{c.number}`_"
    return line


def retro_item(r: DigestRetro, today: date) -> str:
    period = f"{_day(r.period_start)} – {_day(r.period_end)}"
    notes = _plural(r.notes, "note") if r.notes else "no notes yet"
    return f":speech_balloon: *R-{r.number}* {_title(r.title)} · {period} · {notes} · reply in its thread in <#{r.slack_channel_id}>"


# ---- the message ---------------------------------------------------------------------------------

EMPTY_DAY = (
    ":sunny: *A clear day.* Nothing is due, overdue or blocked, and there are no active goals, "
    "KPIs from yesterday, campaigns or open retrospectives to report."
)
GET_STARTED = (
    "Get the loop going:\n"
    '• `/task add "Banner for 双十一" @owner due:fri` — work with an owner and a date\n'
    '• `/goal add "Q4 GMV" metric:gmv target:¥2.5m by:eoq` — a SMART goal to pace against\n'
    "• `/kpi log visits 12500 orders 310 date:yesterday` — numbers for tomorrow's digest"
)


def digest_reply(data: DigestData, *, today: date, title: str = "Daily digest") -> Reply:
    header = f"{title} · {today:%A, %B} {today.day}"
    b = Builder().header(header)
    if data.is_empty:
        b.section(EMPTY_DAY).section(GET_STARTED)
        return b.build(in_channel=True, text=f"{header}: a clear day, nothing due, overdue or blocked.")
    b.section(summary_line(data))

    b.divider()
    if data.owners:
        urgent = urgent_tasks(data)
        if urgent:
            b.section("*:clipboard: Most urgent* · overdue first, then due today")
            for task in urgent:
                for block in urgent_blocks(task, today):
                    b.add(block)
        rest = without(data.owners, {t.number for t in urgent})
        if rest:
            _sections(
                b,
                "tasks",
                "*:clipboard: More tasks by owner*" if urgent else "*:clipboard: Tasks by owner*",
                [owner_item(g, today) for g in rest],
                more="_and {n} more people with tasks — `/task list overdue` · `/task list blocked`_",
            )
    else:
        b.section(
            "*:clipboard: Tasks*\n:white_check_mark: Nothing due, overdue or blocked. "
            'Line up what is next: `/task add "<title>" @owner due:fri`'
        )

    b.divider()
    if data.goals:
        _sections(
            b,
            "goals",
            "*:dart: Goals & pace*",
            [goal_item(g, today) for g in data.goals],
            more="_and {n} more goals — `/goal list`_",
        )
    else:
        b.section('*:dart: Goals*\nNo active goals. Set one to pace against: `/goal add "Q4 GMV" metric:gmv target:¥2.5m by:eoq`')

    b.divider()
    yesterday = today - timedelta(days=1)
    if data.kpis:
        _sections(
            b,
            "kpis",
            f"*:bar_chart: KPIs yesterday* ({_day(yesterday, weekday=True)}) vs the 7-day average before it",
            [kpi_line(k) for k in data.kpis],
            more="_and {n} more metrics — `/kpi list`_",
        )
    else:
        b.section(
            f"*:bar_chart: KPIs*\nNothing logged for yesterday ({_day(yesterday, weekday=True)}). "
            "Log it so tomorrow's digest can compare: `/kpi log visits 12500 orders 310 date:yesterday`"
        )

    if data.campaigns:
        b.divider()
        _sections(
            b,
            "campaigns",
            "*:mega: Campaigns*",
            [campaign_item(c, today) for c in data.campaigns],
            more="_and {n} more — `/campaign list`_",
        )

    if data.retros:
        b.divider()
        _sections(
            b,
            "retros",
            "*:repeat: Open retrospectives*",
            [retro_item(r, today) for r in data.retros],
            more="_and {n} more open_",
        )

    b.context("T-12 task · G-3 goal · C-2 campaign · R-1 retro · `/mkt help` for every command")
    return b.build(in_channel=True, text=fallback_text(data, header=header))


def _sections(b: Builder, kind: str, title: str, lines: list[str], *, more: str) -> None:
    """A titled list as few sections as its share of the message allows; the rest is counted."""
    items, blocks = LIMITS[kind]
    for text in _pack(title, lines, max_items=items, max_blocks=blocks, more=more):
        b.section(text)


def fallback_text(data: DigestData, *, header: str) -> str:
    """The notification and screen-reader version: the same summary, a few names, no mentions."""
    lines = [f"{header}: {summary_line(data)}"]
    overdue = [t for g in data.owners for t in g.overdue]
    if overdue:
        overdue.sort(key=lambda t: (t.due_on or data.today, t.number))
        names = ", ".join(f"T-{t.number} {_short(t.title)}" for t in overdue[:5])
        lines.append(f"Overdue: {names}" + (f" and {len(overdue) - 5} more" if len(overdue) > 5 else ""))
    behind = [g for g in data.goals if g.progress.status in (OFF_TRACK, AT_RISK)]
    if behind:
        names = ", ".join(f"G-{g.number} {_short(g.title)} ({g.progress.status})" for g in behind[:5])
        lines.append(f"Behind pace: {names}" + (f" and {len(behind) - 5} more" if len(behind) > 5 else ""))
    if data.kpis:
        good = sum(1 for k in data.kpis if k.verdict == "good")
        bad = sum(1 for k in data.kpis if k.verdict == "bad")
        lines.append(f"KPIs yesterday: {good} unusually good, {bad} unusually bad, {len(data.kpis) - good - bad} within their normal range or new")
    if data.campaigns:
        lines.append("Campaigns: " + ", ".join(f"C-{c.number} {_short(c.name)} ({c.stage})" for c in data.campaigns[:5]))
    if data.retros:
        lines.append("Open retros: " + ", ".join(f"R-{r.number} {_short(r.title)}" for r in data.retros[:5]))
    return truncate("\n".join(lines), FALLBACK_TEXT)
