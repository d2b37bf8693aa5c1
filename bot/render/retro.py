"""Retrospective posts: the thread parent with the period's results and prompts, and the closing summary."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.i18n import DEFAULT_LOCALE
from bot.render.reply import Builder, Reply
from bot.render.text import (
    esc,
    esc_keep_mentions,
    fmt_date,
    fmt_number,
    fmt_percent,
    fmt_signed_percent,
    mention,
)
from bot.render.views import retro_actions_block
from bot.services.retros import RetroResults
from storage.models import Retro, RetroNote, Task

PROMPTS = (
    (":sunny:", "What went well?", "went well:"),
    (":cloud:", "What did not go well?", "didn't:"),
    (":seedling:", "What do we try next?", "try:"),
)
HEADINGS = {"well": ":sunny: Went well", "not": ":cloud: Did not go well", "try": ":seedling: Try next", "note": ":speech_balloon: Notes"}


def goal_line(ref: str, title: str, current: Decimal | None, target: Decimal, unit: str | None, status: str | None) -> str:
    """`• *G-3* 新客 10k: 4,200 of 10,000 (42%) · at risk`; with no value yet, no empty `(—)` after it."""
    line = f"• *{ref}* {esc(title)}: {fmt_number(current, unit)} of {fmt_number(target, unit)}"
    if current is not None and target:
        line += f" ({fmt_percent(current / target)})"
    return line + (f" · {status}" if status else "")


def kpi_line(name: str, now_value: Decimal | None, before: Decimal | None, unit: str | None, better: str) -> str:
    """`• orders: 468 (+12% vs previous period :arrow_upper_right:)`; with nothing to compare, the value alone."""
    line = f"• {esc(name)}: {fmt_number(now_value, unit)}"
    if now_value is None or before is None or before == 0:
        return line
    delta = (now_value - before) / abs(before)
    if delta == 0:
        return line + f" ({fmt_signed_percent(delta)} vs previous period)"
    arrow = ":arrow_upper_right:" if delta > 0 else ":arrow_lower_right:"
    warn = " :warning:" if (delta > 0) != (better == "up") else ""
    return line + f" ({fmt_signed_percent(delta)} vs previous period {arrow}{warn})"


def parent_post(retro: Retro, data: RetroResults, *, today: date, locale: str = DEFAULT_LOCALE) -> Reply:
    b = Builder().header(f"Retrospective R-{retro.number}: {retro.title}")
    b.context(f"{fmt_date(retro.period_start, today)} – {fmt_date(retro.period_end, today)}")
    lines = [goal_line(ref, title, current, target, unit, status) for ref, title, current, target, unit, status in data.goals]
    if lines:
        b.section("*Goals*\n" + "\n".join(lines))
    kpi_lines = [kpi_line(name, now_value, before, unit, better) for name, now_value, before, unit, better in data.kpis]
    if kpi_lines:
        b.section("*KPIs*\n" + "\n".join(kpi_lines))
    if data.spend is not None:
        budget = f" of {fmt_number(data.budget, data.currency)}" if data.budget else ""
        roi = f" · ROI {fmt_percent(data.roi)}" if data.roi is not None else ""
        b.section(f"*Spend* {fmt_number(data.spend, data.currency)}{budget}{roi}")
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


def summary_post(retro: Retro, notes: list[RetroNote], tasks: list[Task], *, today: date) -> Reply:
    b = Builder().section(f":checkered_flag: *R-{retro.number} closed* · {len(notes)} note{'s' if len(notes) != 1 else ''}")
    for category in ("well", "not", "try", "note"):
        items = [n for n in notes if n.category == category]
        if items:
            # Notes are stored as typed (see bot.render.text.slack_unescape): escaped once, mentions and links live.
            b.lines_section([HEADINGS[category]] + [f"• {esc_keep_mentions(n.text)} — {mention(n.user_id)}" for n in items])
    if tasks:
        b.lines_section(
            [":white_check_mark: *Action items → tasks*"]
            + [
                f"• *T-{t.number}* {esc_keep_mentions(t.title)} · owner {mention(t.owner_id)}"
                + (f" · due {fmt_date(t.due_on, today)}" if t.due_on else "")
                for t in tasks
            ]
        )
    else:
        b.context("No action items this time.")
    return b.build(text=f"R-{retro.number} closed: {len(notes)} notes, {len(tasks)} tasks created")
