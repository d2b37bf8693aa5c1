"""Figures that must not mislead, over real signed HTTP (today is Mon 2026-11-23): which channels the digest
calls usual, `/kpi show … why` without enough earlier data, and what `/kpi log` refuses."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.test_conversation import ok
from tests.support.harness import ANA, LILEI, MARKETING, TODAY, Bot, wait_until
from tests.support.language import not_chinese

#: what the people typed, and names that read the same in both languages
TYPED = ["gmv", "visits", "orders", "天猫", "抖音", "GMV"]


def _digest(bot: Bot) -> str:
    ok(bot.say(ANA, "/mkt digest now", channel=MARKETING))
    posted = bot.slack.wait_for_message(MARKETING, where=lambda m: m.is_bot and not m.is_ephemeral, timeout=10)
    return posted.all_text()


def test_the_digest_names_a_channel_missing_only_when_it_logged_on_half_the_windows_days(bot: Bot) -> None:
    """天猫 logs every day from Nov 17 (yesterday, Nov 22, included); 抖音 logged on 4 of the 7 days before
    yesterday, JD on 3: only 抖音 usually logs, though JD logged on 3 of the 5 days anything was logged."""
    for day in range(17, 23):
        ok(bot.say(ANA, f"/kpi log visits 1000 channel:天猫 date:2026-11-{day}"))
    for day in (18, 19, 20, 21):
        ok(bot.say(ANA, f"/kpi log visits 500 channel:抖音 date:2026-11-{day}"))
    for day in (19, 20, 21):
        ok(bot.say(ANA, f"/kpi log visits 300 channel:JD date:2026-11-{day}"))
    text = _digest(bot)
    line = next((ln for ln in text.splitlines() if "visits" in ln), "")
    assert "1 of 2 channels logged (抖音 missing" in line, text
    assert "JD" not in line, text


def _chinese(bot: Bot, line: str) -> str:
    """What 李雷 (Slack locale zh-CN) reads: his first command warms the locale cache, as in Slack."""
    if not bot.app.locales.is_cached(bot.team_id, LILEI):
        bot.reply_to(LILEI, "/kpi list")
        wait_until(lambda: bot.app.locales.is_cached(bot.team_id, LILEI), what="李雷's locale")
    return bot.reply_to(LILEI, line).all_text()


def _log_funnel(bot: Bot, days_back: range, *, channel: str, orders: int = 300) -> None:
    for back in days_back:
        day = (TODAY - timedelta(days=back)).isoformat()
        ok(bot.say(ANA, f"/kpi log visits 10000 orders {orders} gmv ¥{orders * 100} channel:{channel} date:{day}"))


def test_why_without_earlier_data_says_so_and_never_compares_with_zero(bot: Bot) -> None:
    """Logging began 3 days ago: `/kpi show gmv why period:7d` has its 6 days over and nothing before them."""
    _log_funnel(bot, range(1, 4), channel="天猫")
    said = ok(bot.say(ANA, "/kpi show gmv why period:7d"))
    assert "¥0" not in said and "→" not in said, said
    assert "Not enough earlier data" in said, said
    chinese = _chinese(bot, "/kpi show gmv why period:7d")
    assert "¥0" not in chinese and "→" not in chinese, chinese
    assert "之前的数据不够" in chinese and not not_chinese(chinese, TYPED), (not_chinese(chinese, TYPED), chinese)


def test_why_holds_back_where_kpi_show_says_the_earlier_days_are_too_thin(bot: Bot) -> None:
    """The 6 days before the period hold 2 logged days: `/kpi show` gives no percentage, nor does `why`."""
    _log_funnel(bot, range(1, 7), channel="天猫", orders=150)
    _log_funnel(bot, range(7, 9), channel="天猫")
    shown = ok(bot.say(ANA, "/kpi show gmv period:7d"))
    assert "No comparison: the 6 days before this period have values on only 2 of them" in shown, shown
    said = ok(bot.say(ANA, "/kpi show gmv why period:7d"))
    assert "%" not in said.replace("orders ÷ visits", ""), said
    assert "Not enough earlier data" in said and "only 2 of them" in said, said
    chinese = _chinese(bot, "/kpi show gmv why period:7d")
    assert "6天中只有2天" in chinese.replace(" ", "") and not not_chinese(chinese, TYPED), (not_chinese(chinese, TYPED), chinese)


def test_a_why_reply_in_chinese_has_no_english_sentence(bot: Bot) -> None:
    """A full split: 天猫 converts at half its rate; 抖音 is new this week (no earlier data, not "from ¥0")."""
    _log_funnel(bot, range(1, 7), channel="天猫", orders=150)
    _log_funnel(bot, range(7, 13), channel="天猫")
    _log_funnel(bot, range(1, 3), channel="抖音")
    said = ok(bot.say(ANA, "/kpi show gmv why period:7d"))
    assert "conversion -50%" in said or "conversion −50%" in said, said
    line = next(ln for ln in said.splitlines() if "抖音" in ln)
    assert "no earlier data" in line and "0%" not in line, said
    chinese = _chinese(bot, "/kpi show gmv why period:7d")
    assert "转化率" in chinese and "抖音" in chinese, chinese
    assert not not_chinese(chinese, TYPED), (not_chinese(chinese, TYPED), chinese)
    for missing in ("/kpi show visits why period:7d", "/kpi show gmv why period:2026-11-23..2026-11-23"):
        text = _chinese(bot, missing)
        assert not not_chinese(text, TYPED), (missing, not_chinese(text, TYPED), text)


def test_kpi_log_holds_metric_names_and_counts_to_the_rules_of_kpi_define(bot: Bot) -> None:
    long_name = "m" * 101
    for line in (f"/kpi log {long_name} 5", f"/kpi log gmv 100 {long_name} 5", f"/kpi define {long_name}",
                 f"/kpi log gmv 100 channel:{'c' * 101}"):
        said = bot.say(ANA, line)
        assert said.ephemeral and "101 characters long; the most it can be is 100" in said, (line, str(said))
    for line in ("/kpi log orders -3", "/kpi log gmv 100 visits −20 date:yesterday", "/kpi log 订单数 -1"):
        said = bot.say(ANA, line)
        assert said.ephemeral and "is a count and cannot be -" in said, (line, str(said))
    assert bot.rows("SELECT count(*) FROM kpi_values WHERE workspace_id = :w", w=bot.team_id) == [(0,)]
    assert bot.rows("SELECT count(*) FROM metrics WHERE workspace_id = :w", w=bot.team_id) == [(0,)]
    ok(bot.say(ANA, "/kpi log gmv -¥120 refunds 30 date:yesterday"))  # money may go below zero (refunds)
    ok(bot.say(ANA, f"/kpi log {'m' * 100} 5"))  # 100 is the limit, not over it
    assert bot.rows("SELECT count(*) FROM kpi_values WHERE workspace_id = :w", w=bot.team_id) == [(3,)]
    said = _chinese(bot, "/kpi log orders -3").splitlines()[0]  # the usage below it is the command's own text
    assert "是计数" in said and not not_chinese(said, [*TYPED, "-3"]), said
