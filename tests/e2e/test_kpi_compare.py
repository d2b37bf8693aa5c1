"""`/kpi show`'s change says what it compares, over real signed HTTP (today is Mon 2026-11-23): the headline is the
period with today's values so far, the change its days that are over against as many before, with both figures
shown; a summed metric is compared by its mean per day logged; a period with no day over says why; a ratio or
average goal's "needed from here on" weighs the data logged, not the days elapsed."""

from __future__ import annotations

from datetime import date, timedelta

from tests.e2e.test_conversation import ok
from tests.support.harness import ANA, LILEI, TODAY, Bot, wait_until
from tests.support.language import not_chinese

TYPED = ["visits", "orders", "gmv", "conversion", "cac"]


def _days(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _chinese(bot: Bot, line: str) -> str:
    if not bot.app.locales.is_cached(bot.team_id, LILEI):
        bot.reply_to(LILEI, "/kpi list")
        wait_until(lambda: bot.app.locales.is_cached(bot.team_id, LILEI), what="李雷's locale")
    return bot.reply_to(LILEI, line).all_text()


def test_kpi_show_gives_the_two_figures_it_compares_and_the_days_of_each(bot: Bot) -> None:
    """Nov 11-16: 1,000 visits and 30 orders a day (3 %); Nov 17-22: 1,200 and 24 (2 %); today 5,000 and 500. The
    headline holds today (12,200 visits, 5.28 %); the change compares the 6 days over with the 6 before, and says
    so with the figures: 2 % vs 3 % is −33 %, 1,200 a day vs 1,000 a day is +20 %."""
    ok(bot.say(ANA, "/kpi define conversion = orders / visits"))
    for day in _days(date(2026, 11, 11), date(2026, 11, 16)):
        ok(bot.say(ANA, f"/kpi log visits 1000 orders 30 gmv 3000 date:{day}"))
    for day in _days(date(2026, 11, 17), date(2026, 11, 22)):
        ok(bot.say(ANA, f"/kpi log visits 1200 orders 24 gmv 3600 date:{day}"))
    ok(bot.say(ANA, f"/kpi log visits 5000 orders 500 gmv 50000 date:{TODAY}"))
    conversion = str(bot.say(ANA, "/kpi show conversion period:7d"))
    assert "*5.28%* (Nov 17 – today, today's values so far included)" in conversion, conversion
    assert ("-33%: 2% vs 3%, the 6 days over (Nov 17 – yesterday) vs the 6 days before (Nov 11 – Nov 16)"
            in conversion), conversion
    visits = ok(bot.say(ANA, "/kpi show visits period:7d"))
    assert "*12,200* (Nov 17 – today" in visits, visits
    assert "+20%: 1,200 a day vs 1,000 a day, the 6 days over" in visits, visits
    past = ok(bot.say(ANA, "/kpi show visits period:2026-11-17..2026-11-22"))
    assert "*7,200*\n+20%: 1,200 a day vs 1,000 a day over the 6 days before (Nov 11 – Nov 16)" in past, past
    assert "today" not in past.replace("yesterday", ""), "a period wholly over has no today in its headline"
    why = ok(bot.say(ANA, "/kpi show gmv why period:7d"))
    assert "3,000 a day → 3,600 a day" in why and "traffic +20%" in why, why
    chinese = _chinese(bot, "/kpi show conversion period:7d")
    assert "2%，此前6天" in chinese and "含今天" in chinese, chinese
    assert not not_chinese(chinese, TYPED), (not_chinese(chinese, TYPED), chinese)


def test_a_half_empty_earlier_window_is_compared_per_day_logged(bot: Bot) -> None:
    """A flat 1,000 visits a day, the 6 days before logged on 3 of them (the half allowed): 0 %, not +100 %; a 0
    logged on one of those days is a day at 0 (+50 %), not a day that vanishes (+200 %)."""
    for day in ("2026-11-14", "2026-11-15", "2026-11-16", *_days(date(2026, 11, 17), date(2026, 11, 22))):
        ok(bot.say(ANA, f"/kpi log visits 1000 orders 10 gmv 1000 date:{day}"))
    said = ok(bot.say(ANA, "/kpi show visits period:7d"))
    assert "0%: 1,000 a day vs 1,000 a day" in said and "+100%" not in said, said
    assert "6,000 over 6 of the 6 days compared, 3,000 over 3 of the 6 days before" in said, said
    why = ok(bot.say(ANA, "/kpi show gmv why period:7d"))
    assert "1,000 a day → 1,000 a day" in why and "traffic 0%" in why and "+100%" not in why, why
    ok(bot.say(ANA, "/kpi log visits 0 date:2026-11-14"))
    said = ok(bot.say(ANA, "/kpi show visits period:7d"))
    assert "+50%: 1,000 a day vs 666.67 a day" in said and "+200%" not in said, said
    chinese = _chinese(bot, "/kpi show visits period:7d")
    assert "6天中有3天有数据" in chinese and not not_chinese(chinese, TYPED), (not_chinese(chinese, TYPED), chinese)


def test_a_period_with_no_day_over_says_why_it_has_no_comparison(bot: Bot) -> None:
    """`period:this-week` on a Monday is today alone: nothing over to compare, and the reply says so."""
    ok(bot.say(ANA, "/kpi log visits 1000 date:yesterday"))
    ok(bot.say(ANA, "/kpi log visits 800"))
    for line in ("/kpi show visits period:this-week", "/kpi show visits period:1d"):
        said = ok(bot.say(ANA, line))
        assert "*800*" in said and "No comparison yet: no day of this period is over." in said, said
    chinese = _chinese(bot, "/kpi show visits period:this-week")
    assert "还没有已过完的一天" in chinese and not not_chinese(chinese, TYPED), chinese


def test_a_level_goal_needs_what_the_data_still_to_come_can_carry(bot: Bot) -> None:
    """CAC ¥60 wanted, one ¥75 logged on Nov 22, 8 days left (today included): ¥58.13 a day from here on does it,
    not ¥18.75 (the ¥75 weighed as if it stood for the 22 days elapsed). A conversion logged on 5 days at 2 % for
    a 3 % goal: the visits still to come at their run-rate over the 8 days must convert at 3.63 %, not 5.75 %."""
    ok(bot.say(ANA, "/kpi define cac agg:avg unit:¥ better:down"))
    ok(bot.say(ANA, "/kpi log cac ¥75 date:2026-11-22"))
    ok(bot.say(ANA, '/goal add "CAC ¥60" metric:cac target:¥60 start:2026-11-01 by:2026-11-30'), in_channel=True)
    said = ok(bot.say(ANA, "/goal show G-1"))
    assert "¥58.13" in said and "¥18.75" not in said, said
    ok(bot.say(ANA, "/kpi define conversion = orders / visits"))
    for day in _days(date(2026, 11, 18), date(2026, 11, 22)):
        ok(bot.say(ANA, f"/kpi log visits 1000 orders 20 date:{day}"))
    ok(bot.say(ANA, '/goal add "conv 3%" metric:conversion target:3% start:2026-11-01 by:2026-11-30'), in_channel=True)
    said = ok(bot.say(ANA, "/goal show G-2"))
    # 100 orders of 5,000 visits; 1,000 visits a day over the 8 days is 8,000 more: (100 + x × 8,000) ÷ 13,000 = 3 %
    assert "*Needed from here on*\n3.63%" in said and "5.75%" not in said, said


def test_a_one_day_period_is_named_once_and_counted_as_one_day(bot: Bot) -> None:
    for day in ("2026-11-21", "2026-11-22"):
        ok(bot.say(ANA, f"/kpi log visits 1000 orders 20 gmv 5000 date:{day}"))
    said = ok(bot.say(ANA, "/kpi show visits period:1d"))
    assert "today – today" not in said and "today – today" not in said.fallback, said
    said = ok(bot.say(ANA, "/kpi show gmv why period:2026-11-22..2026-11-22"))
    assert "yesterday – yesterday" not in said and "the 1 days" not in said, said
    assert "the day over vs the day before" in said, said
