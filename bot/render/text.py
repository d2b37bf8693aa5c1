"""Plain-text formatting shared by every reply: mrkdwn escaping, numbers, dates, people."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CURRENCY_UNITS = ("¥", "$", "€", "£")


# Slack text, one rule everywhere:
# 1. In: Slack sends message and slash-command text with `&`, `<`, `>` typed by the person escaped as
#    `&amp;`, `&lt;`, `&gt;`; its own markup (<@U123>, <#C123|name>, <https://…|label>, <!here>) arrives as is.
#    `slack_unescape` undoes the entities at the edge, outside that markup, which stays exactly as sent.
#    What is stored is what the person typed ("R&D", "<again>"), with Slack's markup tokens in it.
# 2. Out: stored text is escaped exactly once when it is put into mrkdwn: `esc` shows everything literally
#    (titles: a typed `<!channel>` never pings), `esc_keep_mentions` keeps people, channels and links live
#    (a retro summary quoting the thread) and still shows special mentions (<!channel>, <!here>) literally.

#: any Slack markup span: <@U123|ana>, <#C123|name>, <!channel>, <https://x.y|label>, <mailto:…>
SLACK_SPAN = re.compile(r"<(?:[@#!]|[A-Za-z][A-Za-z0-9+.\-]*:)[^<>\n]*>")
#: the spans that may stay live when shown again: a person, a channel, a link (never <!here>, <!channel>, groups)
LIVE_SPAN = re.compile(
    r"<@[UW][A-Z0-9]+(?:\|[^<>\n]*)?>"
    r"|<#[CG][A-Z0-9]+(?:\|[^<>\n]*)?>"
    r"|<(?:https?|mailto):[^<>|\s]+(?:\|[^<>\n]*)?>",
    re.IGNORECASE,
)
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def esc(text: str | None) -> str:
    """User-typed text shown in mrkdwn: `<!channel>` typed into a title must never ping anyone."""
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def map_outside(spans: re.Pattern[str], text: str, change: Callable[[str], str]) -> str:
    """`change` applied to the text between the matches of `spans`; the matches stay exactly as they are."""
    out: list[str] = []
    pos = 0
    for m in spans.finditer(text):
        out.append(change(text[pos : m.start()]))
        out.append(m.group())
        pos = m.end()
    out.append(change(text[pos:]))
    return "".join(out)


def unescape_entities(text: str) -> str:
    """Slack's `&amp;`, `&lt;`, `&gt;` → `&`, `<`, `>`."""
    return _ENTITY.sub(lambda e: _ENTITIES[e.group(1)], text)


def slack_unescape(text: str | None) -> str:
    """Text as Slack sends it (message events, slash commands) → as the person typed it.

    `R&amp;D &lt;again&gt; <@U1>` → `R&D <again> <@U1>`: Slack's entities are undone outside its markup;
    the markup spans stay exactly as sent (entities inside a link's URL or label included), so they can
    be shown live again by `esc_keep_mentions`.
    """
    return map_outside(SLACK_SPAN, text, unescape_entities) if text else ""


def esc_keep_mentions(text: str | None) -> str:
    """Stored user text (see `slack_unescape`) for mrkdwn, escaped once: "R&D <again>" shows as typed,
    <@U1>, <#C1|x> and <https://…|label> stay live, and special mentions (<!channel>, <!here>) show literally."""
    return map_outside(LIVE_SPAN, text, esc) if text else ""


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _group(value: Decimal, places: int) -> str:
    q = Decimal(1).scaleb(-places) if places else Decimal(1)
    rounded = value.quantize(q, rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def fmt_number(value: Decimal | None, unit: str | None = None) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return _group(value * 100, 2) + "%"
    places = 2 if abs(value) < 1000 else 0
    if abs(value) < 1 and value != 0:
        places = 4
    text = _group(value, places)
    if unit in CURRENCY_UNITS:
        return ("-" if value < 0 else "") + unit + text.lstrip("-")
    if unit:
        return f"{text} {unit}"
    return text


def fmt_percent(fraction: Decimal | None) -> str:
    if fraction is None:
        return "—"
    return _group(fraction * 100, 0 if abs(fraction) >= Decimal("0.1") else 1) + "%"


def fmt_signed_percent(fraction: Decimal | None) -> str:
    if fraction is None:
        return "—"
    sign = "+" if fraction > 0 else ""
    return sign + fmt_percent(fraction)


def fmt_date(day: date | None, today: date | None = None) -> str:
    if day is None:
        return "no date"
    if today is not None:
        delta = (day - today).days
        if delta == 0:
            return "today"
        if delta == 1:
            return "tomorrow"
        if delta == -1:
            return "yesterday"
        if 1 < delta < 7:
            return day.strftime("%a %b %-d")
    if today is not None and day.year == today.year:
        return day.strftime("%b %-d")
    return day.strftime("%b %-d, %Y")


def mention(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else "_unassigned_"


def bar(fraction: Decimal | None, width: int = 10) -> str:
    """A small text progress bar that renders in any Slack client."""
    if fraction is None:
        return "░" * width
    filled = max(0, min(width, int((fraction * width).to_integral_value(rounding=ROUND_HALF_UP))))
    return "█" * filled + "░" * (width - filled)
