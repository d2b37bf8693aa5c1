"""Retrospective posts: the thread parent with the period's results and prompts, and the closing summary."""

from __future__ import annotations

from datetime import date

from bot.i18n import DEFAULT_LOCALE, EN
from bot.i18n.fmt import fmt_date, fmt_number, fmt_percent, fmt_signed_percent, mention
from bot.metrics import change
from bot.render.reply import Builder, Reply
from bot.render.views import retro_actions_block
from bot.services.retros import RetroCard, RetroGoal, RetroKpi, RetroResults, SummaryNote, SummaryTask
from bot.slack_text import esc, esc_keep_mentions

PROMPTS = (
    (":sunny:", "What went well?", "went well:"),
    (":cloud:", "What did not go well?", "didn't:"),
    (":seedling:", "What do we try next?", "try:"),
)
HEADINGS = {"well": ":sunny: Went well", "not": ":cloud: Did not go well", "try": ":seedling: Try next", "note": ":speech_balloon: Notes"}


def goal_line(goal: RetroGoal) -> str:
    """`• *G-3* 新客 10k: 4,200 of 10,000 (42%) · at risk`; with no value yet, no empty `(—)` after it. The % is
    the goal's "% of target" (bot.metrics), the same figure the digest and `/goal show` give."""
    unit = goal.unit
    line = f"• *{goal.ref}* {esc(goal.title)}: {fmt_number(goal.current, unit, EN)} of {fmt_number(goal.target, unit, EN)}"
    if goal.attained is not None:
        line += f" ({fmt_percent(goal.attained, EN)})"
    return line + (f" · {goal.status}" if goal.status else "")


def kpi_line(kpi: RetroKpi) -> str:
    """`• orders: 468 (+12% vs the 7 days before :arrow_upper_right:)`: the period's days that are over against as
    many days just before it; with nothing like-for-like to compare, the value alone and why."""
    line = f"• {esc(kpi.name)}: {fmt_number(kpi.value, kpi.unit, EN)}"
    so_far = f"first {kpi.days} of {kpi.period_days} days" if 0 < kpi.days < kpi.period_days else ""
    if kpi.why_not == "none":
        return line + " (no day of this period is over yet)"
    delta = change(kpi.value, kpi.previous)
    if delta is None:
        reason = "too little data before to compare" if kpi.why_not == "thin" else ""
        extra = ", ".join(p for p in (so_far, reason) if p)
        return line + (f" ({extra})" if extra else "")
    versus = f"vs the {kpi.days} day{'s' if kpi.days != 1 else ''} before"
    head = f"{so_far}, " if so_far else ""
    if delta == 0:
        return line + f" ({head}{fmt_signed_percent(delta, EN)} {versus})"
    arrow = ":arrow_upper_right:" if delta > 0 else ":arrow_lower_right:"
    warn = " :warning:" if (delta > 0) != (kpi.better == "up") else ""
    return line + f" ({head}{fmt_signed_percent(delta, EN)} {versus} {arrow}{warn})"


def parent_post(retro: RetroCard, data: RetroResults, *, today: date, locale: str = DEFAULT_LOCALE) -> Reply:
    b = Builder().header(f"Retrospective R-{retro.number}: {retro.title}")
    b.context(f"{fmt_date(retro.period_start, today, EN)} – {fmt_date(retro.period_end, today, EN)}")
    lines = [goal_line(goal) for goal in data.goals]
    if lines:
        b.section("*Goals*\n" + "\n".join(lines))
    kpi_lines = [kpi_line(kpi) for kpi in data.kpis]
    if kpi_lines:
        b.section("*KPIs*\n" + "\n".join(kpi_lines))
    if data.spend is not None:
        budget = f" of {fmt_number(data.budget, data.currency, EN)}" if data.budget else ""
        roi = f" · ROI {fmt_percent(data.roi, EN)}" if data.roi is not None else ""
        b.section(f"*Spend* {fmt_number(data.spend, data.currency, EN)}{budget}{roi}")
    if not (lines or kpi_lines or data.spend is not None):
        b.section("_No goals or KPIs recorded for this period yet._")
    b.divider()
    b.section("\n".join(f"{emoji} *{question}* Reply in this thread starting with `{prefix}`" for emoji, question, prefix in PROMPTS))
    b.context(
        f"Action items: a line starting with `action:` becomes a task, its @mention the owner (`due:fri` sets the date). "
        f"`/retro close R-{retro.number}` posts the summary."
    )
    reply = b.build(text=f"Retrospective R-{retro.number}: {esc(retro.title)} — reply in the thread: went well / didn't / try next")
    reply.blocks = [*reply.blocks[:49], retro_actions_block(retro.number, locale=locale)]  # Add a note… · Close retro
    return reply


def summary_post(retro: RetroCard, notes: list[SummaryNote], tasks: list[SummaryTask], *, today: date) -> Reply:
    b = Builder().section(f":checkered_flag: *R-{retro.number} closed* · {len(notes)} note{'s' if len(notes) != 1 else ''}")
    for category in ("well", "not", "try", "note"):
        items = [n for n in notes if n.category == category]
        if items:
            # Notes are stored as typed (see bot.slack_text.slack_unescape): escaped once, mentions and links live.
            b.lines_section([HEADINGS[category]] + [f"• {esc_keep_mentions(n.text)} — {mention(n.user_id, EN)}" for n in items])
    if tasks:
        b.lines_section(
            [":white_check_mark: *Action items → tasks*"]
            + [
                f"• *T-{t.number}* {esc_keep_mentions(t.title)} · owner {mention(t.owner_id, EN)}"
                + (f" · due {fmt_date(t.due_on, today, EN)}" if t.due_on else "")
                for t in tasks
            ]
        )
    else:
        b.context("No action items this time.")
    return b.build(text=f"R-{retro.number} closed: {len(notes)} notes, {len(tasks)} tasks created")
