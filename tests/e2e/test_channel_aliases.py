"""One channel under several names (京东 = JD built in, the team's own aliases), over real signed HTTP."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.e2e.test_conversation import ok
from tests.support.harness import ANA, TODAY, Bot, wait_until


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
    assert "gmv Nov 20, 2026 100 → 40" in said, said
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


def test_kpi_show_by_another_name_keeps_the_goal_and_the_charts_pace(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Goal and values on 京东, shown as `channel:JD`: the goal's line stays, the chart draws 京东 with the goal's
    pace, and the reply and the chart name the channel as it was first logged."""
    from bot.render import charts

    drawn: list[charts.Chart] = []
    render = charts.render

    def watch(chart: charts.Chart) -> bytes:
        drawn.append(chart)
        return render(chart)

    monkeypatch.setattr(charts, "render", watch)
    for day in ("2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21", "2026-11-22"):
        ok(bot.say(ANA, f"/kpi log gmv 100 channel:京东 date:{day}"))
    ok(bot.say(ANA, "/kpi log gmv 999 channel:天猫 date:2026-11-20"))
    ok(bot.say(ANA, '/goal add "京东 GMV" metric:gmv target:3000 by:2026-11-30 start:2026-11-01 channel:京东'),
       in_channel=True)
    for typed in ("JD", "jd", "京东"):
        said = ok(bot.say(ANA, f"/kpi show gmv channel:{typed} period:2026-11-16..2026-11-22"))
        assert "G-1" in said, (typed, said)  # the goal on that channel, whatever it is called
        assert "700" in said and "999" not in said, (typed, said)
        assert "京东" in said and " · JD" not in said and " · jd" not in said, (typed, said)
        wait_until(lambda: len(drawn) == 1, what="the chart")
        [chart] = drawn
        assert isinstance(chart, charts.BreakdownChart)
        assert list(chart.values) == ["京东"], chart.values
        assert chart.references == (("G-1 pace/day", Decimal(100)),), chart.references
        assert "京东" in chart.title and "JD" not in chart.title and "jd" not in chart.title, chart.title
        drawn.clear()


def test_a_goal_typed_before_any_value_counts_the_values_logged_under_another_name(bot: Bot) -> None:
    """The goal is set on JD before anything is logged (stored as typed), the values come in as 京东: the goal,
    the weekly chart series and `/kpi show` all count them."""
    ok(bot.say(ANA, '/goal add "JD GMV" metric:gmv target:3000 by:2026-11-30 start:2026-11-01 channel:JD'),
       in_channel=True)
    ok(bot.say(ANA, "/kpi log gmv 1500 channel:京东 date:2026-11-20"))
    said = ok(bot.say(ANA, "/goal show G-1"))
    assert "1,500" in said, said
    said = ok(bot.say(ANA, "/kpi show gmv channel:JD period:2026-11-01..2026-11-22"))
    assert "1,500" in said and "G-1" in said, said
    from bot import analytics

    with bot.db.session(write=False) as session:
        from storage.models import Goal
        goal = session.scalars(select(Goal).where(Goal.workspace_id == bot.team_id)).one()
        [series] = analytics.weekly_report(session, workspace_id=bot.team_id, today=TODAY, goals=[goal])
    assert series.current == Decimal(1500), series


def test_a_campaign_on_two_names_of_one_channel_counts_its_revenue_once(bot: Bot) -> None:
    ok(bot.say(ANA, "/campaign add 黑五 start:2026-11-20 end:2026-11-22 channels:京东,JD"), in_channel=True)
    [(channels,)] = bot.rows("SELECT channels FROM campaigns WHERE workspace_id = :w", w=bot.team_id)
    assert json.loads(channels) == ["京东"]
    ok(bot.say(ANA, "/kpi log gmv 100 channel:jd date:2026-11-21"))
    ok(bot.say(ANA, "/campaign spend C-1 50 channel:JD date:2026-11-21"))
    said = ok(bot.say(ANA, "/campaign show C-1"))
    assert "100" in said and "200" not in said, said


def test_an_alias_says_which_name_the_channel_is_shown_under(bot: Bot) -> None:
    ok(bot.say(ANA, "/kpi log gmv 100 channel:XHS date:2026-11-20"))
    ok(bot.say(ANA, "/kpi log gmv 200 channel:小红书 date:2026-11-21"))
    said = ok(bot.say(ANA, "/kpi channel alias XHS 小红书"))
    # not "`XHS` is now a name of *XHS*": 小红书 was typed, the channel keeps the name it was first logged under
    assert "`XHS` and `小红书` are now one channel, shown as *XHS*" in said, said
    said = ok(bot.say(ANA, "/kpi channel alias 京东商城 JD"))
    assert "`京东商城` is now a name of *JD*" in said, said
