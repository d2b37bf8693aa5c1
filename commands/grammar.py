"""Pure, Slack-free parsing of slash-command text: tokens, options, dates, numbers, users, refs and tags."""

from __future__ import annotations

import calendar
import functools
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext

from bot.errors import LocalizedError
from bot.i18n import Msg, msg
from bot.slack_text import SLACK_SPAN, slack_unescape, unescape_entities

__all__ = [
    "REF_KINDS",
    "Number",
    "ParseError",
    "Parsed",
    "Token",
    "UserRef",
    "first_word",
    "format_ref",
    "is_user_token",
    "parse_args",
    "parse_choice",
    "parse_date",
    "parse_number",
    "parse_record",
    "parse_ref",
    "parse_tags",
    "parse_time_of_day",
    "parse_url",
    "parse_user",
    "parse_weekdays",
    "parse_zone",
    "ref_shaped",
    "tokenize",
]


class ParseError(LocalizedError):
    """Bad user input, said in plain words: `ParseError.of("error.parse.date.unknown", value=…, hint=…)`.

    `.message` is the English text ("`soonish` isn't a date I understand — use …"), `.text(locale)` the
    reader's; a plain string still works (`ParseError("…")`) and reads the same in every language.
    """


# --------------------------------------------------------------------------- helpers

# Full-width ASCII (Ａ-ｚ, ０-９, ：, ＋, ％, …) and the ideographic space fold to plain ASCII;
# ￥ becomes ¥ and the Unicode minus sign a hyphen-minus.
_HALFWIDTH: dict[int, int] = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HALFWIDTH[0x3000] = 0x20
_HALFWIDTH[0xFFE5] = ord("¥")
_HALFWIDTH[0x2212] = ord("-")


def _norm(value: str) -> str:
    """Full-width to half-width, trimmed: the form every value parser works on."""
    return value.translate(_HALFWIDTH).strip()


def _q(value: str, limit: int = 40) -> str | Msg:
    """Quote what the user typed in backticks for a message (short, and without breaking the code span)."""
    shown = value.replace("`", "'").replace("\n", " ").strip()
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return f"`{shown}`" if shown else msg("error.parse.nothing")


def _ascii_lower(value: str) -> str:
    return "".join(ch.lower() if ch.isascii() else ch for ch in value)


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Token:
    text: str  # the value, quotes removed
    quoted: bool  # came from "…", “…”, 「…」, ＂…＂ or 『…』
    raw: str  # as typed


# Slack escapes a typed "<" as "&lt;", so a real "<" only ever starts a Slack span (bot.slack_text.SLACK_SPAN).
_WESTERN_QUOTES = '"“”'
_CLOSERS: dict[str, str] = {
    '"': _WESTERN_QUOTES,
    "“": _WESTERN_QUOTES,
    "”": _WESTERN_QUOTES,
    "＂": "＂",
    "「": "」",
    "『": "』",
}
_KEY_SEP_PREFIX_RE = re.compile(r"[A-Za-z][A-Za-z_-]*[:=：＝]")




def _find_close(text: str, pos: int, opener: str) -> int:
    """Index of the quote closing `opener` from pos on (skipping Slack spans), or -1."""
    closers = _CLOSERS[opener]
    n = len(text)
    while pos < n:
        ch = text[pos]
        if ch == "<":
            m = SLACK_SPAN.match(text, pos)
            if m:
                pos = m.end()
                continue
        if ch in closers:
            return pos
        pos += 1
    return -1


def _unterminated(text: str, start: int, opener: str) -> ParseError:
    closer = {"“": "”", "”": "”"}.get(opener, _CLOSERS[opener][0])
    return ParseError.of("error.parse.quote_unclosed", text=_q(text[start:], 30), closer=closer)


def _ends_token(text: str, pos: int) -> bool:
    return pos >= len(text) or text[pos].isspace()


def _scan(text: str, start: int) -> tuple[Token, int]:
    """Read one token starting at a non-space character; return it and the index after it."""
    n = len(text)
    first = text[start]
    if first in _CLOSERS:
        end = _find_close(text, start + 1, first)
        if end == -1:
            raise _unterminated(text, start, first)
        if _ends_token(text, end + 1):
            return Token(" ".join(slack_unescape(text[start + 1 : end]).split()), True, text[start : end + 1]), end + 1
        # `"a b"c`: the quote is not a grouping quote after all; read the token as plain text.
    i = start
    while i < n and not text[i].isspace():
        ch = text[i]
        if ch == "<":
            m = SLACK_SPAN.match(text, i)
            if m:
                i = m.end()
                continue
        if ch in _CLOSERS and i > start and _KEY_SEP_PREFIX_RE.fullmatch(text, start, i):
            # key:"quoted value"
            end = _find_close(text, i + 1, ch)
            if end == -1:
                raise _unterminated(text, i, ch)
            if _ends_token(text, end + 1):
                value = slack_unescape(text[i + 1 : end])
                return Token(text[start:i] + value, False, text[start : end + 1]), end + 1
        i += 1
    raw = text[start:i]
    return Token(slack_unescape(raw), False, raw), i


def tokenize(text: str) -> list[Token]:
    """Split on any whitespace; quotes group words; Slack <…> spans are single tokens."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        token, i = _scan(text, i)
        tokens.append(token)
    return tokens


# --------------------------------------------------------------------------- options


@dataclass
class Parsed:
    words: list[Token]  # positional tokens in order (not options)
    options: dict[str, str]  # key (lower-cased, canonical) -> value (quotes removed)

    def text(self) -> str:
        """The positional words joined by single spaces (quoted ones as their text)."""
        return " ".join(word.text for word in self.words if word.text)


_OPTION_RE = re.compile(r"([A-Za-z][A-Za-z_-]*)[:=：＝](.*)", re.DOTALL)


def _option_match(text: str) -> re.Match[str] | None:
    """`key:value`, the key also in full-width letters (ｄｕｅ：ｆｒｉ is due:ｆｒｉ; values fold when parsed)."""
    m = _OPTION_RE.fullmatch(text)
    if m is not None:
        return m
    sep = re.search(r"[:=：＝]", text)
    if sep is None or not sep.start():
        return None
    key = text[: sep.start()].translate(_HALFWIDTH)
    return _OPTION_RE.fullmatch(key + text[sep.start() :]) if key != text[: sep.start()] else None


def _option_table(options: Mapping[str, str] | Iterable[str]) -> dict[str, str]:
    if isinstance(options, str):
        raise TypeError("options must be a collection of keys, not a string")
    if isinstance(options, Mapping):
        return {alias.lower(): canonical.lower() for alias, canonical in options.items()}
    return {key.lower(): key.lower() for key in options}


#: Options whose value may run over several words unquoted, and what they read: `due:next fri`, `by:end of
#: month`, `start:in 2 weeks`, `tz:New York`. The words after the value join it only while together they read
#: as one date (or one city); the first word that does not stays where it was (in the title, say).
PHRASE_OPTIONS: dict[str, str] = {"due": "date", "by": "date", "start": "date", "end": "date", "date": "date",
                                  "tz": "zone"}
_PHRASE_WORDS = 4  # `end of the next month`, `Ho Chi Minh City`: the most words a value takes after its first


def _reads_as_date(text: str) -> bool:
    """Whether the words name a date, or a date refused with a reason of its own (`next week`, `dec 32`)."""
    v = " ".join(_norm(text).lower().split())
    try:
        return _parse_date(text, v, _PHRASE_TODAY) is not None
    except ParseError as exc:
        return exc.msg is None or exc.msg.key != "error.parse.date.unknown"
    except (OverflowError, ValueError):
        return True


def _reads_as_zone(text: str) -> bool:
    return _city_key(text) in CITY_ZONES


def _phrase_length(kind: str, value: str, tokens: list[Token], start: int) -> int:
    """How many of the tokens from `start` on continue `value` as one date or zone (0: none)."""
    reads = _reads_as_date if kind == "date" else _reads_as_zone
    words: list[str] = []
    for token in tokens[start : start + _PHRASE_WORDS]:
        if token.quoted or token.raw.startswith("<") or _option_match(token.text):
            break
        words.append(token.text)
    for n in range(len(words), 0, -1):
        if reads(" ".join([value, *words[:n]])):
            return n
    return 0


def parse_args(
    text: str,
    *,
    options: Mapping[str, str] | Iterable[str] = frozenset(),
    usage: str | None = None,
    phrases: Mapping[str, str] | None = None,
) -> Parsed:
    """Split `key:value` / `key=value` options (also ： and ＝) from the positional words.

    An unquoted value of an option in `phrases` (canonical key → "date" or "zone"; PHRASE_OPTIONS unless given)
    takes the words after it that continue it as one date or city: `due:next fri launch` is due `next fri`."""
    table = _option_table(options)
    phrase_kinds = PHRASE_OPTIONS if phrases is None else phrases
    try:
        tokens = tokenize(text)
    except ParseError as exc:
        raise exc.with_usage(usage) from None
    words: list[Token] = []
    found: dict[str, str] = {}
    typed_as: dict[str, str] = {}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        m = None if token.quoted or token.raw.startswith("<") else _option_match(token.text)
        if m is None or m.group(2).startswith("//"):  # a word, a quoted text, a mention, or a URL
            words.append(token)
            continue
        typed, value = m.group(1), m.group(2)
        key = table.get(typed.lower())
        if key is None:
            if not value:  # "Launch: …" — a word that happens to end with a colon
                words.append(token)
                continue
            known = sorted(set(table.values()))
            if not known:
                raise ParseError.of("error.parse.option.unknown_none", usage=usage, option=_q(typed + ":"))
            raise ParseError.of(
                "error.parse.option.unknown", usage=usage, option=_q(typed + ":"), options=[f"`{k}:`" for k in known]
            )
        kind = phrase_kinds.get(key)
        if not value:
            following = tokens[index].text if index < len(tokens) else ""
            if following and kind:  # `due: next fri` → like `due:next fri`
                more = _phrase_length(kind, following, tokens, index + 1)
                following = " ".join(t.text for t in tokens[index : index + 1 + more])
            example = f"{typed}:{following}" if following else f"{typed}:…"
            raise ParseError.of("error.parse.option.empty", usage=usage, option=_q(typed + ":"), example=_q(example))
        if key in found:
            first = typed_as[key]
            if first.lower() == typed.lower():
                raise ParseError.of("error.parse.option.twice", usage=usage, option=_q(typed + ":"))
            raise ParseError.of("error.parse.option.same", usage=usage, option=_q(typed + ":"), other=_q(first + ":"))
        value_quoted = token.raw[len(typed) + 1 : len(typed) + 2] in _CLOSERS  # due:"next fri" is already whole
        if kind and not value_quoted:
            more = _phrase_length(kind, value, tokens, index)
            value = " ".join([value, *(t.text for t in tokens[index : index + more])])
            index += more
        found[key] = value
        typed_as[key] = typed
    return Parsed(words=words, options=found)


# --------------------------------------------------------------------------- dates

_DATE_HINT = msg("error.parse.hint.date")  # 2026-12-01, 12-01, today, tomorrow, fri, +3d, …

_WEEKDAY_NAMES: dict[str, int] = {
    "mon": 0, "monday": 0,
    "tue": 1, "tues": 1, "tuesday": 1,
    "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}  # fmt: skip
_CJK_DAY_DIGITS: dict[str, int] = {
    "一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
    "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6,
}  # fmt: skip
_CJK_WEEK = r"(?:周|週|星期|礼拜|禮拜)"
_CJK_WEEKDAY_RE = re.compile(rf"{_CJK_WEEK}([一二三四五六日天1-7])")
_CJK_DATE_WEEKDAY_RE = re.compile(rf"(下下|下|本|这|這)?(?:个|個)?{_CJK_WEEK}([一二三四五六日天1-7]|末)")

_RELATIVE_DAYS: dict[str, int] = {
    "today": 0, "tomorrow": 1, "tmr": 1, "tmrw": 1, "yesterday": -1,
    "今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "後天": 2, "大后天": 3, "大後天": 3,
    "昨天": -1, "昨日": -1, "前天": -2,
}  # fmt: skip

_YMD_RE = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})", re.ASCII)
_MD_RE = re.compile(r"(\d{1,2})-(\d{1,2})", re.ASCII)
_SLASH_RE = re.compile(r"(\d{1,2})/(\d{1,2})", re.ASCII)
_DOT_RE = re.compile(r"(\d{1,2})\.(\d{1,2})", re.ASCII)  # 12.15, 6.18, 11.11: month.day, as on Chinese posters
_NEXT_WEEKDAY_RE = re.compile(r"(next|this)[\s_-]+([a-z]+)", re.ASCII)
_CJK_YMD_RE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号號]?", re.ASCII)
_OFFSET_RE = re.compile(r"([+-]?)(\d{1,4})(d|days?|w|wks?|weeks?|m|mos?|months?|y|yrs?|years?)", re.ASCII)

# Written out in words (`next week`, `end of next month`, `in 2 weeks`, `dec 15`, `3天后`, `下月15号`).
_PERIOD_RE = re.compile(r"(this|next)[\s_-]+(week|month|quarter|year)", re.ASCII)
_EDGE_RE = re.compile(
    r"(?:the\s+)?(end|start|beginning)\s+of\s+(?:the\s+)?(?:(this|next)\s+)?(week|month|quarter|year)", re.ASCII
)
_WORD_NUMBERS: dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10,
}  # fmt: skip
_IN_RE = re.compile(
    r"(?:in\s+)?(\d{1,4}|[a-z]+)\s*(days?|weeks?|wks?|months?|years?)(?:\s+(?:from\s+now|later))?", re.ASCII
)
_MONTH_NAMES: dict[str, int] = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
_ORDINAL = r"(\d{1,2})(?:st|nd|rd|th)?"
_MONTH_DAY_RE = re.compile(rf"([a-z]+)\.?\s+{_ORDINAL}(?:,?\s+(\d{{4}}))?", re.ASCII)  # dec 15, Dec 15th, 2026
_DAY_MONTH_RE = re.compile(rf"{_ORDINAL}\s+(?:of\s+)?([a-z]+)\.?(?:,?\s+(\d{{4}}))?", re.ASCII)  # 15 dec 2026
_CJK_NUM = r"[0-9]{1,3}|[一二两兩三四五六七八九十]{1,3}"
_CJK_IN_RE = re.compile(
    rf"({_CJK_NUM})\s*(天|日|[个個]?(?:周|週|星期|礼拜|禮拜)|[个個]月|年)"
    r"(?:后|後|之后|之後|以后|以後|内|內|以内|以內)"
)
_CJK_WHICH_MONTH = r"(?:(本|这个?|這個?|下个?|下個?)月)"
_CJK_MONTH_DAY_RE = re.compile(rf"{_CJK_WHICH_MONTH}?({_CJK_NUM})[号號日]")  # 15号, 下月15号
_CJK_MONTH_PART_RE = re.compile(r"(本|这个?|這個?|下个?|下個?)?月(初|中|底|末)")  # 月初, 月中, 下月底
#: a whole week or month, which is no one day: 下周, 本周, 下个月, 这个月
_CJK_WHOLE_RE = re.compile(rf"(下下|下|本|这|這)(?:个|個)?({_CJK_WEEK}|月)")


def _cjk_number(text: str) -> int | None:
    """3, 十五, 两, 二十一 → 3, 15, 2, 21 (1 to 999 in digits, 1 to 99 in Chinese numerals)."""
    if text.isascii():
        return int(text) if text.isdigit() else None
    digits = {"一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
    if "十" not in text:
        return digits.get(text) if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if "十" in ones or (tens and tens not in digits) or (ones and ones not in digits) or tens in ("两", "兩"):
        return None
    return (digits[tens] if tens else 1) * 10 + (digits[ones] if ones else 0)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _checked_date(value: str, year: int, month: int, day: int) -> date:
    if not 1 <= year <= 9999:
        raise ParseError.of("error.parse.date.year_range", value=_q(value))
    if not 1 <= month <= 12:
        raise ParseError.of("error.parse.date.no_month", value=_q(value), month=month)
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        raise ParseError.of(
            "error.parse.date.month_days", value=_q(value), month_name=msg(f"error.parse.month.{month}"),
            year=year, days=days,
        )
    return date(year, month, day)


def _next_weekday(today: date, weekday: int) -> date:
    """The next such day; today counts if it is that day."""
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _week_day(today: date, weekday: int, weeks_ahead: int) -> date:
    """The given weekday of this week (Monday-based) or of a later week."""
    return today - timedelta(days=today.weekday()) + timedelta(days=7 * weeks_ahead + weekday)


def _slash_date(value: str, first: int, second: int, today: date) -> date:
    """`15/12` is day/month (as written in China and Europe), `12/25` can only be month/day; `03/04` could be
    either, so it is refused with the two unambiguous ways to write it."""
    if first > 12 >= second:
        return _checked_date(value, today.year, second, first)
    if first == second or second > 12 >= first:
        return _checked_date(value, today.year, first, second)
    if first > 12 and second > 12:
        raise ParseError.of("error.parse.date.unknown", value=_q(value), hint=_DATE_HINT)
    raise ParseError.of(
        "error.parse.date.ambiguous", value=_q(value),
        day_month=f"{today.year}-{second:02d}-{first:02d}", month_day=f"{today.year}-{first:02d}-{second:02d}",
    )


def _parse_date(value: str, v: str, today: date) -> date | None:
    if v in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[v])
    if v in _WEEKDAY_NAMES:
        return _next_weekday(today, _WEEKDAY_NAMES[v])
    if v == "eow":
        return _next_weekday(today, 4)
    if v in ("eom", "月底", "月末", "本月底", "本月末"):
        return _month_end(today.year, today.month)
    if v in ("eoq", "季度末", "季末", "本季度末", "本季末", "季度底"):
        return _month_end(today.year, (today.month - 1) // 3 * 3 + 3)
    if v in ("eoy", "年底", "年末", "今年底"):
        return date(today.year, 12, 31)
    if m := _YMD_RE.fullmatch(v):
        return _checked_date(value, int(m.group(1)), int(m.group(3)), int(m.group(4)))
    if m := _MD_RE.fullmatch(v):
        return _checked_date(value, today.year, int(m.group(1)), int(m.group(2)))
    if m := _SLASH_RE.fullmatch(v):
        return _slash_date(value, int(m.group(1)), int(m.group(2)), today)
    if (m := _NEXT_WEEKDAY_RE.fullmatch(v)) and m.group(2) in _WEEKDAY_NAMES:
        return _week_day(today, _WEEKDAY_NAMES[m.group(2)], 1 if m.group(1) == "next" else 0)
    if m := _CJK_YMD_RE.fullmatch(v):
        year = int(m.group(1)) if m.group(1) else today.year
        return _checked_date(value, year, int(m.group(2)), int(m.group(3)))
    if m := _OFFSET_RE.fullmatch(v):
        return _offset(today, int(m.group(2)) * (-1 if m.group(1) == "-" else 1), m.group(3)[0])
    if m := _CJK_DATE_WEEKDAY_RE.fullmatch(v):
        which, day_name = m.group(1), m.group(2)
        weekday = 6 if day_name == "末" else _CJK_DAY_DIGITS[day_name]
        if which in ("下", "下下"):
            return _week_day(today, weekday, len(which))
        if which or day_name == "末":  # 本周五 / 这周五 / 周末: this week's
            return _week_day(today, weekday, 0)
        return _next_weekday(today, weekday)
    return _parse_date_words(value, v, today)


def _quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def _period_edges(today: date, period: str, ahead: int) -> tuple[date, date]:
    """This (ahead=0) or a later week's Monday and Friday, month's, quarter's or year's first and last day."""
    if period == "week":
        return _week_day(today, 0, ahead), _week_day(today, 4, ahead)
    if period == "month":
        first = _add_months(today.replace(day=1), ahead)
        return first, _month_end(first.year, first.month)
    if period == "quarter":
        first = _add_months(_quarter_start(today), 3 * ahead)
        return first, _month_end(first.year, first.month + 2)
    return date(today.year + ahead, 1, 1), date(today.year + ahead, 12, 31)


def _whole_period(value: str, period: str, first: str, last: str, edges: tuple[date, date]) -> ParseError:
    """`next week` / 下周 names no one day: say which two days it could be and how to write them."""
    return ParseError.of(
        "error.parse.date.whole", value=_q(value), period=msg(f"error.parse.period.{period}"),
        first=f"`{first}`", first_day=edges[0].isoformat(), last=f"`{last}`", last_day=edges[1].isoformat(),
    )


_WHOLE_WORDS: dict[tuple[str, str], tuple[str, str]] = {
    ("this", "week"): ("this mon", "this fri"), ("next", "week"): ("next mon", "next fri"),
    ("this", "month"): ("start of month", "end of month"), ("next", "month"): ("start of next month", "end of next month"),
    ("this", "quarter"): ("start of quarter", "end of quarter"),
    ("next", "quarter"): ("start of next quarter", "end of next quarter"),
    ("this", "year"): ("start of year", "end of year"), ("next", "year"): ("start of next year", "end of next year"),
}  # fmt: skip


def _cjk_whole(value: str, which: str, unit: str, today: date) -> ParseError:
    """下周 → 下周一 or 下周五; 下个月 → 下月初 or 下月底; 本周, 这个月, 下下周 alike."""
    ahead = which.count("下")
    if unit == "月":
        if ahead > 1:
            return ParseError.of("error.parse.date.unknown", value=_q(value), hint=_DATE_HINT)
        first, last = ("下月初", "下月底") if ahead else ("月初", "月底")
        return _whole_period(value, "month", first, last, _period_edges(today, "month", ahead))
    prefix = "下" * ahead + "周" if ahead else "本周"
    return _whole_period(value, "week", prefix + "一", prefix + "五", _period_edges(today, "week", ahead))


def _offset(today: date, amount: int, unit: str) -> date:
    """today moved by `amount` days (d), weeks (w), months (m, clamped to the month's end) or years (y)."""
    if unit == "d":
        return today + timedelta(days=amount)
    if unit == "w":
        return today + timedelta(weeks=amount)
    if unit == "m":
        return _add_months(today, amount)
    return _add_months(today, 12 * amount)


def _parse_date_words(value: str, v: str, today: date) -> date | None:
    """The forms written in words or in Chinese beyond the short ones: `12.15`, `next week` (refused), `end of
    next month`, `in 2 weeks`, `dec 15`, `15号`, `下月15号`, `月中`, `3天后`, `两周后`, `下周` (refused)."""
    if m := _DOT_RE.fullmatch(v):
        month, day = int(m.group(1)), int(m.group(2))
        if month > 12 >= day >= 1:  # 15.12: a European day.month; dots read month.day here, so say how to write it
            raise ParseError.of(
                "error.parse.date.dot_order", value=_q(value), month=month,
                fixed=f"{day}.{month}", iso=f"{today.year}-{day:02d}-{month:02d}",
            )
        return _checked_date(value, today.year, month, day)
    if m := _PERIOD_RE.fullmatch(v):
        which, period = m.group(1), m.group(2)
        write_first, write_last = _WHOLE_WORDS[(which, period)]
        raise _whole_period(value, period, write_first, write_last, _period_edges(today, period, int(which == "next")))
    if m := _EDGE_RE.fullmatch(v):
        edge, which, period = m.group(1), m.group(2), m.group(3)
        first_day, last_day = _period_edges(today, period, int(which == "next"))
        return last_day if edge == "end" else first_day
    if v in ("day after tomorrow", "the day after tomorrow"):
        return today + timedelta(days=2)
    if (m := _IN_RE.fullmatch(v)) and (" " in v):
        count = m.group(1)
        amount = int(count) if count.isdigit() else _WORD_NUMBERS.get(count)
        if amount is not None:
            return _offset(today, amount, m.group(2)[0])
    for pattern, month_group, day_group in ((_MONTH_DAY_RE, 1, 2), (_DAY_MONTH_RE, 2, 1)):
        if (m := pattern.fullmatch(v)) and m.group(month_group) in _MONTH_NAMES:
            year = int(m.group(3)) if m.group(3) else today.year
            return _checked_date(value, year, _MONTH_NAMES[m.group(month_group)], int(m.group(day_group)))
    if m := _CJK_IN_RE.fullmatch(v):
        amount = _cjk_number(m.group(1))
        unit = m.group(2)
        if amount is None:
            return None
        return _offset(today, amount, "d" if unit in "天日" else "y" if unit == "年" else "m" if "月" in unit else "w")
    if m := _CJK_MONTH_DAY_RE.fullmatch(v):
        nth = _cjk_number(m.group(2))
        if nth is None:
            return None
        month_start = _add_months(today.replace(day=1), 1 if (m.group(1) or "").startswith("下") else 0)
        return _checked_date(value, month_start.year, month_start.month, nth)
    if m := _CJK_MONTH_PART_RE.fullmatch(v):
        month_start, month_end = _period_edges(today, "month", 1 if (m.group(1) or "").startswith("下") else 0)
        part = m.group(2)
        return month_start if part == "初" else month_start.replace(day=15) if part == "中" else month_end
    if m := _CJK_WHOLE_RE.fullmatch(v):
        raise _cjk_whole(value, m.group(1), m.group(2), today)
    return None


def parse_date(value: str, *, today: date) -> date:
    """2026-12-01, 12-01, 12.15, 15/12, dec 15, today, fri, next fri, +3d, in 2 weeks, eow, eom, end of next month,
    明天, 周五, 下周五, 15号, 下月15号, 3天后, 两周后, 月中, 月底, …; `next week`, 下周, 下个月 and `03/04` are refused
    with the days they could mean (README "Dates")."""
    v = " ".join(_norm(value).lower().split())
    if not v:
        raise ParseError.of("error.parse.date.missing", hint=_DATE_HINT)
    try:
        result = _parse_date(value, v, today)
    except (OverflowError, ValueError):  # +9999y and the like
        raise ParseError.of("error.parse.date.too_far", value=_q(value), hint=_DATE_HINT) from None
    if result is None:
        raise ParseError.of("error.parse.date.unknown", value=_q(value), hint=_DATE_HINT)
    if not MIN_YEAR <= result.year <= MAX_YEAR:  # year 1 or 9999 is a slip, and breaks every date sum after it
        raise ParseError.of("error.parse.date.too_far", value=_q(value), hint=_DATE_HINT)
    return result


#: The years a date may name: a marketing plan's, with room on both sides.
MIN_YEAR, MAX_YEAR = 2000, 2100
#: any day will do to tell whether some words read as a date at all (parse_args joining `due:next fri`)
_PHRASE_TODAY = date(2026, 1, 15)


# --------------------------------------------------------------------------- numbers


@dataclass(frozen=True)
class Number:
    value: Decimal  # 15% -> Decimal("0.15"); 12.5k -> 12500; 3万 -> 30000; 1.5亿 -> 150000000
    percent: bool  # typed with %
    currency: str | None  # "¥", "$", "€", "£" or None


_NUMBER_HINT = msg("error.parse.hint.number")  # 12500, 12,500, 12.5k, 1.2m, 15%, ¥12,500 or $1,200
_NUMBER_RE = re.compile(
    r"""
    (?P<sign1>[+-])?
    (?P<cur1>[¥$€£])?
    (?P<sign2>[+-])?
    (?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
    (?P<suffix>[kmbw]|千|万|萬|亿|億)?
    (?P<pct>%)?
    (?P<cur2>[¥$€£]|元)?
    """,
    re.VERBOSE | re.ASCII,
)
_ODD_GROUPING_RE = re.compile(r"[+-]?[¥$€£]?[+-]?[0-9][0-9,]*(?:\.[0-9]+)?\D{0,2}", re.ASCII)
_SCALE: dict[str, int] = {"k": 3, "千": 3, "w": 4, "万": 4, "萬": 4, "m": 6, "亿": 8, "億": 8, "b": 9}
_MAX_DIGITS = 30


def _tidy(number: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 2 * _MAX_DIGITS + 20
        if number == 0:
            return Decimal(0)
        if number == number.to_integral_value():
            return number.quantize(Decimal(1))
        return number.normalize()


def parse_number(value: str) -> Number:
    """12500, 12,500, 12.5k, 1.2m, 15%, ¥12,500, $1,200, -3, 3万, 1.5亿 — exact Decimals."""
    v = _norm(value).lower()
    if not v:
        raise ParseError.of("error.parse.number.missing", hint=_NUMBER_HINT)
    m = _NUMBER_RE.fullmatch(v)
    if m is None:
        if "," in v and _ODD_GROUPING_RE.fullmatch(v):
            raise ParseError.of("error.parse.number.grouping", value=_q(value))
        raise ParseError.of("error.parse.number.unknown", value=_q(value), hint=_NUMBER_HINT)
    if m.group("sign1") and m.group("sign2"):
        raise ParseError.of("error.parse.number.two_signs", value=_q(value))
    cur1, cur2 = m.group("cur1"), m.group("cur2")
    if cur1 and cur2:
        raise ParseError.of("error.parse.number.two_currencies", value=_q(value))
    currency = "¥" if cur2 == "元" else (cur1 or cur2)
    percent = m.group("pct") is not None
    suffix = m.group("suffix")
    if percent and (currency or suffix):
        raise ParseError.of("error.parse.number.percent_amount", value=_q(value))
    digits = m.group("num").replace(",", "")
    if len(digits.replace(".", "")) > _MAX_DIGITS:
        raise ParseError.of("error.parse.number.too_long", value=_q(value))
    negative = "-" in (m.group("sign1") or "", m.group("sign2") or "")
    exponent = _SCALE.get(suffix or "", 0) - (2 if percent else 0)
    number = Decimal(f"{'-' if negative else ''}{digits}E{exponent}")  # exact: built from the text
    return Number(value=_tidy(number), percent=percent, currency=currency)


# --------------------------------------------------------------------------- users


@dataclass(frozen=True)
class UserRef:
    user_id: str | None  # from <@U123|ana> or <@U123> (also W… ids)
    name: str | None  # from @ana (to be resolved by name later)


_MENTION_RE = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")
_AT_NAME_RE = re.compile(r"[@＠]([^\s@＠<>|`]+)")


def parse_user(value: str) -> UserRef:
    """<@U123|ana> or <@U123> → a user id; @ana → a name to resolve later."""
    v = value.strip()
    if m := _MENTION_RE.fullmatch(v):
        return UserRef(user_id=m.group(1), name=None)
    if m := _AT_NAME_RE.fullmatch(v):
        return UserRef(user_id=None, name=m.group(1))
    if not v:
        raise ParseError.of("error.parse.user.missing")
    raise ParseError.of("error.parse.user.invalid", value=_q(value))


def is_user_token(token: Token) -> bool:
    """A real Slack mention or an unquoted @name (a typed "&lt;@U1&gt;" is only text)."""
    if token.quoted:
        return False
    return bool(_MENTION_RE.fullmatch(token.raw) or _AT_NAME_RE.fullmatch(token.raw))


# --------------------------------------------------------------------------- references

REF_KINDS: dict[str, str] = {
    "task": "T",
    "goal": "G",
    "campaign": "C",
    "feedback": "F",
    "retro": "R",
    "kpi": "K",
}
#: each kind as a reader names one: "a task", "a KPI metric" (任务, KPI 指标)
_REF_NOUNS: dict[str, Msg] = {
    "task": msg("error.parse.noun.task"),
    "goal": msg("error.parse.noun.goal"),
    "campaign": msg("error.parse.noun.campaign"),
    "feedback": msg("error.parse.noun.feedback"),
    "retro": msg("error.parse.noun.retro"),
    "kpi": msg("error.parse.noun.kpi"),
}
_KIND_BY_LETTER: dict[str, str] = {letter: kind for kind, letter in REF_KINDS.items()}
_REF_RE = re.compile(r"(?:([a-z])\s*[-–]?\s*|#)?(\d+)", re.IGNORECASE | re.ASCII)
_MAX_REF = 2**31 - 1


def parse_ref(value: str, kind: str) -> int:
    """T-12, t12, T12, t-12, #12 or 12 (where the kind is clear) → 12."""
    if kind not in REF_KINDS:
        raise ValueError(f"unknown reference kind {kind!r}")
    letter, noun = REF_KINDS[kind], _REF_NOUNS[kind]
    example = f"{letter}-12"
    v = _norm(value).rstrip(",;")
    if not v:
        raise ParseError.of("error.parse.ref.missing", noun=noun, example=example)
    m = _REF_RE.fullmatch(v)
    if m is None:
        raise ParseError.of("error.parse.ref.invalid", value=_q(value), noun=noun, example=example)
    typed_letter = (m.group(1) or letter).upper()
    if typed_letter != letter:
        other = _KIND_BY_LETTER.get(typed_letter)
        if other is None:
            raise ParseError.of("error.parse.ref.invalid", value=_q(value), noun=noun, example=example)
        raise ParseError.of(
            "error.parse.ref.other_kind", value=_q(value), other=_REF_NOUNS[other], noun=noun, example=example
        )
    digits = m.group(2)
    if len(digits) > 10 or int(digits) > _MAX_REF:
        raise ParseError.of("error.parse.ref.too_big", value=_q(value), noun=noun, example=example)
    number = int(digits)
    if number < 1:
        raise ParseError.of("error.parse.ref.zero", value=_q(value), noun=noun, first=f"{letter}-1")
    return number


def parse_record(value: str, kind: str) -> int | str:
    """A record by reference (C-2, c2, 2 → 2) or by name: text that is no reference at all comes back as the name
    to look up (`Double 11`, `双十一`). A reference of another kind (`campaign:G-3`) is still refused."""
    try:
        return parse_ref(value, kind)
    except ParseError as exc:
        name = " ".join(unescape_entities(value).split())
        if exc.msg is None or exc.msg.key != "error.parse.ref.invalid" or not name:
            raise
        return name


def ref_shaped(value: str) -> bool:
    """A letter and a number (`X-1`, `q4`): a name, or a reference with a mistyped letter when no name matches."""
    return _REF_RE.fullmatch(_norm(value).rstrip(",;")) is not None


def first_word(text: str) -> tuple[str, str]:
    """The first word of `text` (a quoted one as its text: `"Double 11" stock-out` → `Double 11`) and the rest as
    typed, trimmed."""
    stripped = text.strip()
    if not stripped:
        return "", ""
    token, end = _scan(stripped, 0)
    return token.text, stripped[end:].strip()


def format_ref(kind: str, number: int) -> str:
    """("task", 12) → "T-12"."""
    if kind not in REF_KINDS:
        raise ValueError(f"unknown reference kind {kind!r}")
    return f"{REF_KINDS[kind]}-{number}"


# --------------------------------------------------------------------------- choices, tags, links


def parse_choice(value: str, choices: list[str], *, name: str) -> str:
    """One of `choices`, case-insensitively; returns the choice as spelled in `choices`."""
    v = _norm(value).casefold()
    for choice in choices:
        if choice.casefold() == v:
            return choice
    if not v:
        raise ParseError.of("error.parse.choice.missing", name=name, choices=list(choices))
    raise ParseError.of("error.parse.choice.invalid", value=_q(value), name=name, choices=list(choices))


_CHANNEL_RE = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^<>]*))?>")
_TAG_TRAILING = ".,;:!?，。；：！？、"


def _tag_of(token: Token) -> str | None:
    if token.quoted:
        return None
    if m := _CHANNEL_RE.fullmatch(token.raw):
        label = (m.group(2) or "").strip()
        return _ascii_lower(label) if label else None
    text = token.text
    if not text or text[0] not in "#＃" or token.raw[0] not in "#＃":
        return None
    body = text[1:].rstrip(_TAG_TRAILING)
    if body.endswith(("#", "＃")):  # Weibo style #话题#
        body = body[:-1]
    if not body or any(ch in body for ch in "#＃<>"):
        return None
    return _ascii_lower(body)


def parse_tags(words: list[Token]) -> tuple[list[Token], list[str]]:
    """Pull #tag (and Slack-escaped <#C123|name>) tokens out of words: (remaining words, tags)."""
    remaining: list[Token] = []
    tags: list[str] = []
    for token in words:
        tag = _tag_of(token)
        if tag is None:
            remaining.append(token)
        elif tag not in tags:
            tags.append(tag)
    return remaining, tags


_LINK_RE = re.compile(r"<((?:https?|mailto):[^|<>\s]+)(?:\|[^<>]*)?>", re.IGNORECASE)
_BARE_URL_RE = re.compile(r"https?://[^\s<>|]+", re.IGNORECASE)


def parse_url(value: str) -> str:
    """<https://x.y|label>, <https://x.y> or a bare https://x.y → the URL (Slack escapes undone)."""
    v = value.strip()
    if m := _LINK_RE.fullmatch(v):
        return unescape_entities(m.group(1))
    if _BARE_URL_RE.fullmatch(v):
        return unescape_entities(v)
    raise ParseError.of("error.parse.url.invalid", value=_q(value))


# --------------------------------------------------------------------------- times and weekdays

_TIME_HINT = msg("error.parse.hint.time")  # 09:00, 9:00, 9am or 17:30
_CLOCK_RE = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?", re.ASCII)
_CJK_TIME_RE = re.compile(
    r"(上午|早上|早晨|凌晨|中午|下午|傍晚|晚上)?(\d{1,2})[点點时時](?:(\d{1,2})分?|(半))?", re.ASCII
)
_CJK_AM = ("上午", "早上", "早晨", "凌晨")


def _bad_time(value: str) -> ParseError:
    return ParseError.of("error.parse.time.invalid", value=_q(value), hint=_TIME_HINT)


def parse_time_of_day(value: str) -> tuple[int, int]:
    """Read a time like 09:00, 9:00, 9am, 5:30pm, 17:30, noon, 9点 or 下午3点半 as (hour, minute)."""
    v = _norm(value).lower()
    if not v:
        raise ParseError.of("error.parse.time.missing", hint=_TIME_HINT)
    if v == "noon":
        return 12, 0
    if v == "midnight":
        return 0, 0
    if m := _CLOCK_RE.fullmatch(v):
        hour, minute, meridiem = int(m.group(1)), int(m.group(2) or 0), m.group(3)
        if meridiem is None and m.group(2) is None:
            if hour > 23:
                raise _bad_time(value)
            raise ParseError.of("error.parse.time.ambiguous", value=_q(value), example=f"{hour:02d}:00")
        if meridiem:
            if not 1 <= hour <= 12:
                raise _bad_time(value)
            hour = hour % 12 + (12 if meridiem.startswith("p") else 0)
    elif m := _CJK_TIME_RE.fullmatch(v):
        part, hour = m.group(1), int(m.group(2))
        minute = 30 if m.group(4) else int(m.group(3) or 0)
        if part in _CJK_AM:
            if hour > 12:
                raise _bad_time(value)
            hour %= 12
        elif part is not None:
            if hour > 12:
                if hour > 23:
                    raise _bad_time(value)
            elif not (part == "中午" and hour >= 11):
                hour = hour % 12 + 12
    else:
        raise _bad_time(value)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise _bad_time(value)
    return hour, minute


_WEEKDAYS_HINT = msg("error.parse.hint.weekdays")  # mon-fri, mon,wed,fri, daily or weekdays
_ALL_DAYS = [0, 1, 2, 3, 4, 5, 6]
_DAY_SETS: dict[str, list[int]] = {
    "daily": _ALL_DAYS, "everyday": _ALL_DAYS, "every-day": _ALL_DAYS, "all": _ALL_DAYS,
    "每天": _ALL_DAYS, "每日": _ALL_DAYS,
    "weekdays": [0, 1, 2, 3, 4], "workdays": [0, 1, 2, 3, 4], "工作日": [0, 1, 2, 3, 4],
    "weekends": [5, 6], "weekend": [5, 6], "周末": [5, 6], "週末": [5, 6],
}  # fmt: skip
_RANGE_RE = re.compile(r"(.+?)\s*(?:-|–|—|~|至|到)\s*(.+)")


def _weekday_of(name: str) -> int | None:
    if name in _WEEKDAY_NAMES:
        return _WEEKDAY_NAMES[name]
    if m := _CJK_WEEKDAY_RE.fullmatch(name):
        return _CJK_DAY_DIGITS[m.group(1)]
    return None


def parse_weekdays(value: str) -> list[int]:
    """Read mon-fri, mon,wed,fri, daily/everyday, weekdays or 周一至周五 as sorted days, Monday=0."""
    v = _norm(value).lower()
    if not v:
        raise ParseError.of("error.parse.weekdays.missing", hint=_WEEKDAYS_HINT)
    if v in _DAY_SETS:
        return list(_DAY_SETS[v])
    days: set[int] = set()
    for part in re.split(r"\s*[,、;/]\s*", v):
        if part in _DAY_SETS:
            days.update(_DAY_SETS[part])
            continue
        single = _weekday_of(part)
        if single is not None:
            days.add(single)
            continue
        m = _RANGE_RE.fullmatch(part)
        first = _weekday_of(m.group(1)) if m else None
        last = _weekday_of(m.group(2)) if m else None
        if first is None or last is None:
            shown = part if part else value
            raise ParseError.of("error.parse.weekdays.invalid", value=_q(shown), hint=_WEEKDAYS_HINT)
        day = first
        days.add(day)
        while day != last:  # fri-mon wraps over the weekend
            day = (day + 1) % 7
            days.add(day)
    return sorted(days)


# --------------------------------------------------------------------------- time zones

#: Cities people type for `tz:`, in English and Chinese, and the IANA zone each lives in.
CITY_ZONES: dict[str, str] = {
    "beijing": "Asia/Shanghai", "北京": "Asia/Shanghai", "shanghai": "Asia/Shanghai", "上海": "Asia/Shanghai",
    "shenzhen": "Asia/Shanghai", "深圳": "Asia/Shanghai", "guangzhou": "Asia/Shanghai", "广州": "Asia/Shanghai",
    "hangzhou": "Asia/Shanghai", "杭州": "Asia/Shanghai", "chengdu": "Asia/Shanghai", "成都": "Asia/Shanghai",
    "china": "Asia/Shanghai", "中国": "Asia/Shanghai", "beijing time": "Asia/Shanghai", "北京时间": "Asia/Shanghai",
    "chongqing": "Asia/Shanghai", "重庆": "Asia/Shanghai", "tianjin": "Asia/Shanghai", "天津": "Asia/Shanghai",
    "wuhan": "Asia/Shanghai", "武汉": "Asia/Shanghai", "nanjing": "Asia/Shanghai", "南京": "Asia/Shanghai",
    "suzhou": "Asia/Shanghai", "苏州": "Asia/Shanghai", "xi'an": "Asia/Shanghai", "xian": "Asia/Shanghai",
    "西安": "Asia/Shanghai", "xiamen": "Asia/Shanghai", "厦门": "Asia/Shanghai", "qingdao": "Asia/Shanghai",
    "青岛": "Asia/Shanghai", "changsha": "Asia/Shanghai", "长沙": "Asia/Shanghai", "zhengzhou": "Asia/Shanghai",
    "郑州": "Asia/Shanghai", "ningbo": "Asia/Shanghai", "宁波": "Asia/Shanghai", "dongguan": "Asia/Shanghai",
    "东莞": "Asia/Shanghai", "foshan": "Asia/Shanghai", "佛山": "Asia/Shanghai", "hefei": "Asia/Shanghai",
    "合肥": "Asia/Shanghai", "kunming": "Asia/Shanghai", "昆明": "Asia/Shanghai", "fuzhou": "Asia/Shanghai",
    "福州": "Asia/Shanghai", "jinan": "Asia/Shanghai", "济南": "Asia/Shanghai", "shenyang": "Asia/Shanghai",
    "沈阳": "Asia/Shanghai", "dalian": "Asia/Shanghai", "大连": "Asia/Shanghai", "harbin": "Asia/Shanghai",
    "哈尔滨": "Asia/Shanghai", "yiwu": "Asia/Shanghai", "义乌": "Asia/Shanghai", "zhuhai": "Asia/Shanghai",
    "珠海": "Asia/Shanghai",
    "hong kong": "Asia/Hong_Kong", "hongkong": "Asia/Hong_Kong", "hk": "Asia/Hong_Kong", "香港": "Asia/Hong_Kong",
    "taipei": "Asia/Taipei", "台北": "Asia/Taipei", "臺北": "Asia/Taipei", "kaohsiung": "Asia/Taipei",
    "高雄": "Asia/Taipei", "macau": "Asia/Macau", "macao": "Asia/Macau", "澳门": "Asia/Macau", "澳門": "Asia/Macau",
    "singapore": "Asia/Singapore", "新加坡": "Asia/Singapore",
    "tokyo": "Asia/Tokyo", "东京": "Asia/Tokyo", "東京": "Asia/Tokyo",
    "seoul": "Asia/Seoul", "首尔": "Asia/Seoul",
    "bangkok": "Asia/Bangkok", "曼谷": "Asia/Bangkok", "jakarta": "Asia/Jakarta", "雅加达": "Asia/Jakarta",
    "kuala lumpur": "Asia/Kuala_Lumpur", "kl": "Asia/Kuala_Lumpur", "吉隆坡": "Asia/Kuala_Lumpur",
    "manila": "Asia/Manila", "马尼拉": "Asia/Manila",
    "ho chi minh city": "Asia/Ho_Chi_Minh", "ho chi minh": "Asia/Ho_Chi_Minh", "hcmc": "Asia/Ho_Chi_Minh",
    "saigon": "Asia/Ho_Chi_Minh", "胡志明市": "Asia/Ho_Chi_Minh", "胡志明": "Asia/Ho_Chi_Minh",
    "hanoi": "Asia/Ho_Chi_Minh", "河内": "Asia/Ho_Chi_Minh", "phnom penh": "Asia/Phnom_Penh", "金边": "Asia/Phnom_Penh",
    "yangon": "Asia/Yangon", "仰光": "Asia/Yangon", "osaka": "Asia/Tokyo", "大阪": "Asia/Tokyo",
    "busan": "Asia/Seoul", "釜山": "Asia/Seoul", "abu dhabi": "Asia/Dubai", "阿布扎比": "Asia/Dubai",
    "riyadh": "Asia/Riyadh", "利雅得": "Asia/Riyadh", "tel aviv": "Asia/Jerusalem", "特拉维夫": "Asia/Jerusalem",
    "dubai": "Asia/Dubai", "迪拜": "Asia/Dubai", "mumbai": "Asia/Kolkata", "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata", "孟买": "Asia/Kolkata",
    "sydney": "Australia/Sydney", "悉尼": "Australia/Sydney", "melbourne": "Australia/Melbourne",
    "墨尔本": "Australia/Melbourne", "auckland": "Pacific/Auckland", "奥克兰": "Pacific/Auckland",
    "london": "Europe/London", "伦敦": "Europe/London", "dublin": "Europe/Dublin",
    "paris": "Europe/Paris", "巴黎": "Europe/Paris", "berlin": "Europe/Berlin", "柏林": "Europe/Berlin",
    "amsterdam": "Europe/Amsterdam", "madrid": "Europe/Madrid", "rome": "Europe/Rome", "罗马": "Europe/Rome",
    "moscow": "Europe/Moscow", "莫斯科": "Europe/Moscow",
    "istanbul": "Europe/Istanbul", "伊斯坦布尔": "Europe/Istanbul", "frankfurt": "Europe/Berlin",
    "法兰克福": "Europe/Berlin", "zurich": "Europe/Zurich", "苏黎世": "Europe/Zurich", "milan": "Europe/Rome",
    "米兰": "Europe/Rome", "barcelona": "Europe/Madrid", "巴塞罗那": "Europe/Madrid", "lisbon": "Europe/Lisbon",
    "stockholm": "Europe/Stockholm", "warsaw": "Europe/Warsaw", "cape town": "Africa/Johannesburg",
    "johannesburg": "Africa/Johannesburg", "约翰内斯堡": "Africa/Johannesburg", "cairo": "Africa/Cairo",
    "lagos": "Africa/Lagos", "nairobi": "Africa/Nairobi",
    "new york": "America/New_York", "new york city": "America/New_York", "nyc": "America/New_York",
    "纽约": "America/New_York", "washington dc": "America/New_York",
    "washington d.c.": "America/New_York", "华盛顿": "America/New_York", "boston": "America/New_York",
    "波士顿": "America/New_York", "miami": "America/New_York", "迈阿密": "America/New_York",
    "atlanta": "America/New_York", "denver": "America/Denver", "salt lake city": "America/Denver",
    "phoenix": "America/Phoenix", "dallas": "America/Chicago", "houston": "America/Chicago",
    "las vegas": "America/Los_Angeles", "拉斯维加斯": "America/Los_Angeles", "san jose": "America/Los_Angeles",
    "silicon valley": "America/Los_Angeles", "硅谷": "America/Los_Angeles", "san diego": "America/Los_Angeles",
    "mexico city": "America/Mexico_City", "墨西哥城": "America/Mexico_City", "buenos aires": "America/Argentina/Buenos_Aires",
    "布宜诺斯艾利斯": "America/Argentina/Buenos_Aires", "rio de janeiro": "America/Sao_Paulo", "里约热内卢": "America/Sao_Paulo",
    "montreal": "America/Toronto", "蒙特利尔": "America/Toronto", "honolulu": "Pacific/Honolulu", "檀香山": "Pacific/Honolulu",
    "toronto": "America/Toronto", "多伦多": "America/Toronto", "chicago": "America/Chicago", "芝加哥": "America/Chicago",
    "los angeles": "America/Los_Angeles", "la": "America/Los_Angeles", "洛杉矶": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles", "旧金山": "America/Los_Angeles", "seattle": "America/Los_Angeles",
    "西雅图": "America/Los_Angeles", "vancouver": "America/Vancouver", "温哥华": "America/Vancouver",
    "sao paulo": "America/Sao_Paulo", "são paulo": "America/Sao_Paulo", "圣保罗": "America/Sao_Paulo",
    "utc": "UTC", "gmt": "UTC",
}  # fmt: skip


def _city_key(text: str) -> str:
    """How a city is looked up in CITY_ZONES: half-width, lower case, `_` as a space, single spaces."""
    return " ".join(_norm(text).replace("_", " ").split()).lower()


@functools.cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def parse_zone(value: str) -> str:
    """A time zone as people type it: an IANA name in any letter case (asia/shanghai, full-width too), or a
    city from CITY_ZONES (Beijing, 北京, New York, new_york, Hong Kong, 香港, 东京) → the IANA name."""
    typed = _norm(value)
    name = CITY_ZONES.get(_city_key(typed)) or _zones_by_lower_name().get(typed.lower())
    if name is None:
        raise ParseError.of("error.parse.tz.unknown", value=value.strip())
    return name
