"""Plain-text formatting shared by every reply: mrkdwn escaping, numbers, dates, people."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CURRENCY_UNITS = ("¥", "$", "€", "£")


def esc(text: str | None) -> str:
    """User-typed text shown in mrkdwn: `<!channel>` typed into a title must never ping anyone."""
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
