"""Units typed as a team types them, over signed HTTP: AOV from GMV and orders is money, options after a
formula are read, a % goal's baseline is read on its own."""

from __future__ import annotations

from tests.support.harness import ANA, Bot

MICROS = 1_000_000  # amounts are stored as integer micro-units


def test_aov_from_gmv_and_orders_reads_in_money(bot: Bot) -> None:
    bot.say(ANA, "/kpi log gmv ¥32,821.66 orders 100 channel:天猫 date:yesterday")
    said = bot.say(ANA, "/kpi define aov = gmv / orders")
    assert "¥" in said or "%" not in said, said
    shown = bot.say(ANA, "/kpi show aov period:7d")
    assert "¥328.22" in shown and "32,821.66%" not in shown, shown
    bot.say(ANA, '/goal add "AOV ¥330" metric:aov target:330 by:2026-12-31')
    assert bot.rows("SELECT target FROM goals WHERE workspace_id = :t", t=bot.team_id) == [(330 * MICROS,)]


def test_options_after_a_formula_are_read(bot: Bot) -> None:
    said = bot.say(ANA, "/kpi define x = a / b unit:%")
    names = [r[0] for r in bot.rows("SELECT name FROM metrics WHERE workspace_id = :t ORDER BY number", t=bot.team_id)]
    assert sorted(names) == ["a", "b", "x"], (names, str(said))
    assert bot.rows("SELECT unit FROM metrics WHERE workspace_id = :t AND name = 'x'", t=bot.team_id) == [("%",)]


def test_a_percent_goals_bare_baseline_is_in_points(bot: Bot) -> None:
    bot.say(ANA, "/kpi define ctr unit:%")
    bot.say(ANA, '/goal add "CTR 3.5%" metric:ctr target:3.5% baseline:2.5 by:2026-12-31')
    rows = bot.rows("SELECT target, baseline FROM goals WHERE workspace_id = :t", t=bot.team_id)
    assert rows == [(35_000, 25_000)], "3.5 % from 2.5 %, stored in micro-units"


def test_kpi_show_compares_like_with_like(bot: Bot) -> None:
    """12 weeks asked for, but data began 3 weeks ago: no "+1,020 %" against a period that is mostly empty."""
    from datetime import timedelta

    from tests.support.harness import NOW

    today = NOW.date() if hasattr(NOW, "date") else NOW
    for back in range(1, 91):  # logging began 90 days ago: the 83 days before a 12-week period hold 7 of them
        day = (today - timedelta(days=back)).isoformat()
        bot.say(ANA, f"/kpi log visits 1000 channel:天猫 date:{day}")
    said = bot.say(ANA, "/kpi show visits period:12w")
    assert "No comparison: the 83 days before this period have values on only 7 of them" in said, said
    assert "%" not in said, said
    # a fair comparison: the last 7 days over against the 7 before, both fully logged
    said = bot.say(ANA, "/kpi show visits period:7d")
    assert "0%: 1,000 a day vs 1,000 a day, the 6 days over (Nov 17 – yesterday) vs the 6 days before" in said, said


def test_kpi_show_gmv_why_splits_the_move(bot: Bot) -> None:
    """Last week 天猫 had 10,000 visits a day at 3 % and ¥100 AOV; this week the same traffic converts at
    1.5 % (AOV the same): GMV −50 %, all of it conversion."""
    from datetime import timedelta

    from tests.e2e.conftest import NOW

    today = NOW.date()
    for back in range(1, 15):
        day = (today - timedelta(days=back)).isoformat()
        orders = 150 if back <= 6 else 300  # period:7d ends today: its 6 days over, against the 6 before
        bot.say(ANA, f"/kpi log visits 10000 orders {orders} gmv ¥{orders * 100} channel:天猫 date:{day}")
    said = bot.say(ANA, "/kpi show gmv why period:7d")
    assert "why it moved" in said and "-50%" in said, said
    assert "traffic 0%" in said and "conversion -50%" in said and "AOV 0%" in said, said
    assert "天猫" in said
    assert "is not one" in bot.say(ANA, "/kpi show visits why period:7d")


def test_a_document_link_cannot_carry_a_mention(bot: Bot) -> None:
    bot.say(ANA, "/campaign add 双十二 start:2026-12-01 end:2026-12-12")
    for url in ("https://x.example/<!channel>", "https://x.example/a|<!here>"):
        said = bot.say(ANA, f"/campaign doc C-1 {url} plan")
        assert "<!channel>" not in str(said.body) and "<!here>" not in str(said.body), said
        assert "cannot be linked" in said, said
    assert bot.rows("SELECT count(*) FROM documents WHERE workspace_id = :t", t=bot.team_id) == [(0,)]
    said = bot.say(ANA, "/campaign doc C-1 https://x.example/plan?a=1&amp;b=2 brief")
    assert "<https://x.example/plan?a=1&amp;b=2|brief>" in str(said.body), said


def test_a_date_in_year_1_or_9999_is_refused_not_a_crash(bot: Bot) -> None:
    bot.say(ANA, "/kpi log gmv ¥100 date:yesterday")
    for line in ("/task add Banner due:9999-12-31", "/kpi show gmv period:0001-01-01..2026-11-23",
                 "/kpi show gmv period:2026-01-01..9999-12-31"):
        said = bot.say(ANA, line)
        assert "too far away" in said and "Something went wrong" not in said, (line, str(said))
    assert bot.rows("SELECT count(*) FROM tasks WHERE workspace_id = :t", t=bot.team_id) == [(0,)]
