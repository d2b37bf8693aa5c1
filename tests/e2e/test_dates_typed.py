"""Dates and time zones typed the way marketers type them, over real signed HTTP: several words without quotes
(`due:next fri`, `tz:New York`), Chinese forms (`下月15号`, `3天后`), and a whole week refused with a reason,
writing nothing. Today is Monday 2026-11-23 (tests/support/harness.py)."""

from __future__ import annotations

from datetime import date

from tests.e2e.test_conversation import ok, wait_for_locale
from tests.support.harness import ANA, LILEI, MARKETING, Bot


def _day(value: object) -> date | None:
    return value if value is None or isinstance(value, date) else date.fromisoformat(str(value))


def _task(bot: Bot, number: int) -> tuple[str, date | None, date | None]:
    [(title, start_on, due_on)] = bot.rows(
        "SELECT title, start_on, due_on FROM tasks WHERE workspace_id = :team AND number = :n", n=number
    )
    return title, _day(start_on), _day(due_on)


def test_a_task_due_next_friday_typed_without_quotes(bot: Bot) -> None:
    said = ok(bot.say(ANA, "/task add Banner due:next fri draft"))
    assert "T-1" in said, said
    assert _task(bot, 1) == ("Banner draft", None, date(2026, 12, 4))  # the Friday of next week
    ok(bot.say(ANA, "/task add Copy start:next monday due:end of next month"))
    assert _task(bot, 2) == ("Copy", date(2026, 11, 30), date(2026, 12, 31))
    ok(bot.say(ANA, "/task add 主图 due:下月15号"))
    assert _task(bot, 3) == ("主图", None, date(2026, 12, 15))
    ok(bot.say(ANA, "/task add 详情页 due:3天后"))
    assert _task(bot, 4) == ("详情页", None, date(2026, 11, 26))
    ok(bot.say(ANA, "/task add Poster due:12.15"))
    assert _task(bot, 5) == ("Poster", None, date(2026, 12, 15))
    ok(bot.say(ANA, "/task due T-5 next fri"))
    assert _task(bot, 5)[2] == date(2026, 12, 4)
    ok(bot.say(ANA, '/goal add "Q4 GMV" metric:gmv target:¥2.5m by:end of next month'), in_channel=True)
    [(title, due_on)] = bot.rows("SELECT title, due_on FROM goals WHERE workspace_id = :team")
    assert (title, _day(due_on)) == ("Q4 GMV", date(2026, 12, 31))


def test_a_whole_week_or_month_is_refused_with_the_days_it_could_mean(bot: Bot) -> None:
    before = bot.counts()
    said = bot.say(ANA, "/task add Banner due:next week")
    assert said.status == 200 and said.ephemeral, said
    assert "`next week` is a whole week, not one day" in said and "`next fri` (2026-12-04)" in said, said
    bot.say(LILEI, "/mkt help")
    wait_for_locale(bot, LILEI)
    said = bot.say(LILEI, "/task add 主图 due:下周")
    assert said.ephemeral and "`下周` 是一整周，不是某一天" in said and "`下周五`（2026-12-04）" in said, said
    said = bot.say(LILEI, "/task add 主图 due:下个月")
    assert "`下月初`（2026-12-01）或 `下月底`（2026-12-31）" in said, said
    said = bot.say(ANA, "/task add Banner due:03/04")
    assert "could be day/month or month/day" in said, said
    assert bot.counts() == before


def test_a_schedule_in_new_york_typed_without_quotes(bot: Bot) -> None:
    said = ok(bot.say(ANA, "/mkt schedule digest 09:00 tz:New York", channel=MARKETING))
    assert "America/New_York" in said, said
    said = ok(bot.say(ANA, "/mkt schedule report weekly fri 17:00 tz:Ho Chi Minh City attach:xlsx", channel=MARKETING))
    assert "Asia/Ho_Chi_Minh" in said, said
    rows = bot.rows("SELECT kind, hour, minute, timezone FROM schedules WHERE workspace_id = :team ORDER BY number")
    assert rows == [("digest", 9, 0, "America/New_York"), ("report", 17, 0, "Asia/Ho_Chi_Minh")]
    said = bot.say(ANA, "/mkt schedule digest 09:00 tz:New Yrok", channel=MARKETING)
    assert "`tz:New` is not an IANA time zone" in said, said
