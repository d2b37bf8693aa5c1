"""Figures that must not mislead, over real signed HTTP (today is Mon 2026-11-23): which channels the digest
calls usual, `/kpi show … why` without enough earlier data, and what `/kpi log` refuses."""

from __future__ import annotations

from tests.e2e.test_conversation import ok
from tests.support.harness import ANA, MARKETING, Bot


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
