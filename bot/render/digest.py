"""The daily digest as one compact Block Kit message, always within Slack's limits, in its channel's language."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.i18n import DEFAULT_LOCALE, EN, resolve, t, tn
from bot.i18n.fmt import bar, fmt_date, fmt_day, fmt_number, fmt_percent, fmt_signed_percent, mention
from bot.ids import BlockId, record_block
from bot.metrics import MISSED, REACHED
from bot.render.reply import FALLBACK_TEXT, SECTION_TEXT, Builder, Reply
from bot.render.retro import retro_title
from bot.render.views import PACE_EMOJI, TITLE_CHARS, mark_locale, pace_label, task_actions_block, task_line
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
ZH_WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def _title(text: str) -> str:
    return esc(truncate(text, TITLE_CHARS))


def _short(text: str) -> str:
    return esc(truncate(text, 60))


def _day(day: date, *, weekday: bool = False, locale: str = DEFAULT_LOCALE) -> str:
    """`Mon Nov 23` / `Nov 23`; in Chinese `11月23日 周一` / `11月23日`."""
    if resolve(locale) != EN:
        return f"{day.month}月{day.day}日" + (f" {ZH_WEEKDAY_NAMES[day.weekday()]}" if weekday else "")
    return (f"{day:%a} " if weekday else "") + f"{day:%b} {day.day}"


def _long_day(day: date, locale: str) -> str:
    """`Thursday, December 3` / `12月3日 周四`."""
    if resolve(locale) != EN:
        return _day(day, weekday=True, locale=locale)
    return f"{day:%A, %B} {day.day}"


def _weekday(day: date, locale: str) -> str:
    return f"{day:%A}" if resolve(locale) == EN else ZH_WEEKDAY_NAMES[day.weekday()]


def _join(items: list[str], locale: str) -> str:
    return t("list.separator", locale).join(items)


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

def pace_summary(data: DigestData, locale: str = DEFAULT_LOCALE) -> str:
    if not data.goals:
        return t("digest.no_goals", locale)
    counts = data.pace_counts()
    parts = [t("digest.pace.count", locale, n=counts[s], status=pace_label(s, locale))
             for s in (ON_TRACK, AT_RISK, OFF_TRACK, MISSED, REACHED) if counts.get(s)]  # every open goal counted
    if counts.get(None):
        parts.append(t("digest.pace.without_data", locale, n=counts[None]))
    return t("digest.pace.summary", locale, goals=tn("digest.goals", len(data.goals), locale), parts=_join(parts, locale))


def summary_line(data: DigestData, locale: str = DEFAULT_LOCALE) -> str:
    parts = [
        t("digest.count.due_today", locale, n=data.due_today),
        t("digest.count.overdue", locale, n=data.overdue),
        t("digest.count.blocked", locale, n=data.blocked),
        pace_summary(data, locale),
    ]
    live = sum(1 for c in data.campaigns if c.stage in ("live", "ending"))
    if live:
        parts.append(tn("digest.campaigns_live", live, locale))
    if data.retros:
        parts.append(tn("digest.open_retros", len(data.retros), locale))
    return " · ".join(parts)


# ---- tasks ---------------------------------------------------------------------------------------

def urgent_tasks(data: DigestData, limit: int = URGENT_TASKS) -> list[DigestTask]:
    """Whoever owns them: overdue first (oldest due date first), then due today (blocked ones first)."""
    overdue = sorted((t for g in data.owners for t in g.overdue), key=lambda t: (t.due_on or data.today, t.number))
    due_today = sorted((t for g in data.owners for t in g.due_today), key=lambda t: (t.status != "blocked", t.number))
    return [*overdue, *due_today][:limit]


def urgent_blocks(task: DigestTask, today: date, *, locale: str = DEFAULT_LOCALE) -> list[Block]:
    """The task's line and its Start / Done / Block… / Snooze a day buttons, with the block_ids a click
    uses to update exactly this task in the posted message (views.update_task_blocks)."""
    ref = f"T-{task.number}"
    text = task_line(task, today, owner=True, locale=locale)
    if task.owner_id is None:
        text += "\n      " + t("digest.task.give_owner", locale, ref=ref)
    blocks: list[Block] = [
        SectionBlock(block_id=record_block(BlockId.TASK_LINE, ref), text=MarkdownTextObject(text=truncate(text, SECTION_TEXT)))
    ]
    actions = task_actions_block(task.number, task.status, task.due_on, locale=locale)
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


def owner_item(group: OwnerTasks, today: date, locale: str = DEFAULT_LOCALE) -> str:
    counts = [
        t("digest.count.overdue", locale, n=len(group.overdue)) if group.overdue else "",
        t("digest.count.due_today", locale, n=len(group.due_today)) if group.due_today else "",
        t("digest.count.blocked", locale, n=len(group.blocked)) if group.blocked else "",
    ]
    who = f"*{mention(group.owner_id, locale)}*"
    head = f"{who} · {' · '.join(c for c in counts if c)}"
    tasks = [*group.overdue, *group.due_today, *group.blocked]
    lines = [head, *(task_line(t, today, owner=False, locale=locale) for t in tasks[:TASKS_PER_OWNER])]
    if len(tasks) > TASKS_PER_OWNER:
        lines.append("      " + t("digest.task.and_more", locale, n=len(tasks) - TASKS_PER_OWNER))
    if group.owner_id is None:
        lines.append("      " + t("digest.task.give_owners", locale, ref=f"T-{tasks[0].number}"))
    return truncate("\n".join(lines), FALLBACK_TEXT)


# ---- goals ---------------------------------------------------------------------------------------

def goal_item(goal: DigestGoal, today: date, locale: str = DEFAULT_LOCALE) -> str:
    p = goal.progress
    unit = goal.unit
    head = (f"{PACE_EMOJI.get(p.status or '', ':white_circle:')} *G-{goal.number}* {_title(goal.title)} · "
            f"{pace_label(p.status, locale)}")
    due = fmt_date(goal.due_on, today, locale)
    if p.current is None:
        metric = truncate(goal.metric_name, 60)
        metric = f'"{metric}"' if len(metric.split()) > 1 else metric  # the /kpi grammar needs quotes then
        detail = t("digest.goal.nothing_logged", locale, target=fmt_number(goal.target, unit, locale), date=due,
                   metric=esc(metric))
    else:
        late = goal.due_on < today
        detail = t(
            "digest.goal.progress", locale, bar=bar(p.percent_of_target), pct=fmt_percent(p.percent_of_target, locale),
            current=fmt_number(p.current, unit, locale), target=fmt_number(goal.target, unit, locale),
            time=fmt_percent(p.percent_of_time, locale),
        )
        if p.projected is not None:
            detail += t("digest.goal.projected_late" if late else "digest.goal.projected_by", locale,
                        value=fmt_number(p.projected, unit, locale), date=due)
        else:
            detail += t("digest.goal.deadline_was" if late else "digest.goal.by", locale, date=due)
        if p.needed_per_day is not None:
            detail += t("digest.goal.needs_per_day", locale, value=fmt_number(p.needed_per_day, unit, locale))
        elif p.needed_level is not None:
            detail += t("digest.goal.needs_level", locale, value=fmt_number(p.needed_level, unit, locale))
    owner = f" · {mention(goal.owner_id, locale)}" if goal.owner_id else ""
    return f"{head}\n      {detail}{owner}"


# ---- KPIs ----------------------------------------------------------------------------------------

def kpi_line(kpi: KpiChange, locale: str = DEFAULT_LOCALE) -> str:
    name = f"{VERDICT_EMOJI[kpi.verdict]} *{_title(kpi.name)}* {fmt_number(kpi.yesterday, kpi.unit, locale)}"
    if kpi.trailing is None:
        return f"{name} · {t('digest.kpi.nothing_before', locale)}{coverage(kpi, locale)}"
    if kpi.basis is not None and kpi.basis.check.expected is not None:
        return f"{name} {_versus_weekday(kpi, kpi.basis, locale)}{significance(kpi, locale)}{coverage(kpi, locale)}"
    diff = kpi.yesterday - kpi.trailing
    arrow = "→" if kpi.verdict == "flat" or diff == 0 else ("↑" if diff > 0 else "↓")
    if kpi.unit == "%":
        points = (diff * 100).quantize(Decimal("0.01"))
        delta = t("digest.kpi.points", locale, points=f"{'+' if points > 0 else ''}{points.normalize():f}")
    elif kpi.change is not None:
        delta = fmt_signed_percent(kpi.change, EN)
    else:
        delta = t("digest.kpi.from_zero", locale)
    avg = fmt_number(kpi.trailing, kpi.unit, locale)
    if kpi.trailing_days and kpi.trailing_days < 7 and not kpi.is_ratio:
        versus = t("digest.kpi.vs_days", locale, arrow=arrow, delta=delta, avg=avg,
                   days=tn("digest.kpi.logged_days", kpi.trailing_days, locale))
    else:
        versus = t("digest.kpi.vs", locale, arrow=arrow, delta=delta, avg=avg)
    return f"{name} {versus}{significance(kpi, locale)}{coverage(kpi, locale)}"


def _versus_weekday(kpi: KpiChange, basis: KpiAlert, locale: str) -> str:
    """A coloured line's comparison: the value that was judged against its weekday's median (`↓ −42 % on JD vs
    a usual Sunday (¥20.0k)`), the very comparison that coloured it, never the 7-day average."""
    check = basis.check
    assert check.expected is not None
    arrow = "↑" if check.verdict == "high" else "↓"
    if kpi.unit == "%":
        points = ((check.value - check.expected) * 100).quantize(Decimal("0.01"))
        delta = t("digest.kpi.points", locale, points=f"{'+' if points > 0 else ''}{points.normalize():f}")
    elif check.expected != 0:
        delta = fmt_signed_percent((check.value - check.expected) / abs(check.expected), EN)
    else:
        delta = t("digest.kpi.from_zero", locale)
    # judged on some channels only: their own value beside their median, never the line's all-channel figure
    where = (t("digest.kpi.vs_weekday_where", locale, channel=esc(basis.channel) or t("digest.no_channel", locale),
               value=fmt_number(check.value, kpi.unit, locale))
             if basis.channel is not None and len(kpi.channels) > 1 else "")
    return t("digest.kpi.vs_weekday", locale, arrow=arrow, delta=delta, where=where,
             weekday=_weekday(check.day, locale), median=fmt_number(check.expected, kpi.unit, locale))


def significance(kpi: KpiChange, locale: str = DEFAULT_LOCALE) -> str:
    """Why a line is coloured, or not: ` · unusual for a Sunday (expected ¥9.0k–¥12.5k)`, ` · campaign C-2 live`."""
    check = kpi.basis.check if kpi.basis is not None else kpi.check
    if check is None:
        return ""
    if check.verdict == "campaign":
        return " · " + t("digest.kpi.campaign_live", locale, refs=_join(list(check.campaigns), locale))
    if check.verdict in ("high", "low") and check.low is not None and check.high is not None:
        return " · " + t("digest.kpi.unusual", locale, weekday=_weekday(check.day, locale),
                         low=fmt_number(check.low, kpi.unit, locale), high=fmt_number(check.high, kpi.unit, locale))
    return ""


def alert_reply(kpis: list[KpiChange], today: date, locale: str = DEFAULT_LOCALE) -> Reply | None:
    """The one threaded alert under a digest: each significant move, with its channel, expected range and
    actual value, and for GMV the split into traffic × conversion × AOV."""
    alerts = [a for k in kpis for a in k.alerts]
    if not alerts:
        return None
    lines = []
    for alert in alerts[:20]:
        check, unit = alert.check, alert.unit
        where = (t("digest.alert.where", locale, channel=esc(alert.channel) or t("digest.no_channel", locale))
                 if alert.channel is not None else "")
        arrow = "↑" if check.verdict == "high" else "↓"
        lines.append(
            f"{VERDICT_EMOJI['good' if check.tone == 'good' else 'bad']} *{_title(alert.metric)}*{where} {arrow} "
            + t("digest.alert.line", locale, value=fmt_number(check.value, unit, locale),
                low=fmt_number(check.low, unit, locale), high=fmt_number(check.high, unit, locale),
                median=fmt_number(check.expected, unit, locale), n=check.history_points,
                weekday=_weekday(check.day, locale))
            + why_line(alert, locale)
        )
    day = today - timedelta(days=1)
    b = Builder().section(":rotating_light: " + t("digest.alert.title", locale, day=_long_alert_day(day, locale)))
    b.lines_section(lines)
    b.context(t("digest.alert.note", locale))
    metrics = list(dict.fromkeys(a.metric for a in alerts))  # one alert a channel: each metric named once
    return b.build(text=t("digest.alert.plain", locale, day=fmt_day(day, locale),
                          names=_join([esc(m) for m in metrics[:5]], locale) + ("…" if len(metrics) > 5 else "")))


def _long_alert_day(day: date, locale: str) -> str:
    return f"{day:%a, %b} {day.day}" if resolve(locale) == EN else _day(day, weekday=True, locale=locale)


def why_line(alert: KpiAlert, locale: str = DEFAULT_LOCALE) -> str:
    """`\n   why: traffic −8 %, conversion −55 %, AOV +2 %` (log shares of the move) for a GMV alert."""
    split = alert.why.split if alert.why is not None else None
    if split is None:
        return ""
    parts = [(t(f"digest.why.{label}", locale), factor.change) for label, factor in
             (("traffic", split.traffic), ("conversion", split.conversion), ("aov", split.aov))]
    text = _join([t("digest.why.factor", locale, label=label, change=fmt_signed_percent(Decimal(str(round(change, 4))), locale))
                  for label, change in parts], locale)
    return "\n      " + t("digest.why.line", locale, parts=text)


def coverage(kpi: KpiChange, locale: str = DEFAULT_LOCALE) -> str:
    """` · 1 of 5 channels logged (JD, email… missing)`: said whenever a channel that usually logs is missing."""
    if not kpi.missing:
        return ""
    shown = _join([esc(c or t("digest.no_channel", locale)) for c in kpi.missing[:3]], locale)
    shown += "…" if len(kpi.missing) > 3 else ""
    total = len(kpi.channels) + len(kpi.missing)
    return " · " + t("digest.kpi.coverage", locale, n=len(kpi.channels), total=total, missing=shown)


# ---- campaigns and retros ------------------------------------------------------------------------

def campaign_item(c: DigestCampaign, today: date, locale: str = DEFAULT_LOCALE) -> str:
    if c.stage == "starting":
        when = t("digest.campaign.starts", locale, date=fmt_date(c.start_on, today, locale))
    elif c.stage == "ending":
        when = (t("digest.campaign.ends_today", locale) if c.end_on == today
                else t("digest.campaign.ends", locale, date=fmt_date(c.end_on, today, locale)))
    elif c.stage == "live":
        when = t("digest.campaign.live_until", locale, date=fmt_date(c.end_on, today, locale))
    else:
        when = t("digest.campaign.ended", locale)
    money = c.currency or None
    if c.budget:
        used = c.budget_used
        over = " :warning:" if used is not None and used > 1 else ""
        budget = " · " + t("digest.campaign.budget", locale, spend=fmt_number(c.spend, money, locale),
                           budget=fmt_number(c.budget, money, locale), pct=fmt_percent(used, locale)) + over
    elif c.spend:
        budget = " · " + t("digest.campaign.no_budget", locale, spend=fmt_number(c.spend, money, locale))
    else:
        budget = ""
    roi = f" · ROI {fmt_percent(c.roi, locale)}" if c.roi is not None else ""
    tasks = " · " + tn("digest.campaign.open_tasks", c.open_tasks, locale) if c.open_tasks else ""
    line = f"{STAGE_EMOJI[c.stage]} *C-{c.number}* {_title(c.name)} · {when}{budget}{roi}{tasks}"
    if c.stage == "ended":
        line += "\n      " + t("digest.campaign.review", locale, n=c.number)
    return line


def retro_item(r: DigestRetro, today: date, locale: str = DEFAULT_LOCALE) -> str:
    period = f"{_day(r.period_start, locale=locale)} – {_day(r.period_end, locale=locale)}"
    notes = tn("digest.retro.notes", r.notes, locale) if r.notes else t("digest.retro.no_notes", locale)
    title = _title(retro_title(r.kind, r.title, r.period_start, locale))
    return (f":speech_balloon: *R-{r.number}* {title} · {period} · {notes} · "
            + t("digest.retro.reply_in", locale, channel=f"<#{r.slack_channel_id}>"))


# ---- the message ---------------------------------------------------------------------------------

def digest_reply(data: DigestData, *, today: date, title: str | None = None, locale: str = DEFAULT_LOCALE) -> Reply:
    header = t("digest.header", locale, title=title or t("digest.title", locale), day=_long_day(today, locale))
    b = Builder().header(header)
    if data.is_empty:
        b.section(t("digest.empty_day", locale)).section(t("digest.get_started", locale))
        return b.build(in_channel=True, text=t("digest.empty_plain", locale, header=header))
    b.section(summary_line(data, locale))

    b.divider()
    if data.owners:
        urgent = urgent_tasks(data)
        if urgent:
            b.section(t("digest.tasks.urgent", locale))
            for task in urgent:
                for block in urgent_blocks(task, today, locale=locale):
                    b.add(block)
        rest = without(data.owners, {t.number for t in urgent})
        if rest:
            _sections(
                b,
                "tasks",
                t("digest.tasks.more_by_owner" if urgent else "digest.tasks.by_owner", locale),
                [owner_item(g, today, locale) for g in rest],
                more=t("digest.tasks.more", locale),
            )
    else:
        b.section(t("digest.tasks.none", locale))

    b.divider()
    if data.goals:
        _sections(
            b,
            "goals",
            t("digest.goals.title", locale),
            [goal_item(g, today, locale) for g in data.goals],
            more=t("digest.goals.more", locale),
        )
    else:
        b.section(t("digest.goals.none", locale))

    b.divider()
    yesterday = _day(today - timedelta(days=1), weekday=True, locale=locale)
    if data.kpis:
        _sections(
            b,
            "kpis",
            t("digest.kpis.title", locale, day=yesterday),
            [kpi_line(k, locale) for k in data.kpis],
            more=t("digest.kpis.more", locale),
        )
    else:
        b.section(t("digest.kpis.none", locale, day=yesterday))

    if data.campaigns:
        b.divider()
        _sections(
            b,
            "campaigns",
            t("digest.campaigns.title", locale),
            [campaign_item(c, today, locale) for c in data.campaigns],
            more=t("digest.campaigns.more", locale),
        )

    if data.retros:
        b.divider()
        _sections(
            b,
            "retros",
            t("digest.retros.title", locale),
            [retro_item(r, today, locale) for r in data.retros],
            more=t("digest.retros.more", locale),
        )

    b.context(t("digest.footer", locale))
    reply = b.build(in_channel=True, text=fallback_text(data, header=header, locale=locale))
    reply.blocks = mark_locale(reply.blocks, locale)  # a click on a task's buttons redraws it in this language
    return reply


def _sections(b: Builder, kind: str, title: str, lines: list[str], *, more: str) -> None:
    """A titled list as few sections as its share of the message allows; the rest is counted."""
    items, blocks = LIMITS[kind]
    for text in _pack(title, lines, max_items=items, max_blocks=blocks, more=more):
        b.section(text)


def _and_more(n: int, locale: str) -> str:
    return t("digest.plain.and_more", locale, n=n) if n > 0 else ""


def fallback_text(data: DigestData, *, header: str, locale: str = DEFAULT_LOCALE) -> str:
    """The notification and screen-reader version: the same summary, a few names, no mentions."""
    lines = [t("digest.plain.head", locale, header=header, summary=summary_line(data, locale))]
    overdue = [t for g in data.owners for t in g.overdue]
    if overdue:
        overdue.sort(key=lambda t: (t.due_on or data.today, t.number))
        names = _join([f"T-{t.number} {_short(t.title)}" for t in overdue[:5]], locale)
        lines.append(t("digest.plain.overdue", locale, names=names) + _and_more(len(overdue) - 5, locale))
    behind = [g for g in data.goals if g.progress.status in (MISSED, OFF_TRACK, AT_RISK)]
    if behind:
        names = _join([t("digest.plain.named", locale, name=f"G-{g.number} {_short(g.title)}",
                         state=pace_label(g.progress.status, locale)) for g in behind[:5]], locale)
        lines.append(t("digest.plain.behind", locale, names=names) + _and_more(len(behind) - 5, locale))
    if data.kpis:
        good = sum(1 for k in data.kpis if k.verdict == "good")
        bad = sum(1 for k in data.kpis if k.verdict == "bad")
        lines.append(t("digest.plain.kpis", locale, good=good, bad=bad, rest=len(data.kpis) - good - bad))
    if data.campaigns:
        names = _join([t("digest.plain.named", locale, name=f"C-{c.number} {_short(c.name)}",
                         state=t(f"digest.stage.{c.stage}", locale)) for c in data.campaigns[:5]], locale)
        lines.append(t("digest.plain.campaigns", locale, names=names))
    if data.retros:
        lines.append(t("digest.plain.retros", locale, names=_join([f"R-{r.number} {_short(retro_title(r.kind, r.title, r.period_start, locale))}"
                                                                    for r in data.retros[:5]], locale)))
    return truncate("\n".join(lines), FALLBACK_TEXT)
