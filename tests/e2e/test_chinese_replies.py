"""A Chinese marketer's replies read as Chinese: full-width punctuation, 、 between list items, no space between
Chinese words, Chinese words for settings (求和, not sum). 李雷 (Slack locale zh-CN) types the commands; every
reply, blocks and fallback text, goes through tests/support/language.not_chinese."""

from __future__ import annotations

from tests.support.harness import LILEI, Bot, Said, wait_until
from tests.support.language import not_chinese

#: what 李雷 types that is his, not the bot's: names, channels, a metric
TYPED = ["双十二", "天猫", "JD", "XHS", "小红书", "gmv", "visits", "orders"]


def speaks_chinese(bot: Bot) -> None:
    """A first command warms 李雷's Slack language (users.info, after the ack); the next ones use it."""
    bot.say(LILEI, "/kpi list")
    wait_until(lambda: bot.app.locales.cached(bot.team_id, LILEI) is not None, what="李雷's locale")


def chinese(said: Said) -> Said:
    assert said.status == 200, said
    for text in (said, said.fallback):
        assert not_chinese(text, TYPED) == [], (not_chinese(text, TYPED), text)
    return said


def test_a_chinese_marketer_reads_chinese_punctuation_lists_and_words(bot: Bot) -> None:
    speaks_chinese(bot)
    bot.say(LILEI, "/mkt language zh-CN")  # the team's posts (a new campaign's card) in Chinese too

    said = chinese(bot.say(LILEI, "/kpi log gmv 126 channel:XHS date:yesterday"))
    assert "已创建新指标K-1 gmv（求和，越高越好）" in said, said  # a Chinese word for how it adds up, no stray space
    assert "sum" not in said, said

    chinese(bot.say(LILEI, "/kpi log gmv 300 visits 1000 orders 30 channel:天猫 date:yesterday"))
    said = chinese(bot.say(LILEI, "/kpi list"))
    assert "最近记录昨天" in said and "最近记录 " not in said, said

    chinese(bot.say(LILEI, "/kpi log gmv 50 channel:小红书 date:2026-11-20"))
    said = chinese(bot.say(LILEI, "/kpi channel alias XHS 小红书"))
    assert "来自小红书（1条）" in said, said

    said = chinese(bot.say(LILEI, '/campaign add "双十二" start:12-01 end:12-12 channels:天猫,JD budget:¥30万'))
    assert "天猫、JD" in said and "天猫, JD" not in said, said

    said = chinese(bot.say(LILEI, "/campaign show C-1"))
    assert said.fallback.startswith("C-1 双十二：未开始，已花费¥0"), said.fallback

    said = chinese(bot.say(LILEI, "/kpi show gmv by:channel"))
    assert "• 天猫：300" in said, said
    assert said.fallback.startswith("gmv：476（") and "（" in said.fallback and ": " not in said.fallback, said.fallback
