"""One channel under several names (京东 = JD built in, the team's own aliases), over real signed HTTP."""

from __future__ import annotations

import json

from tests.e2e.test_conversation import ok
from tests.support.harness import ANA, Bot


def _values(bot: Bot) -> list[tuple[str, str, str]]:
    return [(str(c), str(d), str(v)) for c, d, v in bot.rows(
        "SELECT channel, day, value FROM kpi_values WHERE workspace_id = :w ORDER BY day, channel", w=bot.team_id)]


def test_built_in_names_log_filter_and_set_goals_as_one_channel(bot: Bot) -> None:
    said = ok(bot.say(ANA, "/kpi log gmv 100 channel:JD date:2026-11-20"))
    said = ok(bot.say(ANA, "/kpi log gmv 200 channel:京东 date:2026-11-21"))
    assert "JD" in said, said  # shown under its first spelling
    ok(bot.say(ANA, "/kpi log gmv 50 channel:jd date:2026-11-21"))  # the same channel and day: replaces
    ok(bot.say(ANA, "/kpi log gmv 70 channel:天猫 date:2026-11-21"))
    ok(bot.say(ANA, "/kpi log gmv 30 channel:tmall date:2026-11-22"))
    assert {c for c, _d, _v in _values(bot)} == {"JD", "天猫"}
    said = ok(bot.say(ANA, "/kpi show gmv channel:京东 period:2026-11-01..2026-11-22"))
    assert "150" in said, said  # 100 + 50: the 200 was replaced
    said = ok(bot.say(ANA, '/goal add "JD GMV" metric:gmv target:1000 by:2026-11-30 start:2026-11-01 channel:京东'),
              in_channel=True)
    assert bot.rows("SELECT channel FROM goals WHERE workspace_id = :w", w=bot.team_id) == [("JD",)]
    ok(bot.say(ANA, "/campaign add 双十二 start:2026-12-01 end:2026-12-12 channels:京东,TMALL"), in_channel=True)
    [(channels,)] = bot.rows("SELECT channels FROM campaigns WHERE workspace_id = :w", w=bot.team_id)
    assert json.loads(channels) == ["JD", "天猫"]


def test_a_team_alias_merges_values_logged_under_two_names_by_the_replace_rule(any_db_bot: Bot) -> None:
    bot = any_db_bot
    ok(bot.say(ANA, "/kpi log gmv 100 orders 3 channel:小红书 date:2026-11-20"))
    ok(bot.say(ANA, "/kpi log gmv 40 channel:XHS date:2026-11-20"))  # logged later: kept on the merge
    ok(bot.say(ANA, "/kpi log gmv 60 channel:xhs date:2026-11-21"))
    ok(bot.say(ANA, "/goal add XHS metric:gmv target:1000 by:2026-11-30 channel:XHS"), in_channel=True)
    said = ok(bot.say(ANA, "/kpi channel alias XHS 小红书"))
    assert "now a name of *小红书*" in said, said
    assert "Merged 2 values" in said and "XHS (2)" in said, said
    assert "gmv 2026-11-20 100 → 40" in said, said
    assert "1 goals" in said, said
    assert [(c, d) for c, d, _v in _values(bot)] == [("小红书", "2026-11-20")] * 2 + [("小红书", "2026-11-21")]
    # from now on either name logs to 小红书
    said = ok(bot.say(ANA, "/kpi log gmv 5 channel:xhs date:2026-11-22"))
    assert "小红书" in said, said
    said = ok(bot.say(ANA, "/kpi channel aliases"))
    assert "小红书" in said and "XHS" in said and "JD" in said and "京东" in said, said
    said = ok(bot.say(ANA, "/kpi channel alias XHS 小红书"))  # again: nothing left to merge
    assert "already names" in said and "nothing to merge" in said, said
    said = ok(bot.say(ANA, "/kpi channel unalias xhs"))
    assert "no longer a name of *小红书*" in said, said
    ok(bot.say(ANA, "/kpi log gmv 7 channel:XHS date:2026-11-23"))
    assert {c for c, _d, _v in _values(bot)} == {"小红书", "XHS"}


def test_unaliasing_a_built_in_name_and_bad_input(bot: Bot) -> None:
    said = ok(bot.say(ANA, "/kpi channel unalias 邮件"))
    assert "no longer a name of *email*" in said, said
    ok(bot.say(ANA, "/kpi log opens 10 channel:email date:2026-11-20"))
    ok(bot.say(ANA, "/kpi log opens 20 channel:邮件 date:2026-11-20"))
    assert {c for c, _d, _v in _values(bot)} == {"email", "邮件"}
    said = bot.say(ANA, "/kpi channel unalias 微信")
    assert "not another name of any channel" in said, said
    said = bot.say(ANA, "/kpi channel alias 京东")
    assert "Give a name and the channel" in said, said
