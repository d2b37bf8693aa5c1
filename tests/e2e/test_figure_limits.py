"""Amounts the bot can hold, over real signed HTTP (today is Mon 2026-11-23): every amount typed (a value, a target,
a baseline, a check-in, a budget, a spend) beyond 1,000,000,000,000 either way, or so small it would be stored as
0, is refused privately and writes nothing; and sums of many large values never crash a reply or the digest, on
SQLite and PostgreSQL alike."""

from __future__ import annotations

from tests.e2e.test_conversation import ok
from tests.support.harness import ANA, MARKETING, Bot


def _refused(said: object, *words: str) -> None:
    text = str(said)
    assert getattr(said, "ephemeral", False) and "Something went wrong" not in text, text
    assert all(w in text for w in words), text


def test_amounts_beyond_what_storage_holds_are_refused_and_write_nothing(bot: Bot) -> None:
    for line in ("/kpi log gmv ¥2,000,000,000,000", "/kpi log gmv 12345678901234 channel:JD",
                 "/kpi log gmv 100 visits 20000亿 date:yesterday", "/kpi log gmv -¥1,000,000,000,001"):
        _refused(bot.say(ANA, line), "largest amount", "Nothing was saved")
    for line in ("/kpi log gmv 0.0000001", "/kpi log ctr 0.00001%"):
        _refused(bot.say(ANA, line), "smallest amount", "stored as 0")
    assert bot.rows("SELECT count(*) FROM kpi_values WHERE workspace_id = :w", w=bot.team_id) == [(0,)]
    assert bot.rows("SELECT count(*) FROM metrics WHERE workspace_id = :w", w=bot.team_id) == [(0,)]
    ok(bot.say(ANA, "/kpi log gmv ¥1,000,000,000,000 date:yesterday"))  # the limit itself is kept
    ok(bot.say(ANA, "/kpi log ctr 2.5% date:yesterday"))
    _refused(bot.say(ANA, '/goal add "Huge" metric:gmv target:¥50000亿 by:2026-12-31'), "largest amount", "target")
    _refused(bot.say(ANA, '/goal add "Huge" metric:gmv target:¥500 baseline:¥50000亿 by:2026-12-31'), "baseline")
    _refused(bot.say(ANA, '/goal add "Tiny" metric:ctr target:0.000001% by:2026-12-31'), "smallest amount")
    _refused(bot.say(ANA, '/campaign add "Big" start:2026-11-01 end:2026-11-30 budget:¥20000亿'), "largest amount")
    assert bot.rows("SELECT count(*) FROM goals WHERE workspace_id = :w", w=bot.team_id) == [(0,)]
    assert bot.rows("SELECT count(*) FROM campaigns WHERE workspace_id = :w", w=bot.team_id) == [(0,)]
    ok(bot.say(ANA, '/goal add "GMV" metric:gmv target:¥5,000 by:2026-12-31'), in_channel=True)
    _refused(bot.say(ANA, "/goal checkin G-1 ¥30000亿"), "largest amount")
    ok(bot.say(ANA, '/campaign add "Big" start:2026-11-01 end:2026-11-30 budget:¥2万'), in_channel=True)
    _refused(bot.say(ANA, "/campaign spend C-1 ¥30000亿"), "largest amount")
    assert bot.rows("SELECT count(*) FROM goal_checkins WHERE workspace_id = :w", w=bot.team_id) == [(0,)]
    assert bot.rows("SELECT count(*) FROM campaign_spend WHERE workspace_id = :w", w=bot.team_id) == [(0,)]


def test_sums_past_what_an_integer_holds_are_shown_not_crashed_on(any_db_bot: Bot) -> None:
    """¥900 billion a day on JD for 11 days: ¥9.9 trillion, past the 2⁶³ millionths SQLite's SUM of integers
    holds; `/kpi show`, `/goal show`, the weekly figures and the digest add them up exactly."""
    bot = any_db_bot
    for day in range(12, 23):
        ok(bot.say(ANA, f"/kpi log gmv ¥900,000,000,000 channel:JD date:2026-11-{day}"))
    shown = ok(bot.say(ANA, "/kpi show gmv period:30d"))
    assert "9,900,000,000,000" in shown or "¥9.9T" in shown, shown
    ok(bot.say(ANA, "/kpi show gmv period:30d by:channel"))
    ok(bot.say(ANA, '/goal add "Big" metric:gmv target:¥1,000,000,000,000 start:2026-11-01 by:2026-12-31'),
       in_channel=True)
    ok(bot.say(ANA, "/goal show G-1"))
    ok(bot.say(ANA, "/mkt digest now", channel=MARKETING))
    posted = bot.slack.wait_for_message(MARKETING, where=lambda m: m.is_bot and not m.is_ephemeral, timeout=10)
    assert "gmv" in posted.all_text() and "Something went wrong" not in posted.all_text(), posted.all_text()
