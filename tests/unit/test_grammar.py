"""Table-driven tests for commands.grammar: tokens, options, dates, numbers, users, refs, tags, times, days."""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commands.grammar import (
    REF_KINDS,
    Number,
    Parsed,
    ParseError,
    Token,
    UserRef,
    format_ref,
    is_user_token,
    parse_args,
    parse_choice,
    parse_date,
    parse_number,
    parse_ref,
    parse_tags,
    parse_time_of_day,
    parse_url,
    parse_user,
    parse_weekdays,
    parse_zone,
    tokenize,
)

WED = date(2026, 3, 18)  # a Wednesday
FRI = date(2026, 3, 20)
SAT = date(2026, 3, 21)
SUN = date(2026, 3, 22)


def triples(text: str) -> list[tuple[str, bool, str]]:
    return [(t.text, t.quoted, t.raw) for t in tokenize(text)]


# --------------------------------------------------------------------------- ParseError


def test_parse_error_carries_message_and_usage() -> None:
    err = ParseError("`x` is wrong", "/task add <title>")
    assert err.message == "`x` is wrong"
    assert err.usage == "/task add <title>"
    assert str(err) == "`x` is wrong"
    assert ParseError("m").usage is None


# --------------------------------------------------------------------------- tokenize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   \t\n ", []),
        ("add launch page", [("add", False, "add"), ("launch", False, "launch"), ("page", False, "page")]),
        ("a  b\tc\nd", [("a", False, "a"), ("b", False, "b"), ("c", False, "c"), ("d", False, "d")]),
        ("a\u3000b", [("a", False, "a"), ("b", False, "b")]),  # ideographic space
        ("a\u00a0b\u2003c", [("a", False, "a"), ("b", False, "b"), ("c", False, "c")]),
        # every quote style, with CJK text
        ('"a b"', [("a b", True, '"a b"')]),
        ("“a b”", [("a b", True, "“a b”")]),
        ("「双十一 预热」", [("双十一 预热", True, "「双十一 预热」")]),
        ("『双十一 预热』", [("双十一 预热", True, "『双十一 预热』")]),
        ("＂双十一 预热＂", [("双十一 预热", True, "＂双十一 预热＂")]),
        ("”a b”", [("a b", True, "”a b”")]),
        ('“a b"', [("a b", True, '“a b"')]),  # mixed smart/straight quotes still close
        (
            "x 「双十一 预热」 y",
            [("x", False, "x"), ("双十一 预热", True, "「双十一 预热」"), ("y", False, "y")],
        ),
        ('"「双十一」 预热"', [("「双十一」 预热", True, '"「双十一」 预热"')]),
        ('""', [("", True, '""')]),
        ("「」", [("", True, "「」")]),
        # an option value may be quoted
        ('due:"a b"', [("due:a b", False, 'due:"a b"')]),
        ("due:“a b”", [("due:a b", False, "due:“a b”")]),
        ("theme=「双十一 预热」", [("theme=双十一 预热", False, "theme=「双十一 预热」")]),
        ("theme：『双十一 预热』", [("theme：双十一 预热", False, "theme：『双十一 预热』")]),
        (
            'audience:"young moms" x',
            [("audience:young moms", False, 'audience:"young moms"'), ("x", False, "x")],
        ),
        # Slack <…> spans are single tokens, kept as sent
        ("<@U123|ana maria> x", [("<@U123|ana maria>", False, "<@U123|ana maria>"), ("x", False, "x")]),
        ("<@U123>", [("<@U123>", False, "<@U123>")]),
        ("<#C123|growth>", [("<#C123|growth>", False, "<#C123|growth>")]),
        (
            "<https://x.y/brief|the launch brief>",
            [("<https://x.y/brief|the launch brief>", False, "<https://x.y/brief|the launch brief>")],
        ),
        ("<https://x.y/?a=1&amp;b=2>", [("<https://x.y/?a=1&amp;b=2>", False, "<https://x.y/?a=1&amp;b=2>")]),
        ("hi<@U1>there", [("hi<@U1>there", False, "hi<@U1>there")]),
        (
            '"see <https://x.y|the brief>"',
            [("see <https://x.y|the brief>", True, '"see <https://x.y|the brief>"')],
        ),
        ('"ask <@U1|ana "the" boss>"', [('ask <@U1|ana "the" boss>', True, '"ask <@U1|ana "the" boss>"')]),
        # Slack's HTML escapes are undone in plain text; <!channel> is kept literally either way
        ("<!channel>", [("<!channel>", False, "<!channel>")]),
        ("&lt;!channel&gt;", [("<!channel>", False, "&lt;!channel&gt;")]),
        ("<!here> now", [("<!here>", False, "<!here>"), ("now", False, "now")]),
        ("a&amp;b", [("a&b", False, "a&amp;b")]),
        ("&lt;b&gt;", [("<b>", False, "&lt;b&gt;")]),
        ("&amp;lt;", [("&lt;", False, "&amp;lt;")]),
        ("&quot;", [("&quot;", False, "&quot;")]),
        ('"R&amp;D plan"', [("R&D plan", True, '"R&amp;D plan"')]),
        ("a < b", [("a", False, "a"), ("<", False, "<"), ("b", False, "b")]),
        # quotes inside words are just characters
        ('5" screen', [('5"', False, '5"'), ("screen", False, "screen")]),
        ("用户说「太贵了」希望", [("用户说「太贵了」希望", False, "用户说「太贵了」希望")]),
        ("don't", [("don't", False, "don't")]),
        # a "quote" glued to the next word is not a grouping quote: the text survives as typed
        ('"a b"c d', [('"a', False, '"a'), ('b"c', False, 'b"c'), ("d", False, "d")]),
    ],
)
def test_tokenize(text: str, expected: list[tuple[str, bool, str]]) -> None:
    assert triples(text) == expected


def test_token_is_frozen() -> None:
    token = Token("a", False, "a")
    with pytest.raises(AttributeError):
        token.text = "b"  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    ['"abc', "“双十一 预热", "「abc", "「abc”", "『abc」", 'x "', 'due:"a b', "theme:「双十一", '"a" "b'],
)
def test_tokenize_unterminated_quote(text: str) -> None:
    with pytest.raises(ParseError, match="never closed"):
        tokenize(text)


# --------------------------------------------------------------------------- parse_args


@pytest.mark.parametrize(
    ("text", "options", "words", "expected"),
    [
        ('add "Launch page" @ana due:fri', {"due"}, "add Launch page @ana", {"due": "fri"}),
        ("DUE:fri x", {"due"}, "x", {"due": "fri"}),
        ("Due=Fri x", {"due"}, "x", {"due": "Fri"}),
        ("due：明天 x", {"due"}, "x", {"due": "明天"}),
        ("due＝明天 x", {"due"}, "x", {"due": "明天"}),
        ("deadline:fri x", {"due": "due", "deadline": "due"}, "x", {"due": "fri"}),
        ("Deadline:fri", {"Due": "Due", "DEADLINE": "Due"}, "", {"due": "fri"}),
        ("x due:fri", ["due", "start"], "x", {"due": "fri"}),
        (
            'Sale audience:"young moms" theme:「双十一 预热」',
            {"audience", "theme"},
            "Sale",
            {"audience": "young moms", "theme": "双十一 预热"},
        ),
        ('note:"a:b"', {"note"}, "", {"note": "a:b"}),
        ("note:a:b", {"note"}, "", {"note": "a:b"}),
        ("owner:<@U1|ana maria> x", {"owner"}, "x", {"owner": "<@U1|ana maria>"}),
        ("doc:<https://x.y|the brief>", {"doc"}, "", {"doc": "<https://x.y|the brief>"}),
        ("spend:&lt;5k", {"spend"}, "", {"spend": "<5k"}),
        ("by:2026-12-01 target:12.5k", {"by", "target"}, "", {"by": "2026-12-01", "target": "12.5k"}),
        ("start_date:mon", {"start_date"}, "", {"start_date": "mon"}),
        ("utm-source:wx", {"utm-source"}, "", {"utm-source": "wx"}),
        # not options
        ("see https://x.y/a:b", {"due"}, "see https://x.y/a:b", {}),
        ("see <https://x.y>", {"due"}, "see <https://x.y>", {}),
        ("ftp://x.y", set(), "ftp://x.y", {}),
        ("meet 10:30", {"due"}, "meet 10:30", {}),
        ('"due:fri" now', {"due"}, "due:fri now", {}),
        ("「due:fri」", {"due"}, "due:fri", {}),
        ("T-12 G-3", {"due"}, "T-12 G-3", {}),
        ("<@U1|a:b>", {"due"}, "<@U1|a:b>", {}),
        ("Launch: new site", {"due"}, "Launch: new site", {}),
        ("主题：双十一", {"due"}, "主题：双十一", {}),
        ("&lt;!channel&gt; hi", set(), "<!channel> hi", {}),
        ("_x:1 -y:2", set(), "_x:1 -y:2", {}),
        # words: quoted ones as their text, single spaces
        ('a  "b c"   d', set(), "a b c d", {}),
        ('a "" b', set(), "a b", {}),
        ("", {"due"}, "", {}),
    ],
)
def test_parse_args(
    text: str, options: set[str] | dict[str, str], words: str, expected: dict[str, str]
) -> None:
    parsed = parse_args(text, options=options)
    assert isinstance(parsed, Parsed)
    assert parsed.text() == words
    assert parsed.options == expected


def test_parse_args_keeps_word_tokens() -> None:
    parsed = parse_args("add 「双十一 预热」 <@U1|ana> due:fri #promo", options={"due"})
    assert [w.raw for w in parsed.words] == ["add", "「双十一 预热」", "<@U1|ana>", "#promo"]
    assert parsed.words[1] == Token("双十一 预热", True, "「双十一 预热」")


@pytest.mark.parametrize(
    ("text", "options", "fragments"),
    [
        ("x foo:bar", {"due"}, ["unknown option `foo:`", "`due:`", "quote the text if it contains a colon"]),
        ("x Foo=bar", {"due", "start"}, ["unknown option `Foo:`", "`due:`, `start:`"]),
        ("re:launch", set(), ["unknown option `re:`", "takes no options"]),
        ("x deadline:fri", {"due": "due"}, ["unknown option `deadline:`"]),
        ('x foo:"a b"', {"due"}, ["unknown option `foo:`"]),
        ("due:fri due:mon", {"due"}, ["`due:` is given twice"]),
        ("due:fri DUE:mon", {"due"}, ["given twice"]),
        ("due:fri deadline:mon", {"due": "due", "deadline": "due"}, ["`deadline:` and `due:` mean the same"]),
        ("due:", {"due"}, ["`due:` has no value", "`due:…`"]),
        ("due: fri", {"due"}, ["`due:` has no value", "`due:fri`"]),
        ('due:""', {"due"}, ["`due:` has no value"]),
        ("due=「」", {"due"}, ["has no value"]),
        ('x "unterminated', {"due"}, ["never closed"]),
    ],
)
def test_parse_args_errors(text: str, options: set[str] | dict[str, str], fragments: list[str]) -> None:
    with pytest.raises(ParseError) as info:
        parse_args(text, options=options, usage="/task add <title> [due:<date>]")
    for fragment in fragments:
        assert fragment in info.value.message
    assert info.value.usage == "/task add <title> [due:<date>]"


def test_parse_args_usage_defaults_to_none() -> None:
    with pytest.raises(ParseError) as info:
        parse_args("foo:bar")
    assert info.value.usage is None


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("value", "today", "expected"),
    [
        # absolute
        ("2026-12-01", WED, date(2026, 12, 1)),
        ("2026/12/01", WED, date(2026, 12, 1)),
        ("2026.12.01", WED, date(2026, 12, 1)),
        ("2026-1-5", WED, date(2026, 1, 5)),
        ("2027-01-05", WED, date(2027, 1, 5)),
        ("12-01", WED, date(2026, 12, 1)),
        ("12/25", WED, date(2026, 12, 25)),  # only month/day can be meant
        ("15/12", WED, date(2026, 12, 15)),  # day/month, as written in China and Europe
        ("31/1", WED, date(2026, 1, 31)),
        ("04/04", WED, date(2026, 4, 4)),
        ("１５／１２", WED, date(2026, 12, 15)),
        ("1-5", WED, date(2026, 1, 5)),  # this year, even if already past
        ("２０２６－１２－０１", WED, date(2026, 12, 1)),
        ("12月1日", WED, date(2026, 12, 1)),
        ("2027年1月5号", WED, date(2027, 1, 5)),
        # leap years
        ("2024-02-29", WED, date(2024, 2, 29)),
        ("2000-02-29", WED, date(2000, 2, 29)),
        ("02-29", date(2024, 1, 31), date(2024, 2, 29)),
        # words
        ("today", WED, WED),
        ("TODAY", WED, WED),
        (" Tomorrow ", WED, date(2026, 3, 19)),
        ("tmr", WED, date(2026, 3, 19)),
        ("yesterday", WED, date(2026, 3, 17)),
        ("yesterday", date(2026, 1, 1), date(2025, 12, 31)),
        ("tomorrow", date(2026, 12, 31), date(2027, 1, 1)),
        ("tomorrow", date(2024, 2, 28), date(2024, 2, 29)),
        # weekdays: the next such day, today counts
        ("mon", WED, date(2026, 3, 23)),
        ("tue", WED, date(2026, 3, 24)),
        ("wed", WED, WED),
        ("Wednesday", WED, WED),
        ("thurs", WED, date(2026, 3, 19)),
        ("fri", WED, FRI),
        ("FRIDAY", WED, FRI),
        ("fri", FRI, FRI),
        ("sat", WED, SAT),
        ("sun", WED, SUN),
        ("sunday", SUN, SUN),
        ("mon", date(2026, 12, 31), date(2027, 1, 4)),
        # offsets
        ("+3d", WED, date(2026, 3, 21)),
        ("3d", WED, date(2026, 3, 21)),
        ("+0d", WED, WED),
        ("-1d", WED, date(2026, 3, 17)),
        ("+2w", WED, date(2026, 4, 1)),
        ("+1w", date(2025, 12, 29), date(2026, 1, 5)),
        ("+1m", WED, date(2026, 4, 18)),
        ("-1m", WED, date(2026, 2, 18)),
        ("+1m", date(2024, 1, 31), date(2024, 2, 29)),  # clamped, leap year
        ("+1m", date(2026, 1, 31), date(2026, 2, 28)),
        ("+1m", date(2026, 12, 31), date(2027, 1, 31)),
        ("-2m", date(2026, 3, 31), date(2026, 1, 31)),
        ("+13m", WED, date(2027, 4, 18)),
        ("+1y", date(2024, 2, 29), date(2025, 2, 28)),
        ("+3D", WED, date(2026, 3, 21)),
        ("＋３ｄ", WED, date(2026, 3, 21)),
        # period ends
        ("eow", WED, FRI),
        ("eow", FRI, FRI),
        ("eow", SAT, date(2026, 3, 27)),
        ("eow", SUN, date(2026, 3, 27)),
        ("eow", date(2026, 12, 31), date(2027, 1, 1)),
        ("EOM", WED, date(2026, 3, 31)),
        ("eom", date(2024, 2, 10), date(2024, 2, 29)),
        ("eom", date(2026, 2, 10), date(2026, 2, 28)),
        ("eom", date(2026, 3, 31), date(2026, 3, 31)),
        ("eoq", date(2026, 2, 10), date(2026, 3, 31)),
        ("eoq", date(2026, 4, 1), date(2026, 6, 30)),
        ("eoq", date(2026, 8, 15), date(2026, 9, 30)),
        ("eoq", date(2026, 11, 30), date(2026, 12, 31)),
        ("eoy", WED, date(2026, 12, 31)),
        ("eoy", date(2026, 12, 31), date(2026, 12, 31)),
        # Chinese
        ("今天", WED, WED),
        ("明天", WED, date(2026, 3, 19)),
        ("后天", WED, date(2026, 3, 20)),
        ("昨天", WED, date(2026, 3, 17)),
        ("前天", WED, date(2026, 3, 16)),
        ("明天", date(2026, 12, 31), date(2027, 1, 1)),
        ("周五", WED, FRI),
        ("星期五", WED, FRI),
        ("周三", WED, WED),
        ("星期三", WED, WED),
        ("周一", WED, date(2026, 3, 23)),
        ("周日", WED, SUN),
        ("星期天", WED, SUN),
        ("礼拜二", WED, date(2026, 3, 24)),
        ("週五", WED, FRI),
        ("本周一", WED, date(2026, 3, 16)),
        ("这周五", WED, FRI),
        ("下周一", WED, date(2026, 3, 23)),
        ("下周三", WED, date(2026, 3, 25)),
        ("下周一", date(2025, 12, 29), date(2026, 1, 5)),
        ("下周五", WED, date(2026, 3, 27)),
        ("下周五", SUN, date(2026, 3, 27)),
        # next <weekday>: that day of next week (Monday-based), as 下周五; this <weekday>: of this week
        ("next fri", WED, date(2026, 3, 27)),
        ("Next Friday", WED, date(2026, 3, 27)),
        ("next mon", WED, date(2026, 3, 23)),
        ("next fri", SUN, date(2026, 3, 27)),
        ("this fri", WED, FRI),
        ("周末", WED, SUN),
        ("本周末", WED, SUN),
        ("本周末", SUN, SUN),
        ("下周末", WED, date(2026, 3, 29)),
        ("月底", WED, date(2026, 3, 31)),
        ("月底", date(2024, 2, 1), date(2024, 2, 29)),
        ("季度末", date(2026, 5, 5), date(2026, 6, 30)),
        ("年底", WED, date(2026, 12, 31)),
    ],
)
def test_parse_date(value: str, today: date, expected: date) -> None:
    assert parse_date(value, today=today) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("2026-02-30", "February 2026 has 28 days"),
        ("2023-02-29", "February 2023 has 28 days"),
        ("2100-02-29", "February 2100 has 28 days"),
        ("2026-04-31", "April 2026 has 30 days"),
        ("2026-13-01", "no month 13"),
        ("2026-00-10", "no month 0"),
        ("2026-01-00", "January 2026 has 31 days"),
        ("02-30", "February 2026 has 28 days"),
        ("0000-01-01", "year is out of range"),
        ("13月1日", "no month 13"),
        ("soonish", "`soonish` isn't a date"),
        ("next week", "is a whole week, not one day"),
        ("+3x", "isn't a date"),
        ("+d", "isn't a date"),
        ("2026-12", "isn't a date"),
        ("12-01-2026", "isn't a date"),
        ("2026-12/01", "isn't a date"),
        ("03/04", "`2026-04-03` for the first or `2026-03-04` for the second"),
        ("12/01", "could be day/month or month/day"),
        ("32/13", "isn't a date"),
        ("31/02", "February 2026 has 28 days"),
        ("next soon", "isn't a date"),
        ("15.12", "reads month.day"),
        ("+99999d", "isn't a date"),
        ("+9999y", "too far away"),
        ("-9999y", "too far away"),
        ("fri day", "isn't a date"),
        ("周八", "isn't a date"),
        ("T-12", "isn't a date"),
        ("", "date is missing"),
        ("   ", "date is missing"),
    ],
)
def test_parse_date_errors(value: str, fragment: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_date(value, today=WED)
    assert fragment in info.value.message


def test_an_ambiguous_slash_date_is_refused_in_chinese_too() -> None:
    with pytest.raises(ParseError) as info:
        parse_date("03/04", today=WED)
    assert "有歧义" in info.value.text("zh_CN") and "`2026-04-03`" in info.value.text("zh_CN")


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Beijing", "Asia/Shanghai"), ("北京", "Asia/Shanghai"), ("shanghai", "Asia/Shanghai"), ("上海", "Asia/Shanghai"),
        ("New York", "America/New_York"), ("new_york", "America/New_York"), ("London", "Europe/London"),
        ("Singapore", "Asia/Singapore"), ("Hong Kong", "Asia/Hong_Kong"), ("香港", "Asia/Hong_Kong"),
        ("Tokyo", "Asia/Tokyo"), ("东京", "Asia/Tokyo"), ("asia/shanghai", "Asia/Shanghai"),
        ("Europe/Berlin", "Europe/Berlin"), ("ＡＳＩＡ／ＴＯＫＹＯ", "Asia/Tokyo"),
    ],
)
def test_parse_zone_takes_cities_and_iana_names(typed: str, zone: str) -> None:
    assert parse_zone(typed) == zone


def test_parse_zone_refuses_an_unknown_place_naming_what_works() -> None:
    with pytest.raises(ParseError) as info:
        parse_zone("Mars/Base")
    assert "Beijing" in info.value.message and "Asia/Shanghai" in info.value.message


def test_parse_date_error_names_the_accepted_forms() -> None:
    with pytest.raises(ParseError) as info:
        parse_date("soonish", today=WED)
    for form in ("2026-12-01", "12-01", "today", "fri", "+3d", "eom"):
        assert form in info.value.message


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("value", "expected", "percent", "currency"),
    [
        ("12500", "12500", False, None),
        ("12,500", "12500", False, None),
        ("1,234,567", "1234567", False, None),
        ("1,234.56", "1234.56", False, None),
        ("12.5k", "12500", False, None),
        ("12.5K", "12500", False, None),
        ("1.2m", "1200000", False, None),
        ("1.2M", "1200000", False, None),
        ("2b", "2000000000", False, None),
        ("1.15k", "1150", False, None),  # exact: a float would give 1149.999…
        ("1.005k", "1005", False, None),
        ("15%", "0.15", True, None),
        ("12.5%", "0.125", True, None),
        ("33.3%", "0.333", True, None),
        ("100%", "1", True, None),
        ("0.5%", "0.005", True, None),
        ("-3%", "-0.03", True, None),
        ("¥12,500", "12500", False, "¥"),
        ("￥12,500", "12500", False, "¥"),
        ("12500元", "12500", False, "¥"),
        ("3万元", "30000", False, "¥"),
        ("$1,200", "1200", False, "$"),
        ("$1.2k", "1200", False, "$"),
        ("€5", "5", False, "€"),
        ("12€", "12", False, "€"),
        ("£3.50", "3.5", False, "£"),
        ("-$1,200", "-1200", False, "$"),
        ("$-1,200", "-1200", False, "$"),
        ("-3", "-3", False, None),
        ("+4.5", "4.5", False, None),
        ("0", "0", False, None),
        ("-0", "0", False, None),
        ("0.5", "0.5", False, None),
        (".5", "0.5", False, None),
        ("007", "7", False, None),
        ("3万", "30000", False, None),
        ("1.5亿", "150000000", False, None),
        ("3w", "30000", False, None),
        ("3千", "3000", False, None),
        ("１２，５００", "12500", False, None),
        ("１５％", "0.15", True, None),
        (" 42 ", "42", False, None),
        ("−5", "-5", False, None),  # Unicode minus sign
    ],
)
def test_parse_number(value: str, expected: str, percent: bool, currency: str | None) -> None:
    number = parse_number(value)
    assert number == Number(Decimal(expected), percent, currency)
    assert isinstance(number.value, Decimal)


def test_parse_number_is_exact_decimal() -> None:
    assert parse_number("0.1").value + parse_number("0.2").value == Decimal("0.3")
    assert str(parse_number("12.5k").value) == "12500"
    assert str(parse_number("15%").value) == "0.15"
    assert str(parse_number("1.5亿").value) == "150000000"
    big = "123456789012345678901234567890"
    assert parse_number(big).value == Decimal(big)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("abc", "`abc` isn't a number"),
        ("", "number is missing"),
        ("NaN", "isn't a number"),
        ("nan", "isn't a number"),
        ("inf", "isn't a number"),
        ("Infinity", "isn't a number"),
        ("-inf", "isn't a number"),
        ("12..5", "isn't a number"),
        ("1.2.3", "isn't a number"),
        ("5kk", "`5kk` isn't a number"),
        ("5km", "isn't a number"),
        ("1e5", "isn't a number"),
        ("0x10", "isn't a number"),
        ("1,2,3", "odd thousands separators"),
        ("12,50", "odd thousands separators"),
        ("1,2345", "odd thousands separators"),
        ("1234,567", "odd thousands separators"),
        (",123", "isn't a number"),
        ("12,", "odd thousands separators"),
        ("$", "isn't a number"),
        ("%", "isn't a number"),
        ("k", "isn't a number"),
        ("--3", "two signs"),
        ("+-3", "two signs"),
        ("-$-3", "two signs"),
        ("$12元", "currency twice"),
        ("$12€", "currency twice"),
        ("5k%", "mixes a percentage"),
        ("$15%", "mixes a percentage"),
        ("12 500", "isn't a number"),
        ("١٢", "isn't a number"),  # Arabic-Indic digits
        ("1" * 31, "too long"),
    ],
)
def test_parse_number_errors(value: str, fragment: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_number(value)
    assert fragment in info.value.message


@given(st.integers(min_value=-(10**20), max_value=10**20))
def test_parse_number_round_trips_grouped_integers(n: int) -> None:
    assert parse_number(f"{n:,}").value == n
    assert parse_number(str(n)).value == n


# --------------------------------------------------------------------------- users


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<@U123|ana>", UserRef("U123", None)),
        ("<@U123ABC>", UserRef("U123ABC", None)),
        ("<@W0ABC|ana maria>", UserRef("W0ABC", None)),
        ("@ana", UserRef(None, "ana")),
        ("@ana.b-c_d", UserRef(None, "ana.b-c_d")),
        ("@张三", UserRef(None, "张三")),
        ("＠ana", UserRef(None, "ana")),
        (" @ana ", UserRef(None, "ana")),
    ],
)
def test_parse_user(value: str, expected: UserRef) -> None:
    assert parse_user(value) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("ana", "`ana` isn't a person"),
        ("@", "isn't a person"),
        ("", "person is missing"),
        ("<@x>", "isn't a person"),
        ("<@C123>", "isn't a person"),
        ("<#C1|x>", "isn't a person"),
        ("<!channel>", "isn't a person"),
        ("U123", "isn't a person"),
        ("@ana bob", "isn't a person"),
        ("ana@x.com", "isn't a person"),
    ],
)
def test_parse_user_errors(value: str, fragment: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_user(value)
    assert fragment in info.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@U1|ana>", True),
        ("<@U1|ana maria>", True),
        ("<@W1>", True),
        ("@ana", True),
        ("@张三", True),
        ('"@ana"', False),
        ("「<@U1|ana>」", False),
        ("&lt;@U1&gt;", False),  # typed as text, not a real mention
        ("ana", False),
        ("<#C1|x>", False),
        ("<!channel>", False),
        ("ana@x.com", False),
        ("@", False),
    ],
)
def test_is_user_token(text: str, expected: bool) -> None:
    [token] = tokenize(text)
    assert is_user_token(token) is expected


# --------------------------------------------------------------------------- refs


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("T-12", "task", 12),
        ("t12", "task", 12),
        ("T12", "task", 12),
        ("t-12", "task", 12),
        ("#12", "task", 12),
        ("12", "task", 12),
        ("T-012", "task", 12),
        ("T-1", "task", 1),
        (" T-12 ", "task", 12),
        ("T-12,", "task", 12),
        ("Ｔ－１２", "task", 12),
        ("G-3", "goal", 3),
        ("g3", "goal", 3),
        ("C-2", "campaign", 2),
        ("F-7", "feedback", 7),
        ("R-1", "retro", 1),
        ("K-4", "kpi", 4),
        ("k4", "kpi", 4),
        ("2147483647", "task", 2147483647),
    ],
)
def test_parse_ref(value: str, kind: str, expected: int) -> None:
    assert parse_ref(value, kind) == expected


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        ("G-3", "task", "`G-3` is a goal; expected a task like T-12"),
        ("g3", "task", "`g3` is a goal; expected a task like T-12"),
        ("T-1", "goal", "`T-1` is a task; expected a goal like G-12"),
        ("R-2", "campaign", "`R-2` is a retrospective; expected a campaign like C-12"),
        ("K-4", "feedback", "`K-4` is a KPI metric; expected a feedback item like F-12"),
        ("F-7", "kpi", "`F-7` is a feedback item; expected a KPI metric like K-12"),
        ("C-2", "retro", "`C-2` is a campaign; expected a retrospective like R-12"),
        ("0", "task", "`0` isn't a task — numbers start at T-1"),
        ("T-0", "task", "`T-0` isn't a task — numbers start at T-1"),
        ("-3", "task", "`-3` isn't a task — use one like T-12"),
        ("T--3", "task", "isn't a task"),
        ("abc", "goal", "`abc` isn't a goal — use one like G-12"),
        ("X-3", "task", "`X-3` isn't a task"),
        ("T-", "task", "isn't a task"),
        ("T-1.5", "task", "isn't a task"),
        ("TT-1", "task", "isn't a task"),
        ("<#C1|x>", "campaign", "isn't a campaign"),
        ("T-99999999999", "task", "too big"),
        ("", "task", "a task is missing"),
        ("", "kpi", "a KPI metric is missing"),
        ("١٢", "task", "isn't a task"),
    ],
)
def test_parse_ref_errors(value: str, kind: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_ref(value, kind)
    assert message in info.value.message


def test_parse_ref_rejects_unknown_kind_as_a_bug() -> None:
    with pytest.raises(ValueError):
        parse_ref("T-1", "tasks")
    with pytest.raises(ValueError):
        format_ref("tasks", 1)


@pytest.mark.parametrize(
    ("kind", "number", "expected"),
    [("task", 12, "T-12"), ("goal", 3, "G-3"), ("campaign", 2, "C-2"), ("feedback", 7, "F-7"),
     ("retro", 1, "R-1"), ("kpi", 4, "K-4")],
)  # fmt: skip
def test_format_ref(kind: str, number: int, expected: str) -> None:
    assert format_ref(kind, number) == expected
    assert parse_ref(expected, kind) == number


def test_ref_kinds() -> None:
    assert REF_KINDS == {"task": "T", "goal": "G", "campaign": "C", "feedback": "F", "retro": "R", "kpi": "K"}


@given(st.sampled_from(sorted(REF_KINDS)), st.integers(min_value=1, max_value=2**31 - 1))
def test_ref_round_trip(kind: str, number: int) -> None:
    assert parse_ref(format_ref(kind, number), kind) == number


# --------------------------------------------------------------------------- choices


@pytest.mark.parametrize(
    ("value", "choices", "expected"),
    [
        ("sum", ["sum", "avg", "last"], "sum"),
        ("AVG", ["sum", "avg", "last"], "avg"),
        (" Last ", ["sum", "avg", "last"], "last"),
        ("customer", ["Customer", "Team"], "Customer"),
        ("ｕｐ", ["up", "down"], "up"),
        ("月", ["月", "季度"], "月"),
    ],
)
def test_parse_choice(value: str, choices: list[str], expected: str) -> None:
    assert parse_choice(value, choices, name="agg") == expected


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        ("median", ["`median` isn't a valid agg", "sum, avg, last"]),
        ("su", ["`su` isn't a valid agg"]),
        ("", ["agg is missing", "sum, avg, last"]),
    ],
)
def test_parse_choice_errors(value: str, fragments: list[str]) -> None:
    with pytest.raises(ParseError) as info:
        parse_choice(value, ["sum", "avg", "last"], name="agg")
    for fragment in fragments:
        assert fragment in info.value.message


# --------------------------------------------------------------------------- tags


@pytest.mark.parametrize(
    ("text", "remaining", "tags"),
    [
        ("great price #Price", ["great", "price"], ["price"]),
        ("太贵了 #双十一 #价格", ["太贵了"], ["双十一", "价格"]),
        ("#SEO优化 x", ["x"], ["seo优化"]),
        ("<#C123|Growth> ok", ["ok"], ["growth"]),
        ("<#G123|私域> ok", ["ok"], ["私域"]),
        ("#618 sale", ["sale"], ["618"]),
        ("#话题# x", ["x"], ["话题"]),
        ("#a, #b.", [], ["a", "b"]),
        ("#a #A #a", [], ["a"]),
        ("＃Tag", [], ["tag"]),
        ('"#notag" x', ["#notag", "x"], []),
        ("「#引用」", ["#引用"], []),
        ("# alone", ["#", "alone"], []),
        ("## x", ["##", "x"], []),
        ("<#C123> x", ["<#C123>", "x"], []),
        ("<#C123|> x", ["<#C123|>", "x"], []),
        ("&lt;#C1|x&gt;", ["<#C1|x>"], []),
        ("a#b", ["a#b"], []),
        ("#a#b", ["#a#b"], []),
        ("", [], []),
    ],
)
def test_parse_tags(text: str, remaining: list[str], tags: list[str]) -> None:
    words, found = parse_tags(tokenize(text))
    assert [w.text for w in words] == remaining
    assert found == tags


def test_parse_tags_keeps_tokens_in_order() -> None:
    tokens = tokenize('love it #ux "so fast" <@U1|ana>')
    words, tags = parse_tags(tokens)
    assert words == [tokens[0], tokens[1], tokens[3], tokens[4]]
    assert tags == ["ux"]


# --------------------------------------------------------------------------- links


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<https://x.y/brief|the brief>", "https://x.y/brief"),
        ("<https://x.y/brief>", "https://x.y/brief"),
        ("<http://x.y/?a=1&amp;b=2>", "http://x.y/?a=1&b=2"),
        ("https://x.y/a", "https://x.y/a"),
    ],
)
def test_parse_url(value: str, expected: str) -> None:
    assert parse_url(value) == expected


@pytest.mark.parametrize("value", ["brief", "", "<@U1|ana>", "<#C1|x>", "ftp://x.y", "https://"])
def test_parse_url_errors(value: str) -> None:
    with pytest.raises(ParseError, match="isn't a link"):
        parse_url(value)


# --------------------------------------------------------------------------- times of day


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("09:00", (9, 0)),
        ("9:00", (9, 0)),
        ("17:30", (17, 30)),
        ("00:00", (0, 0)),
        ("23:59", (23, 59)),
        ("9am", (9, 0)),
        ("9AM", (9, 0)),
        ("9 am", (9, 0)),
        ("9a.m.", (9, 0)),
        ("12am", (0, 0)),
        ("12pm", (12, 0)),
        ("1pm", (13, 0)),
        ("5:30pm", (17, 30)),
        ("11:45PM", (23, 45)),
        ("noon", (12, 0)),
        ("Midnight", (0, 0)),
        ("０９：００", (9, 0)),
        ("9：30", (9, 30)),
        ("9点", (9, 0)),
        ("9点30", (9, 30)),
        ("9点30分", (9, 30)),
        ("9点半", (9, 30)),
        ("17点", (17, 0)),
        ("上午10点", (10, 0)),
        ("下午3点", (15, 0)),
        ("下午3点半", (15, 30)),
        ("晚上8点", (20, 0)),
        ("中午12点", (12, 0)),
        ("中午1点", (13, 0)),
        ("凌晨0点", (0, 0)),
    ],
)
def test_parse_time_of_day(value: str, expected: tuple[int, int]) -> None:
    assert parse_time_of_day(value) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("24:00", "isn't a time of day"),
        ("9:60", "isn't a time of day"),
        ("9:5", "isn't a time of day"),
        ("9:000", "isn't a time of day"),
        ("13pm", "isn't a time of day"),
        ("0am", "isn't a time of day"),
        ("9", "`9` needs minutes or am/pm — like 09:00"),
        ("17", "like 17:00"),
        ("25", "isn't a time of day"),
        ("abc", "`abc` isn't a time of day"),
        ("noonish", "isn't a time of day"),
        ("25点", "isn't a time of day"),
        ("上午13点", "isn't a time of day"),
        ("9点60", "isn't a time of day"),
        ("-9:00", "isn't a time of day"),
        ("", "time is missing"),
    ],
)
def test_parse_time_of_day_errors(value: str, fragment: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_time_of_day(value)
    assert fragment in info.value.message


# --------------------------------------------------------------------------- weekdays


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mon-fri", [0, 1, 2, 3, 4]),
        ("MON-FRI", [0, 1, 2, 3, 4]),
        ("monday-wednesday", [0, 1, 2]),
        ("mon–fri", [0, 1, 2, 3, 4]),
        ("mon,wed,fri", [0, 2, 4]),
        ("mon, wed", [0, 2]),
        ("fri,mon", [0, 4]),
        ("mon,mon", [0]),
        ("mon-wed,fri", [0, 1, 2, 4]),
        ("tue", [1]),
        ("sun", [6]),
        ("sat-sun", [5, 6]),
        ("fri-mon", [0, 4, 5, 6]),  # wraps over the weekend
        ("wed-wed", [2]),
        ("daily", [0, 1, 2, 3, 4, 5, 6]),
        ("everyday", [0, 1, 2, 3, 4, 5, 6]),
        ("Daily", [0, 1, 2, 3, 4, 5, 6]),
        ("weekdays", [0, 1, 2, 3, 4]),
        ("weekends", [5, 6]),
        ("每天", [0, 1, 2, 3, 4, 5, 6]),
        ("工作日", [0, 1, 2, 3, 4]),
        ("周末", [5, 6]),
        ("周一至周五", [0, 1, 2, 3, 4]),
        ("周一-周五", [0, 1, 2, 3, 4]),
        ("周一,周三", [0, 2]),
        ("周一、周三、周五", [0, 2, 4]),
        ("星期六，星期日", [5, 6]),
    ],
)
def test_parse_weekdays(value: str, expected: list[int]) -> None:
    assert parse_weekdays(value) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "days are missing"),
        ("funday", "`funday` isn't a day"),
        ("mon-", "isn't a day"),
        ("-fri", "isn't a day"),
        ("mon,,fri", "isn't a day"),
        ("mon-fun", "`mon-fun` isn't a day"),
        ("8", "isn't a day"),
        ("weekly", "isn't a day"),
        ("周八", "isn't a day"),
    ],
)
def test_parse_weekdays_errors(value: str, fragment: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_weekdays(value)
    assert fragment in info.value.message
    assert "mon-fri" in info.value.message


# --------------------------------------------------------------------------- properties

_TRICKY = [
    *'ab1:=：＝"“”「」『』＂<>@#!|&;ltgamp/ \t\u3000dueT-',
    "&amp;",
    "&lt;",
    "&gt;",
    "<@U1|a b>",
    "<!channel>",
]
tricky_text = st.lists(st.sampled_from(_TRICKY), max_size=30).map("".join)
any_text = st.one_of(st.text(), tricky_text)


@given(any_text)
def test_tokenize_returns_or_raises_parse_error(text: str) -> None:
    try:
        tokens = tokenize(text)
    except ParseError as exc:
        assert exc.message
        return
    for token in tokens:
        assert isinstance(token, Token)
        assert token.raw
        assert token.raw in text


@given(any_text, st.sampled_from([set(), {"due", "a"}, {"due": "due", "b": "due", "t": "t"}]))
def test_parse_args_returns_or_raises_parse_error(text: str, options: set[str] | dict[str, str]) -> None:
    try:
        parsed = parse_args(text, options=options, usage="usage")
    except ParseError as exc:
        assert exc.message
        assert exc.usage == "usage"
        return
    allowed = set(options.values()) if isinstance(options, dict) else set(options)
    assert set(parsed.options) <= allowed
    assert all(parsed.options.values())
    assert "  " not in parsed.text()


@given(st.text(alphabet=st.characters(blacklist_characters='"“”「」『』＂<>&')))
def test_unquoted_text_splits_like_str_split(text: str) -> None:
    assert [t.text for t in tokenize(text)] == text.split()


@given(any_text)
def test_value_parsers_return_or_raise_parse_error(text: str) -> None:
    parsers = [
        lambda v: parse_date(v, today=WED),
        parse_number,
        parse_user,
        lambda v: parse_ref(v, "task"),
        lambda v: parse_choice(v, ["a", "b"], name="x"),
        parse_time_of_day,
        parse_weekdays,
        parse_url,
    ]
    for parse in parsers:
        try:
            parse(text)
        except ParseError as exc:
            assert exc.message


@given(st.text(alphabet="0123456789+-.,%kmKM¥$万亿dwy:/年月日周一五", max_size=12))
def test_number_and_date_fuzz(text: str) -> None:
    for parse in (parse_number, lambda v: parse_date(v, today=date(2024, 2, 29)), parse_time_of_day):
        with contextlib.suppress(ParseError):
            parse(text)
