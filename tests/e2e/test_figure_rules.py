"""One rule for each figure, over real signed HTTP (today is Mon 2026-11-23): what a bare number means on a %
metric, what a change of unit does to what is stored, statuses, changes and arrows."""

from __future__ import annotations

from tests.e2e.test_conversation import ok
from tests.support.harness import ANA, Bot


def _micros(bot: Bot, sql: str) -> list[int]:
    return [int(r[0]) for r in bot.rows(sql, w=bot.team_id)]


def test_a_bare_number_on_a_percent_metric_is_percent_points_everywhere(bot: Bot) -> None:
    """`21%` and a bare `21` both mean 21 %: so a bare 0.05 is 0.05 %, as a target, a baseline, a check-in and a
    logged value alike."""
    ok(bot.say(ANA, "/kpi log ctr 2.5% date:2026-11-20"))
    ok(bot.say(ANA, '/goal add "CTR" metric:ctr target:0.05 baseline:0.02 by:2026-12-31'), in_channel=True)
    ok(bot.say(ANA, '/goal add "CTR 2" metric:ctr target:5 baseline:2% by:2026-12-31'), in_channel=True)
    ok(bot.say(ANA, "/goal checkin G-1 0.035"))
    ok(bot.say(ANA, "/kpi log ctr 0.025 date:yesterday"))
    assert _micros(bot, "SELECT target FROM goals WHERE workspace_id = :w ORDER BY number") == [500, 50_000]
    assert _micros(bot, "SELECT baseline FROM goals WHERE workspace_id = :w ORDER BY number") == [200, 20_000]
    assert _micros(bot, "SELECT value FROM goal_checkins WHERE workspace_id = :w") == [350]
    assert _micros(bot, "SELECT value FROM kpi_values WHERE workspace_id = :w ORDER BY day") == [25_000, 250]
    shown = ok(bot.say(ANA, "/goal show G-1"))
    assert "0.05%" in shown.replace(" %", "%"), shown


def test_a_change_of_unit_moves_values_and_targets_together(bot: Bot) -> None:
    ok(bot.say(ANA, "/kpi log rate 5 date:yesterday"))
    ok(bot.say(ANA, '/goal add "Rate" metric:rate target:10 by:2026-12-31'), in_channel=True)
    ok(bot.say(ANA, "/goal checkin G-1 6"))
    ok(bot.say(ANA, "/kpi define rate unit:%"))
    assert _micros(bot, "SELECT value FROM kpi_values WHERE workspace_id = :w") == [50_000]  # 5 %
    assert _micros(bot, "SELECT target FROM goals WHERE workspace_id = :w") == [100_000]  # 10 %
    assert _micros(bot, "SELECT value FROM goal_checkins WHERE workspace_id = :w") == [60_000]
    shown = ok(bot.say(ANA, "/kpi show rate period:7d"))
    assert "5%" in shown.replace(" %", "%") and "500" not in shown, shown
    ok(bot.say(ANA, "/kpi define rate unit:pts"))  # and back: the numbers typed read as typed again
    assert _micros(bot, "SELECT value FROM kpi_values WHERE workspace_id = :w") == [5_000_000]
    assert _micros(bot, "SELECT target FROM goals WHERE workspace_id = :w") == [10_000_000]
    # a ratio's values are computed from its parts, which stay: so do its goals
    ok(bot.say(ANA, "/kpi log visits 1000 orders 30 date:yesterday"))
    ok(bot.say(ANA, "/kpi define conversion = orders / visits"))
    ok(bot.say(ANA, '/goal add "Conv" metric:conversion target:4 by:2026-12-31'), in_channel=True)
    ok(bot.say(ANA, "/kpi define conversion unit:pts"))
    assert _micros(bot, "SELECT target FROM goals WHERE workspace_id = :w AND number = 2") == [40_000]
    # a value that would no longer fit is refused with the reason, and nothing changes
    ok(bot.say(ANA, "/kpi log big 5% date:2026-11-21"))
    ok(bot.say(ANA, "/kpi log big 2000000000000 date:yesterday"))  # 2,000,000,000,000 % is kept as 20,000,000,000
    said = bot.say(ANA, "/kpi define big unit:pts")
    assert said.ephemeral and "cannot change to or from %" in said, said
    assert _micros(bot, "SELECT v.value FROM kpi_values v JOIN metrics m ON m.id = v.metric_id "
                        "WHERE v.workspace_id = :w AND m.name = 'big' ORDER BY v.day") == [50_000, 20_000_000_000_000_000]


def test_a_name_of_another_channel_with_data_is_not_aliased_until_it_is_taken_out(bot: Bot) -> None:
    """京东 is JD's name and 天猫 Tmall's: `alias 京东 天猫` would pour JD's values into Tmall (and replace some)."""
    ok(bot.say(ANA, "/kpi log gmv 100 channel:JD date:2026-11-20"))
    ok(bot.say(ANA, "/kpi log gmv 200 channel:天猫 date:2026-11-20"))
    said = bot.say(ANA, "/kpi channel alias 京东 天猫")
    assert said.ephemeral and "already a name of *JD*" in said and "unalias 京东" in said, said
    values = bot.rows("SELECT channel, value FROM kpi_values WHERE workspace_id = :w ORDER BY channel", w=bot.team_id)
    assert [(c, int(v)) for c, v in values] == [("JD", 100_000_000), ("天猫", 200_000_000)]
    ok(bot.say(ANA, "/kpi channel unalias 京东"))  # on purpose: now 京东 is a name of its own, with no values
    said = ok(bot.say(ANA, "/kpi channel alias 京东 天猫"))
    assert "now a name of *天猫*" in said, said
    values = bot.rows("SELECT channel, value FROM kpi_values WHERE workspace_id = :w ORDER BY channel", w=bot.team_id)
    assert [(c, int(v)) for c, v in values] == [("JD", 100_000_000), ("天猫", 200_000_000)]
    for line in ("/kpi channel alias <!channel> JD", "/kpi channel alias 京东商城 <!subteam^S123>",
                 "/kpi channel alias <@U0ANA> JD", "/kpi channel alias &lt;#C123&gt; JD"):
        said = bot.say(ANA, line)
        assert said.ephemeral and "cannot hold Slack markup" in said and "<!" not in said.split("Usage")[0], said
    assert bot.rows("SELECT count(*) FROM kpi_values WHERE workspace_id = :w", w=bot.team_id) == [(2,)]


def test_a_campaigns_channels_count_once_under_any_of_their_names(bot: Bot) -> None:
    ok(bot.say(ANA, '/campaign add "Mix" start:2026-11-01 end:2026-11-30 channels:京东,天猫,抖音,douyin'),
       in_channel=True)
    rows = bot.rows("SELECT channels FROM campaigns WHERE workspace_id = :w", w=bot.team_id)
    assert len(str(rows[0][0]).split(",")) == 3, rows


def test_kpi_show_counts_one_day_as_one_and_a_flat_change_has_no_arrow(bot: Bot) -> None:
    ok(bot.say(ANA, "/kpi log gmv 100 date:2026-11-21"))
    ok(bot.say(ANA, "/kpi log gmv 100 date:2026-11-22"))
    said = ok(bot.say(ANA, "/kpi show gmv period:2026-11-22..2026-11-23"))
    assert "0%: 100 a day vs 100 a day, the day over (yesterday) vs the day before (Nov 21)" in said, said
    assert "1 days" not in said, said
    assert ":arrow_upper_right:" not in said and ":arrow_lower_right:" not in said, said
