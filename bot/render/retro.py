"""Retrospective posts: the thread parent with the period's results and prompts, and the closing summary, in the
team language of the retro's channel."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.i18n import DEFAULT_LOCALE, EN, resolve, t, tn
from bot.i18n.fmt import fmt_date, fmt_number, fmt_percent, fmt_signed_percent, mention
from bot.metrics import change
from bot.render.reply import Builder, Reply
from bot.render.views import pace_label, retro_actions_block
from bot.services.retros import RetroCard, RetroGoal, RetroKpi, RetroResults, SummaryNote, SummaryTask
from bot.slack_text import esc, esc_keep_mentions

#: (emoji, catalog key): the three prompts; each key has `.question` and `.prefix` (a prefix classify() reads)
PROMPTS = ((":sunny:", "retro.prompt.well"), (":cloud:", "retro.prompt.not"), (":seedling:", "retro.prompt.try"))
CATEGORIES = ("well", "not", "try", "note")


def retro_title(kind: str | None, title: str, start: date | None, locale: str = DEFAULT_LOCALE) -> str:
    """A retro's title as the post's reader reads it: a month or quarter retro's stored (English) period name
    ("November 2026", "Q4 2026") written in Chinese for a Chinese channel; any other title as typed."""
    if resolve(locale) == EN or start is None or kind not in ("month", "quarter"):
        return title
    if kind == "quarter":
        return t("retro.title.quarter", locale, year=start.year, q=(start.month - 1) // 3 + 1)
    return t("retro.title.month", locale, year=start.year, month=t(f"error.parse.month.{start.month}", locale))


def goal_line(goal: RetroGoal, locale: str = DEFAULT_LOCALE) -> str:
    """`• *G-3* 新客 10k: 4,200 of 10,000 (42%) · at risk`; with no value yet, no empty `(—)` after it. The % is
    the goal's "% of target" (bot.metrics), the same figure the digest and `/goal show` give."""
    unit = goal.unit
    line = t("retro.goal_line", locale, ref=goal.ref, title=esc(goal.title), current=fmt_number(goal.current, unit, locale),
             target=fmt_number(goal.target, unit, locale))
    if goal.attained is not None:
        line += t("retro.paren", locale, text=fmt_percent(goal.attained, locale))
    return line + (f" · {pace_label(goal.status, locale)}" if goal.status else "")


def kpi_line(kpi: RetroKpi, locale: str = DEFAULT_LOCALE) -> str:
    """`• orders: 468 (+12% vs the 7 days before :arrow_upper_right:)`: the period's days that are over against as
    many days just before it; with nothing like-for-like to compare, the value alone and why."""
    line = t("retro.kpi_line", locale, name=esc(kpi.name), value=fmt_number(kpi.value, kpi.unit, locale))
    so_far = t("retro.kpi.so_far", locale, days=kpi.days, total=kpi.period_days) if 0 < kpi.days < kpi.period_days else ""
    if kpi.why_not == "none":
        return line + t("retro.paren", locale, text=t("retro.kpi.none_over", locale))
    delta = change(kpi.value, kpi.previous)
    if delta is None:
        reason = t("retro.kpi.thin", locale) if kpi.why_not == "thin" else ""
        extra = t("list.separator", locale).join(p for p in (so_far, reason) if p)
        return line + (t("retro.paren", locale, text=extra) if extra else "")
    versus = tn("retro.kpi.versus", kpi.days, locale)
    head = t("retro.kpi.head", locale, so_far=so_far) if so_far else ""
    marks = ""
    shown = fmt_signed_percent(delta, locale)
    if shown != fmt_signed_percent(Decimal(0), locale):  # a change that shows as 0% gets no arrow and no warning
        arrow = ":arrow_upper_right:" if delta > 0 else ":arrow_lower_right:"
        warn = " :warning:" if (delta > 0) != (kpi.better == "up") else ""
        marks = f" {arrow}{warn}"
    return line + t("retro.kpi.compared", locale, head=head, delta=shown, versus=versus, marks=marks)


def parent_post(retro: RetroCard, data: RetroResults, *, today: date, locale: str = DEFAULT_LOCALE) -> Reply:
    title = retro_title(retro.kind, retro.title, retro.period_start, locale)
    b = Builder().header(t("retro.post.header", locale, n=retro.number, title=title))
    b.context(f"{fmt_date(retro.period_start, today, locale, relative=False)} – "
              f"{fmt_date(retro.period_end, today, locale, relative=False)}")  # the thread stays: no "yesterday"
    lines = [goal_line(goal, locale) for goal in data.goals]
    if lines:
        b.section(t("retro.post.goals", locale) + "\n" + "\n".join(lines))
    kpi_lines = [kpi_line(kpi, locale) for kpi in data.kpis]
    if kpi_lines:
        head = (t("retro.post.kpis_on", locale, channels=t("list.separator", locale).join(esc(c) for c in data.channels))
                if data.channels else t("retro.post.kpis", locale))
        b.section(head + "\n" + "\n".join(kpi_lines))
    if data.spend is not None:
        budget = t("retro.post.budget", locale, budget=fmt_number(data.budget, data.currency, locale)) if data.budget else ""
        roi = f" · ROI {fmt_percent(data.roi, locale)}" if data.roi is not None else ""
        b.section(t("retro.post.spend", locale, spend=fmt_number(data.spend, data.currency, locale)) + budget + roi)
    if not (lines or kpi_lines or data.spend is not None):
        b.section(t("retro.post.empty", locale))
    b.divider()
    b.section("\n".join(
        t("retro.prompt", locale, emoji=emoji, question=t(f"{key}.question", locale), prefix=t(f"{key}.prefix", locale))
        for emoji, key in PROMPTS
    ))
    b.context(t("retro.post.how", locale, n=retro.number))
    reply = b.build(text=t("retro.post.plain", locale, n=retro.number, title=esc(title)))
    reply.blocks = [*reply.blocks[:49], retro_actions_block(retro.number, locale=locale)]  # Add a note… · Close retro
    return reply


def summary_post(retro: RetroCard, notes: list[SummaryNote], tasks: list[SummaryTask], *, today: date, locale: str = DEFAULT_LOCALE) -> Reply:
    b = Builder().section(":checkered_flag: " + t("retro.summary.head", locale, n=retro.number,
                                                  notes=tn("retro.summary.notes", len(notes), locale)))
    for category in CATEGORIES:
        items = [n for n in notes if n.category == category]
        if items:
            # Notes are stored as typed (see bot.slack_text.slack_unescape): escaped once, mentions and links live.
            b.lines_section([t(f"retro.summary.heading.{category}", locale)]
                            + [t("retro.summary.note", locale, text=esc_keep_mentions(n.text), who=mention(n.user_id, locale))
                               for n in items])
    if tasks:
        b.lines_section(
            [t("retro.summary.tasks", locale)]
            + [
                t("retro.closed_task", locale, ref=f"T-{task.number}", title=esc_keep_mentions(task.title),
                  owner=mention(task.owner_id, locale))
                + (t("retro.closed_task_due", locale, date=fmt_date(task.due_on, today, locale, relative=False))
                   if task.due_on else "")
                for task in tasks
            ]
        )
    else:
        b.context(t("retro.summary.no_actions", locale))
    return b.build(text=t("retro.summary.plain", locale, ref=f"R-{retro.number}", notes=len(notes), tasks=len(tasks)))
