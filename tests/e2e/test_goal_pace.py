"""Goals on percent and ratio metrics, typed as slash commands over real signed HTTP (today is Mon 2026-11-23).

- A `%` goal on a new metric creates it averaged, as `/kpi log ctr 2.5%` would: daily rates are never summed.
- A ratio (or average) goal is a level: judged by where it stands against its target, not by how far a total has
  grown in the time elapsed; a summed goal next to it keeps its run-rate pace.
"""

from __future__ import annotations

from datetime import date, timedelta

from tests.e2e.test_conversation import ok
from tests.support.harness import ANA, MARKETING, Bot, dump


def test_a_percent_goal_on_a_new_metric_averages_like_kpi_log(bot: Bot) -> None:
    said = ok(bot.say(ANA, '/goal add "CTR 3%" metric:ctr target:3% by:2026-12-31 start:2026-11-01'), in_channel=True)
    assert "G-1" in said and "K-1" in said, said
    ok(bot.say(ANA, "/kpi log ctr 2.5% date:2026-11-20"))
    ok(bot.say(ANA, "/kpi log ctr 2.5% date:2026-11-21"))
    said = ok(bot.say(ANA, "/kpi log ctr2 2.5%"))
    assert "new metric K-2 ctr2 (averaged" in said, said

    said = ok(bot.say(ANA, "/kpi show ctr"))
    assert "2.5%" in said and "5%" not in said.replace("2.5%", ""), f"two days at 2.5% average 2.5%: {said}"
    said = ok(bot.say(ANA, "/kpi list"))
    lines = {line.split("*")[1].split()[1]: line for line in said.splitlines() if line.startswith("*K-")}
    assert "averaged" in lines["ctr"] and "unit %" in lines["ctr"], said
    assert "averaged" in lines["ctr2"] and "unit %" in lines["ctr2"], "both ways of creating it agree"
    assert bot.rows("SELECT name, unit, agg FROM metrics WHERE workspace_id = :team ORDER BY number",
                    team=bot.team_id) == [("ctr", "%", "avg"), ("ctr2", "%", "avg")]

    for day in ("2026-11-17", "2026-11-18", "2026-11-19"):  # five days logged in all
        ok(bot.say(ANA, f"/kpi log ctr 2.5% date:{day}"))
    said = ok(bot.say(ANA, "/goal show G-1"))
    assert "G-1 CTR 3%: 2.5% of 3% (at risk)" in said.fallback, said  # 83 % of the target: at risk
    assert "12.5%" not in said, said
    assert "Needed from here on" in said and "Needed per day" not in said, said


def test_a_ratio_goal_is_paced_as_a_level_and_a_summed_goal_as_a_total(bot: Bot) -> None:
    ok(bot.say(ANA, "/kpi define conversion = orders / visits"))
    day = date(2026, 10, 1)
    while day < date(2026, 11, 23):  # every day of the quarter so far: 2.4 % conversion, ¥20k GMV
        ok(bot.say(ANA, f"/kpi log orders 24 visits 1000 gmv ¥20k date:{day.isoformat()}"))
        day += timedelta(days=1)
    said = ok(bot.say(ANA, '/goal add "转化率 4%" metric:conversion target:4% by:2026-12-31 start:2026-10-01'),
              in_channel=True)
    assert "G-1" in said, said
    # a ratio cannot be logged itself: the hint names its two parts (`/kpi log conversion …` would be refused)
    assert "/kpi log orders <value> visits <value>" in said, said
    ok(bot.say(ANA, '/goal add "GMV ¥2m" metric:gmv target:¥2m by:2026-12-31 start:2026-10-01'), in_channel=True)

    # 2.4 % of a 4 % target is 60 %, whatever share of the quarter has passed: off track (it was "on track").
    said = ok(bot.say(ANA, "/goal show G-1"))
    assert "G-1 转化率 4%: 2.4% of 4% (off track)" in said.fallback, said
    assert "Projected at deadline*\n2.4%" in said, said
    # 53 of 92 days at 2.4 % (today, Nov 23, is not logged yet): the other 39 must average 6.17 % for 4 %
    assert "Needed from here on*\n6.17%" in said and "Needed per day" not in said, said

    # The summed goal keeps its run-rate pace: ¥1.06m in the 53 of 92 days over heads for ¥1.84m, 92 %: at
    # risk; the 39 days left (today included) need ¥24,103 each.
    said = ok(bot.say(ANA, "/goal show G-2"))
    assert "G-2 GMV ¥2m: ¥1,060,000 of ¥2,000,000 (at risk)" in said.fallback, said
    assert "Projected at deadline*\n¥1,840,000" in said and "Needed per day*\n¥24,103" in said, said
    assert "Needed from here on" not in said, said

    said = ok(bot.say(ANA, "/goal list"))
    g1, g2 = (next(line for line in said.splitlines() if line.startswith(f"*G-{n}*")) for n in (1, 2))
    assert "off track" in g1 and "at risk" in g2, said

    ok(bot.say(ANA, "/mkt digest now", channel=MARKETING))
    posted = bot.slack.wait_for_message(MARKETING, where=lambda m: m.is_bot and not m.is_ephemeral, timeout=10)
    text = posted.all_text()
    conversion = next((line for line in text.splitlines() if "G-1" in line), "")
    assert "off track" in conversion and "on track" not in conversion, dump(bot)
    assert "60% · 2.4% of 4%" in text and "projected 2.4% by Dec 31 · needs 6.17% from here on" in text, text
    assert "projected ¥1,840,000 by Dec 31 · needs ¥24,103/day" in text, text
    assert "1 at risk, 1 off track" in text, text


def test_a_totals_baseline_is_a_reference_and_a_levels_is_where_it_starts(bot: Bot) -> None:
    """¥30,000 last year is what a ¥40,000 GMV goal is compared with, not where its total starts; a CTR goal from
    2 % to 4 % starts at 2 %."""
    said = ok(bot.say(ANA, '/goal add "GMV" metric:gmv target:¥40,000 baseline:¥30,000 by:2026-11-30 start:2026-11-01'),
              in_channel=True)
    assert "¥40,000 (baseline ¥30,000)" in said and "from ¥30,000" not in said, said
    for day in range(1, 23):  # ¥1,500 a day through yesterday: ¥45,000 projected for the month
        ok(bot.say(ANA, f"/kpi log gmv ¥1,500 date:2026-11-{day:02d}"))
    said = ok(bot.say(ANA, "/goal show G-1"))
    assert "¥45,000 (+50% vs baseline)" in said, said  # (45,000 − 30,000) ÷ 30,000
    said = ok(bot.say(ANA, '/goal add "CTR" metric:ctr target:4% baseline:2% by:2026-12-31'), in_channel=True)
    assert "4% from 2%" in said, said
