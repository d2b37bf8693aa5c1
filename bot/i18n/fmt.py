"""Numbers, percentages, dates and people as the reader's language writes them: the one `fmt_*` family.

Every function takes the reader's locale (None or an unknown tag is English). English and Chinese write
numbers alike, except that Chinese writes amounts from 100,000 up in 万 and 亿; dates are relative where
that helps (today, tomorrow, a weekday this week) and otherwise in the language's order.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from bot.i18n import ZH_CN, resolve, t
from bot.slack_text import user_mention

CURRENCY_UNITS = ("¥", "$", "€", "£")
NO_VALUE = "—"
ZH_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def _group_digits(value: Decimal, places: int, *, all_or_none: bool = False) -> str:
    """`value` rounded half up to `places` decimals, thousands grouped, trailing zeros dropped: 12,500 · 0.25;
    with `all_or_none` the decimals are all kept or, when they are all zero, dropped (money: ¥862.50, ¥862)."""
    q = Decimal(1).scaleb(-places) if places else Decimal(1)
    rounded = value.quantize(q, rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{places}f}"
    if "." in text and (not all_or_none or rounded == rounded.to_integral_value()):
        text = text.rstrip("0").rstrip(".")
    return text


def with_currency(text: str, negative: bool, unit: str | None) -> str:
    """A written number with its currency before it, after the sign (-¥1,200); other units leave it as it is."""
    if unit in CURRENCY_UNITS:
        return ("-" if negative else "") + unit + text.lstrip("-")
    return text


def _with_unit(text: str, negative: bool, unit: str | None) -> str:
    """A written number and its unit: a currency before it (-¥1,200), any other unit after it (310 orders)."""
    if unit in CURRENCY_UNITS:
        return with_currency(text, negative, unit)
    if unit:
        return f"{text} {unit}"
    return text


def fmt_number(value: Decimal | None, unit: str | None, locale: str | None) -> str:
    """2 decimals below 1,000 (4 below 1), none from 1,000 up; money has 2 decimals or none (¥862.50, ¥862,
    ¥0.05); a `%` unit shows a fraction as a percentage; in Chinese, amounts from 100,000 up are written in
    万 and 亿."""
    if value is None:
        return NO_VALUE
    if unit == "%":
        return _group_digits(value * 100, 2) + "%"
    if resolve(locale) == ZH_CN and abs(value) >= 100_000:
        if abs(value) >= 100_000_000:
            scaled, suffix = value / Decimal(100_000_000), "亿"
        else:
            scaled, suffix = value / Decimal(10_000), "万"
        return _with_unit(_group_digits(scaled, 2) + suffix, value < 0, unit)
    money = unit in CURRENCY_UNITS  # money has cents or none: ¥862.50, never ¥862.5
    places = 2 if abs(value) < 1000 else 0
    if abs(value) < 1 and value != 0 and not money:
        places = 4
    return _with_unit(_group_digits(value, places, all_or_none=money), value < 0, unit)


def fmt_percent(fraction: Decimal | None, locale: str | None) -> str:
    """A fraction as a whole percentage, with one decimal below 10 %: 0.42 → 42%, 0.055 → 5.5%."""
    if fraction is None:
        return NO_VALUE
    return _group_digits(fraction * 100, 0 if abs(fraction) >= Decimal("0.1") else 1) + "%"


def fmt_signed_percent(fraction: Decimal | None, locale: str | None) -> str:
    """A change as a percentage with its sign: +12%, -3.5%, and 0% (no sign) for any change that rounds to zero."""
    if fraction is None:
        return NO_VALUE
    shown = fmt_percent(abs(fraction), locale)
    if shown == "0%":  # a change too small to show is no change: never "-0%" or "+0%"
        return shown
    return ("+" if fraction > 0 else "-") + shown


def fmt_date(day: date | None, today: date | None, locale: str | None, *, relative: bool = True) -> str:
    """Relative where it helps (today, tomorrow, a weekday this week), else a short date in the locale's order.

    `relative=False` for what stays in a channel (announcements, retro posts): read next week, "tomorrow" would
    be wrong, so the date is written out (its year only when it is not this year's)."""
    loc = resolve(locale)
    if day is None:
        return t("common.no_date", loc)
    zh = loc == ZH_CN
    if today is not None and relative:
        delta = (day - today).days
        if delta == 0:
            return "今天" if zh else "today"
        if delta == 1:
            return "明天" if zh else "tomorrow"
        if delta == -1:
            return "昨天" if zh else "yesterday"
        if 1 < delta < 7:
            return f"{ZH_WEEKDAYS[day.weekday()]} {day.month}月{day.day}日" if zh else day.strftime("%a %b %-d")
    if today is not None and day.year == today.year:
        return f"{day.month}月{day.day}日" if zh else day.strftime("%b %-d")
    return f"{day.year}年{day.month}月{day.day}日" if zh else day.strftime("%b %-d, %Y")


def fmt_day(day: date, locale: str | None) -> str:
    """An absolute date with its weekday (for headers): "Mon, Nov 23" / "11月23日 周一"."""
    if resolve(locale) == ZH_CN:
        return f"{day.month}月{day.day}日 {ZH_WEEKDAYS[day.weekday()]}"
    return f"{day:%a, %b} {day.day}"


def mention(user_id: str | None, locale: str | None) -> str:
    """A person's live mention, or "unassigned" in the reader's language."""
    return user_mention(user_id) if user_id else t("common.unassigned", locale)


def bar(fraction: Decimal | None, width: int = 10) -> str:
    """A fraction as a small text progress bar that renders in any Slack client (the same in every language)."""
    if fraction is None:
        return "░" * width
    filled = max(0, min(width, int((fraction * width).to_integral_value(rounding=ROUND_HALF_UP))))
    return "█" * filled + "░" * (width - filled)
