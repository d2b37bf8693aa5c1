"""Dates and time zones as Chinese and English marketers type them: month.day, 15号, 3天后, words (`end of next
month`, `dec 15`), whole weeks and months refused with the days they could mean, and option values of several
words unquoted (`due:next fri`, `tz:New York`). The README's date notes and the usage notes list only forms
that parse."""

from __future__ import annotations

import json
import re
import zoneinfo
from datetime import date
from pathlib import Path

import pytest

from commands.grammar import CITY_ZONES, PHRASE_OPTIONS, ParseError, parse_args, parse_date, parse_zone

WED = date(2026, 3, 18)  # a Wednesday
DEC = date(2026, 12, 20)  # a Sunday, late in the last month of a year
ROOT = Path(__file__).resolve().parents[2]
TASK_OPTIONS = {"due": "due", "by": "due", "start": "start", "campaign": "campaign", "owner": "owner"}


@pytest.mark.parametrize(
    ("value", "today", "expected"),
    [
        # month.day, as on 双12 and 6.18 posters
        ("12.15", WED, date(2026, 12, 15)),
        ("6.18", WED, date(2026, 6, 18)),
        ("11.11", WED, date(2026, 11, 11)),
        ("03.04", WED, date(2026, 3, 4)),  # a dot is always month.day
        ("1.5", WED, date(2026, 1, 5)),  # this year, even if already past
        ("１２．１５", WED, date(2026, 12, 15)),
        # the nth of this month, never moved to the next one (as 12-01 is this year's); 下月 for the next month's
        ("15号", WED, date(2026, 3, 15)),
        ("15日", WED, date(2026, 3, 15)),
        ("5号", WED, date(2026, 3, 5)),  # already past: still this month's
        ("30号", WED, date(2026, 3, 30)),
        ("十五号", WED, date(2026, 3, 15)),
        ("二十五号", WED, date(2026, 3, 25)),
        ("本月20号", WED, date(2026, 3, 20)),
        ("下月15号", WED, date(2026, 4, 15)),
        ("下个月1号", WED, date(2026, 4, 1)),
        ("下月15号", DEC, date(2027, 1, 15)),
        # the parts of a month
        ("月初", WED, date(2026, 3, 1)),
        ("月中", WED, date(2026, 3, 15)),
        ("本月中", WED, date(2026, 3, 15)),
        ("下月初", WED, date(2026, 4, 1)),
        ("下个月初", DEC, date(2027, 1, 1)),
        ("下月中", WED, date(2026, 4, 15)),
        ("下月底", WED, date(2026, 4, 30)),
        ("下个月底", date(2026, 1, 10), date(2026, 2, 28)),
        ("下月末", DEC, date(2027, 1, 31)),
        # after so many days, weeks, months, years (calendar days)
        ("3天后", WED, date(2026, 3, 21)),
        ("3天後", WED, date(2026, 3, 21)),
        ("三天后", WED, date(2026, 3, 21)),
        ("10天后", WED, date(2026, 3, 28)),
        ("十天后", WED, date(2026, 3, 28)),
        ("3日后", WED, date(2026, 3, 21)),
        ("3天内", WED, date(2026, 3, 21)),
        ("一周后", WED, date(2026, 3, 25)),
        ("两周后", WED, date(2026, 4, 1)),
        ("2周后", WED, date(2026, 4, 1)),
        ("两个星期后", WED, date(2026, 4, 1)),
        ("1个月后", WED, date(2026, 4, 18)),
        ("一个月后", date(2026, 1, 31), date(2026, 2, 28)),
        ("三个月之后", WED, date(2026, 6, 18)),
        ("一年后", WED, date(2027, 3, 18)),
        # more Chinese weekdays
        ("下个星期五", WED, date(2026, 3, 27)),
        ("下個禮拜一", WED, date(2026, 3, 23)),
        ("这个星期五", WED, date(2026, 3, 20)),
        ("下周末", WED, date(2026, 3, 29)),
        # English words
        ("next-fri", WED, date(2026, 3, 27)),
        ("next  friday", WED, date(2026, 3, 27)),
        ("this monday", WED, date(2026, 3, 16)),
        ("end of month", WED, date(2026, 3, 31)),
        ("end of the month", date(2024, 2, 3), date(2024, 2, 29)),
        ("end of this month", WED, date(2026, 3, 31)),
        ("End of Next Month", WED, date(2026, 4, 30)),
        ("end of next month", DEC, date(2027, 1, 31)),
        ("start of next month", WED, date(2026, 4, 1)),
        ("beginning of next month", DEC, date(2027, 1, 1)),
        ("start of month", WED, date(2026, 3, 1)),
        ("end of week", WED, date(2026, 3, 20)),
        ("end of next week", WED, date(2026, 3, 27)),
        ("start of next week", WED, date(2026, 3, 23)),
        ("start of next week", DEC, date(2026, 12, 21)),
        ("end of quarter", WED, date(2026, 3, 31)),
        ("end of next quarter", WED, date(2026, 6, 30)),
        ("end of next quarter", DEC, date(2027, 3, 31)),
        ("start of next quarter", date(2026, 8, 2), date(2026, 10, 1)),
        ("end of year", WED, date(2026, 12, 31)),
        ("end of next year", WED, date(2027, 12, 31)),
        ("start of next year", WED, date(2027, 1, 1)),
        ("day after tomorrow", WED, date(2026, 3, 20)),
        ("in 3 days", WED, date(2026, 3, 21)),
        ("3 days", WED, date(2026, 3, 21)),
        ("in 3days", WED, date(2026, 3, 21)),
        ("in a week", WED, date(2026, 3, 25)),
        ("in two weeks", WED, date(2026, 4, 1)),
        ("2 weeks from now", WED, date(2026, 4, 1)),
        ("3 days later", WED, date(2026, 3, 21)),
        ("in 1 month", date(2026, 1, 31), date(2026, 2, 28)),
        ("in a year", WED, date(2027, 3, 18)),
        ("dec 15", WED, date(2026, 12, 15)),
        ("Dec 15th", WED, date(2026, 12, 15)),
        ("December 1st, 2027", WED, date(2027, 12, 1)),
        ("dec. 15 2027", WED, date(2027, 12, 15)),
        ("15 dec", WED, date(2026, 12, 15)),
        ("1st of may", WED, date(2026, 5, 1)),
        ("15 December 2027", WED, date(2027, 12, 15)),
        ("Nov 1, 2026", WED, date(2026, 11, 1)),
    ],
)
def test_parse_date_reads_the_forms_people_type(value: str, today: date, expected: date) -> None:
    assert parse_date(value, today=today) == expected


@pytest.mark.parametrize(
    ("value", "english", "chinese"),
    [
        # a whole week or month: the two days it could mean, and how to write each
        ("下周", "`下周` is a whole week, not one day — write `下周一` (2026-03-23) or `下周五` (2026-03-27)",
         "`下周` 是一整周，不是某一天：请写 `下周一`（2026-03-23）或 `下周五`（2026-03-27）"),
        ("下个星期", "write `下周一` (2026-03-23) or `下周五` (2026-03-27)", "是一整周"),
        ("下礼拜", "write `下周一`", "是一整周"),
        ("下下周", "write `下下周一` (2026-03-30) or `下下周五` (2026-04-03)", "是一整周"),
        ("本周", "write `本周一` (2026-03-16) or `本周五` (2026-03-20)", "是一整周"),
        ("这周", "write `本周一`", "是一整周"),
        ("下个月", "`下个月` is a whole month, not one day — write `下月初` (2026-04-01) or `下月底` (2026-04-30)",
         "`下个月` 是一整个月，不是某一天：请写 `下月初`（2026-04-01）或 `下月底`（2026-04-30）"),
        ("下月", "write `下月初` (2026-04-01) or `下月底` (2026-04-30)", "是一整个月"),
        ("本月", "write `月初` (2026-03-01) or `月底` (2026-03-31)", "是一整个月"),
        ("这个月", "write `月初`", "是一整个月"),
        ("next week", "`next week` is a whole week, not one day — write `next mon` (2026-03-23) or `next fri` (2026-03-27)",
         "`next week` 是一整周，不是某一天：请写 `next mon`（2026-03-23）或 `next fri`（2026-03-27）"),
        ("this week", "write `this mon` (2026-03-16) or `this fri` (2026-03-20)", "是一整周"),
        ("next month", "write `start of next month` (2026-04-01) or `end of next month` (2026-04-30)", "是一整个月"),
        ("this month", "write `start of month` (2026-03-01) or `end of month` (2026-03-31)", "是一整个月"),
        ("next quarter", "is a whole quarter, not one day — write `start of next quarter` (2026-04-01) or "
         "`end of next quarter` (2026-06-30)", "是一整个季度"),
        ("next year", "is a whole year, not one day — write `start of next year` (2027-01-01)", "是一整年"),
        ("next-month", "is a whole month", "是一整个月"),
        # a dot is month.day, so a day.month is refused with the way to write it
        ("15.12", "`15.12` reads month.day (like 6.18), and there is no month 15 — write `12.15` or `2026-12-15`",
         "`15.12` 中的点号按“月.日”读（如6.18），没有15月：请写 `12.15` 或 `2026-12-15`"),
        ("13.13", "there is no month 13", "没有13月"),
        ("2.30", "February 2026 has 28 days", "2026年2月只有28天"),
        # the nth that this month does not have
        ("31号", "", ""),  # checked below against February
        ("32号", "March 2026 has 31 days", "只有31天"),
        ("0号", "March 2026 has 31 days", "只有31天"),
        ("dec 32", "December 2026 has 31 days", "只有31天"),
        ("feb 30", "February 2026 has 28 days", "只有28天"),
        # still no date: an ambiguous slash, a month after which no one can tell, numbers that are not numbers
        ("03/04", "`2026-04-03` for the first or `2026-03-04` for the second", "有歧义"),
        ("1月后", "isn't a date I understand", "无法识别日期"),  # after January, or in a month?
        ("3工作日后", "isn't a date I understand", "无法识别日期"),  # working days: holidays are not known
        ("十十号", "isn't a date I understand", "无法识别日期"),
        ("下下个月", "isn't a date I understand", "无法识别日期"),
        ("next soon", "isn't a date I understand", "无法识别日期"),
        ("in some days", "isn't a date I understand", "无法识别日期"),
        ("smarch 15", "isn't a date I understand", "无法识别日期"),
        ("end of day", "isn't a date I understand", "无法识别日期"),
        ("中", "isn't a date I understand", "无法识别日期"),
    ],
)
def test_parse_date_refuses_with_a_reason(value: str, english: str, chinese: str) -> None:
    today = date(2026, 2, 10) if value == "31号" else WED
    with pytest.raises(ParseError) as info:
        parse_date(value, today=today)
    if value == "31号":
        english, chinese = "February 2026 has 28 days", "2026年2月只有28天"
    assert english in info.value.message
    assert chinese in info.value.text("zh_CN")


def test_fifteenth_reads_like_a_day_month_slash_date_this_month_and_this_year() -> None:
    """15号 is this month's 15th whatever today is, as 15/12 is this year's 15 December: never moved on."""
    for today in (date(2026, 3, 1), date(2026, 3, 15), date(2026, 3, 31)):
        assert parse_date("15号", today=today) == date(2026, 3, 15)
        assert parse_date("15/12", today=today) == date(2026, 12, 15)
    assert parse_date("15/12", today=date(2026, 12, 20)) == date(2026, 12, 15)


# --------------------------------------------------------------------------- several words, no quotes


@pytest.mark.parametrize(
    ("text", "options", "words"),
    [
        ("Banner due:next fri", {"due": "next fri"}, ["Banner"]),
        ("Banner due:next friday", {"due": "next friday"}, ["Banner"]),
        ("Banner due:Next Fri draft", {"due": "Next Fri"}, ["Banner", "draft"]),
        ("Banner by:next fri", {"due": "next fri"}, ["Banner"]),
        ("Banner start:next monday due:next fri", {"start": "next monday", "due": "next fri"}, ["Banner"]),
        ("Banner due:next fri @bo campaign:C-2", {"due": "next fri", "campaign": "C-2"}, ["Banner", "@bo"]),
        ("Banner due:this fri", {"due": "this fri"}, ["Banner"]),
        ("Banner due:end of month", {"due": "end of month"}, ["Banner"]),
        ("Banner due:end of the month copy", {"due": "end of the month"}, ["Banner", "copy"]),
        ("Banner due:end of next month", {"due": "end of next month"}, ["Banner"]),
        ("Banner due:in 2 weeks", {"due": "in 2 weeks"}, ["Banner"]),
        ("Banner due:3 days later", {"due": "3 days later"}, ["Banner"]),
        ("Banner due:dec 15", {"due": "dec 15"}, ["Banner"]),
        ("Banner due:dec 15, 2027 v2", {"due": "dec 15, 2027"}, ["Banner", "v2"]),
        ("Banner due:15 dec", {"due": "15 dec"}, ["Banner"]),
        ("Banner due:day after tomorrow", {"due": "day after tomorrow"}, ["Banner"]),
        # refused as a whole, not cut at the first word
        ("Banner due:next week", {"due": "next week"}, ["Banner"]),
        ("Banner due:next month plan", {"due": "next month"}, ["Banner", "plan"]),
        # the value alone, when the next word does not continue it
        ("Banner due:fri next", {"due": "fri"}, ["Banner", "next"]),
        ("Banner due:next fri week", {"due": "next fri"}, ["Banner", "week"]),
        ("Banner due:tomorrow morning", {"due": "tomorrow"}, ["Banner", "morning"]),
        ("Banner due:next", {"due": "next"}, ["Banner"]),  # refused when parsed, as `next`
        ("Banner due:next soon", {"due": "next"}, ["Banner", "soon"]),
        ("Banner due:12-01 2027", {"due": "12-01"}, ["Banner", "2027"]),
        # a quoted value is whole already; a quoted word after it is the title's
        ('Banner due:"next fri" draft', {"due": "next fri"}, ["Banner", "draft"]),
        ('Banner due:next "fri"', {"due": "next"}, ["Banner", "fri"]),
        ("Banner due:next <@U1> fri", {"due": "next"}, ["Banner", "<@U1>", "fri"]),
        # an option after the value is an option, not a word of the date
        ("Banner due:next start:fri", {"due": "next", "start": "fri"}, ["Banner"]),
        # Chinese dates are one word already
        ("主图 due:下周五 campaign:C-1", {"due": "下周五", "campaign": "C-1"}, ["主图"]),
        ("主图 due:15号 设计", {"due": "15号"}, ["主图", "设计"]),
        # an option that is no date takes one word
        ("Banner campaign:next fri", {"campaign": "next"}, ["Banner", "fri"]),
    ],
)
def test_a_date_option_takes_the_words_that_continue_it(text: str, options: dict[str, str], words: list[str]) -> None:
    parsed = parse_args(text, options=TASK_OPTIONS)
    assert parsed.options == options
    assert [w.text for w in parsed.words] == words


def test_every_date_option_key_takes_several_words() -> None:
    for key in ("due", "by", "start", "end", "date"):
        assert PHRASE_OPTIONS[key] == "date"
        assert parse_args(f"x {key}:end of next month y", options={key}).options == {key: "end of next month"}
    assert parse_args("x date:next fri", options={"date": "date", "day": "date", "on": "date"}).options == {
        "date": "next fri"
    }
    assert parse_args("x on:next fri", options={"date": "date", "on": "date"}).options == {"date": "next fri"}


def test_a_command_can_read_its_options_one_word_each() -> None:
    parsed = parse_args("gmv by:next fri", options={"by"}, phrases={})
    assert parsed.options == {"by": "next"} and [w.text for w in parsed.words] == ["gmv", "fri"]


def test_a_space_after_the_colon_names_the_whole_date_to_write() -> None:
    with pytest.raises(ParseError) as info:
        parse_args("Banner due: next fri", options=TASK_OPTIONS)
    assert "`due:next fri`" in info.value.message
    with pytest.raises(ParseError) as info:
        parse_args("digest 09:00 tz: New York", options={"tz"})
    assert "`tz:New York`" in info.value.message


def test_the_joined_value_parses_as_the_date_people_meant() -> None:
    parsed = parse_args("Banner due:next fri draft start:this mon", options=TASK_OPTIONS)
    assert parse_date(parsed.options["due"], today=WED) == date(2026, 3, 27)
    assert parse_date(parsed.options["start"], today=WED) == date(2026, 3, 16)
    assert parsed.text() == "Banner draft"


# --------------------------------------------------------------------------- time zones


@pytest.mark.parametrize(
    ("text", "zone", "words"),
    [
        ("digest 09:00 tz:New York", "America/New_York", ["digest", "09:00"]),
        ("digest 09:00 tz:new york days:mon-fri", "America/New_York", ["digest", "09:00"]),
        ("digest tz:New York City 09:00", "America/New_York", ["digest", "09:00"]),
        ("digest 09:00 tz:Los Angeles", "America/Los_Angeles", ["digest", "09:00"]),
        ("digest 09:00 tz:San Francisco", "America/Los_Angeles", ["digest", "09:00"]),
        ("digest 09:00 tz:Hong Kong", "Asia/Hong_Kong", ["digest", "09:00"]),
        ("digest 09:00 tz:Kuala Lumpur", "Asia/Kuala_Lumpur", ["digest", "09:00"]),
        ("digest 09:00 tz:Ho Chi Minh", "Asia/Ho_Chi_Minh", ["digest", "09:00"]),
        ("digest 09:00 tz:Ho Chi Minh City", "Asia/Ho_Chi_Minh", ["digest", "09:00"]),
        ("digest 09:00 tz:Salt Lake City", "America/Denver", ["digest", "09:00"]),
        ("digest 09:00 tz:Mexico City", "America/Mexico_City", ["digest", "09:00"]),
        ("digest 09:00 tz:Rio de Janeiro", "America/Sao_Paulo", ["digest", "09:00"]),
        ("digest 09:00 tz:Ｎｅｗ　Ｙｏｒｋ", "America/New_York", ["digest", "09:00"]),
        ("digest 09:00 tz:重庆", "Asia/Shanghai", ["digest", "09:00"]),
        ('digest 09:00 tz:"New York"', "America/New_York", ["digest", "09:00"]),
        ("digest 09:00 tz:Beijing", "Asia/Shanghai", ["digest", "09:00"]),
        ("digest 09:00 tz:America/New_York", "America/New_York", ["digest", "09:00"]),
    ],
)
def test_a_city_of_several_words_needs_no_quotes(text: str, zone: str, words: list[str]) -> None:
    parsed = parse_args(text, options={"tz": "tz", "timezone": "tz", "days": "days"})
    assert parse_zone(parsed.options["tz"]) == zone
    assert [w.text for w in parsed.words] == words


def test_a_word_that_names_no_city_with_the_zone_stays_out_of_it() -> None:
    parsed = parse_args("digest 09:00 tz:Beijing York", options={"tz"})
    assert parsed.options == {"tz": "Beijing"} and parsed.text() == "digest 09:00 York"
    parsed = parse_args("digest 09:00 tz:New Yrok", options={"tz"})
    assert parsed.options == {"tz": "New"}
    with pytest.raises(ParseError) as info:
        parse_zone(parsed.options["tz"])
    assert "`tz:New`" in info.value.message


def test_every_city_is_a_real_zone_and_reads_unquoted() -> None:
    zones = zoneinfo.available_timezones()
    for city, zone in CITY_ZONES.items():
        assert zone in zones, city
        assert city == city.lower() and city == " ".join(city.split()), city
        typed = city.title() if city.isascii() else city
        parsed = parse_args(f"digest 09:00 tz:{typed} days:mon-fri", options={"tz", "days"})
        assert parse_zone(parsed.options["tz"]) == zone, city
        assert parsed.text() == "digest 09:00", city


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("重庆", "Asia/Shanghai"), ("武汉", "Asia/Shanghai"), ("苏州", "Asia/Shanghai"), ("西安", "Asia/Shanghai"),
        ("Xi'an", "Asia/Shanghai"), ("厦门", "Asia/Shanghai"), ("义乌", "Asia/Shanghai"), ("北京时间", "Asia/Shanghai"),
        ("高雄", "Asia/Taipei"), ("澳門", "Asia/Macau"), ("HK", "Asia/Hong_Kong"), ("KL", "Asia/Kuala_Lumpur"),
        ("胡志明", "Asia/Ho_Chi_Minh"), ("Hanoi", "Asia/Ho_Chi_Minh"), ("大阪", "Asia/Tokyo"),
        ("Washington DC", "America/New_York"), ("Las Vegas", "America/Los_Angeles"), ("硅谷", "America/Los_Angeles"),
        ("Buenos Aires", "America/Argentina/Buenos_Aires"), ("Frankfurt", "Europe/Berlin"),
    ],
)
def test_more_cities(typed: str, zone: str) -> None:
    assert parse_zone(typed) == zone


# --------------------------------------------------------------------------- what the docs promise


def _readme_dates_note() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("- **Dates**:", 1)[1].split("\n- **", 1)[0]


#: forms the README's date notes name as refused
README_REFUSED = {"15.12", "next week", "下周", "next month", "下个月", "this week", "本周", "this month", "本月",
                  "03/04"}


def test_every_date_in_the_readme_notes_parses_or_is_named_as_refused() -> None:
    spans = [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", _readme_dates_note())]
    dates = [span for span in spans if ":" not in span and not span.startswith("/")]
    assert len(dates) > 50
    for span in dates:
        if span in README_REFUSED:
            with pytest.raises(ParseError):
                parse_date(span, today=WED)
        elif span != "Banner draft":
            parse_date(span, today=WED)
    for refused in README_REFUSED:
        assert refused in dates, refused


def _catalog(locale: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((ROOT / "bot" / "i18n" / f"{locale}.json").read_text(encoding="utf-8"))
    return data


def _listed(text: str) -> list[str]:
    """The forms a note lists: `a, b or c` / `a、b或c`, each without what follows it in brackets."""
    forms = re.split(r", | or |、| ?或 ?", text)
    return [re.sub(r"（.*?）|\(.*?\)", "", form).strip() for form in forms]


def test_the_usage_notes_list_only_dates_that_parse() -> None:
    en, zh = _catalog("en"), _catalog("zh_CN")
    en_forms = _listed(en["usage.task.dates"].removeprefix("Dates: ").split(" (")[0])
    zh_forms = _listed(zh["usage.task.dates"].removeprefix("日期：").split("；")[0])
    hints = _listed(en["error.parse.hint.date"]) + _listed(zh["error.parse.hint.date"])
    for form in (*en_forms, *zh_forms, *hints):
        parse_date(form, today=WED)
    assert {"next fri", "12.15", "in 2 weeks", "end of next month"} <= set(en_forms)
    assert {"12.15", "15号", "3天后", "两周后", "月中", "下月底"} <= set(zh_forms)
    # what the Chinese note says to write instead of 下周 and 下个月 parses too
    for form in re.findall(r"（(下周一)、(下月初)）", zh["usage.task.dates"])[0]:
        parse_date(form, today=WED)
    assert "due:next fri" in en["usage.task.dates"]
    assert "tz:New York" in en["usage.mkt.example"] and "tz:New York" in zh["usage.mkt.example"]
