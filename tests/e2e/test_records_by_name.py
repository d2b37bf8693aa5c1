"""Campaigns and goals named by their names where a reference is asked for, over real signed HTTP."""

from __future__ import annotations

from tests.e2e.test_conversation import ok
from tests.support.harness import ANA, LILEI, Bot


def _setup(bot: Bot) -> None:
    ok(bot.say(ANA, '/campaign add "Double 11" start:2026-11-01 end:2026-11-11 channels:天猫'), in_channel=True)
    ok(bot.say(ANA, '/campaign add "Double 12" start:2026-12-01 end:2026-12-12'), in_channel=True)
    ok(bot.say(ANA, "/campaign add 618大促 start:2026-06-01 end:2026-06-18"), in_channel=True)
    ok(bot.say(ANA, '/goal add "Q4 GMV" metric:gmv target:1m by:2026-12-31'), in_channel=True)


def test_a_campaign_or_goal_is_named_by_its_name_exact_or_a_unique_prefix(bot: Bot) -> None:
    _setup(bot)
    said = ok(bot.say(ANA, '/task add Banner campaign:"Double 11" goal:"Q4 GMV"'))
    assert "T-1" in said and "C-1" in said and "G-1" in said, said
    said = ok(bot.say(ANA, '/task add Poster campaign:"double 12"'))  # any letter case
    assert "C-2" in said, said
    said = bot.say(ANA, "/task add 海报 campaign:618")  # a number is a reference: there is no C-618
    assert "no campaign `C-618`" in said, said
    said = ok(bot.say(ANA, "/task add 海报 campaign:618大"))  # a unique prefix
    assert "C-3" in said, said
    rows = bot.rows("SELECT t.number, c.number FROM tasks t JOIN campaigns c ON c.id = t.campaign_id "
                    "WHERE t.workspace_id = :w ORDER BY t.number", w=bot.team_id)
    assert rows == [(1, 1), (2, 2), (3, 3)]
    said = ok(bot.say(ANA, '/task list campaign:"Double 11"'))
    assert "Banner" in said and "Poster" not in said, said
    said = ok(bot.say(ANA, '/feedback 价格太高 campaign:"Double 11" goal:q4 from:customer'))
    assert "C-1" in said and "G-1" in said, said
    said = ok(bot.say(ANA, '/goal show "q4 gmv"'))
    assert "G-1" in said and "Q4 GMV" in said, said
    said = ok(bot.say(ANA, '/campaign show "Double 11"'))
    assert "C-1" in said and "Double 11" in said, said
    said = ok(bot.say(ANA, '/campaign risk "Double 11" 库存不足'))
    assert "库存不足" in said or "C-1" in said, said
    assert bot.rows("SELECT text FROM campaign_risks WHERE workspace_id = :w", w=bot.team_id) == [("库存不足",)]


def test_an_ambiguous_or_unknown_name_is_refused_listing_the_candidates(bot: Bot) -> None:
    _setup(bot)
    said = bot.say(ANA, "/task add Banner campaign:Double")
    assert "C-1 Double 11" in said and "C-2 Double 12" in said and "618" not in said, said
    said = bot.say(ANA, '/task add Banner campaign:"Double 9"')
    assert "`Double 9` isn't the name of a campaign" in said and "/campaign list" in said, said
    said = bot.say(LILEI, "/task add 横幅 campaign:Double")
    assert "对应不止一个活动" in said or "Double" in said  # the first reply may come before 李雷's locale is known
    said = bot.say(ANA, "/task add Banner campaign:G-1")  # another kind of reference is still refused as such
    assert "is a goal" in said, said
    assert bot.count("tasks") == 0
