"""Anomalies: the same-weekday robust test (seasonality, history, flat floor, campaigns) and the GMV split."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot import anomalies as an

D = Decimal
MONDAY = date(2026, 11, 16)  # the day judged in the weekday cases


def daily(last: date, days: int, value_of: object) -> dict[date, Decimal]:
    """`days` consecutive days ending the day before `last`, each valued by value_of(day)."""
    assert callable(value_of)
    return {last - timedelta(days=k): D(value_of(last - timedelta(days=k))) for k in range(1, days + 1)}


def weekly_pattern(day: date) -> int:
    """Sunday 100, Monday always 2× Sunday, other days in between, with a little noise by week."""
    noise = (day.toordinal() // 7) % 3 - 1  # -1, 0, +1
    return {6: 100, 0: 200}.get(day.weekday(), 150) + noise


def test_monday_twice_sunday_is_normal_and_a_true_drop_is_low() -> None:
    history = daily(MONDAY, 70, weekly_pattern)
    # Against a trailing 7-day mean (about 150) a normal Monday looks +33 %: the same-weekday test does not.
    normal = an.check_day(MONDAY, D(201), history)
    assert normal.verdict == "normal"
    assert normal.expected == D(200)  # Mondays over 8 weeks: 199, 200, 201, ... median 200
    assert normal.history_points == 8
    assert normal.low is not None and normal.high is not None
    assert normal.low < D(201) < normal.high
    assert not normal.flagged and normal.tone is None

    # Sunday-level traffic on a Monday: a drop to half.
    drop = an.check_day(MONDAY, D(100), history)
    assert drop.verdict == "low" and drop.flagged
    assert drop.z is not None and drop.z <= -4
    assert drop.tone == "bad"
    assert an.check_day(MONDAY, D(100), history, better="down").tone == "good"  # wording only
    assert an.check_day(MONDAY, D(100), history, better="down").verdict == "low"
    assert an.check_day(MONDAY, D(300), history).verdict == "high"


def mondays(*values: int) -> dict[date, Decimal]:
    """The Mondays before MONDAY, most recent first."""
    return {MONDAY - timedelta(days=7 * (k + 1)): D(v) for k, v in enumerate(values)}


def test_exact_median_leave_one_out_spread_range_and_z() -> None:
    history = mondays(90, 100, 110, 120)
    check = an.check_day(MONDAY, D(260), history)
    # median 105. Each point against the median of the other three: 90/110, 100/110, 110/100, 120/100;
    # the |ln| of those are ln 11/9, ln 1.1, ln 1.1, ln 1.2, so s = 1.4826 × (ln 1.1 + ln 1.2) / 2.
    spread = 1.4826 * (math.log(1.1) + math.log(1.2)) / 2
    assert check.expected == D(105)
    assert check.z == pytest.approx(math.log(260 / 105) / spread)
    assert check.verdict == "high"
    assert check.high is not None and check.low is not None
    assert float(check.high) == pytest.approx(105 * math.exp(4 * spread))
    assert float(check.low) == pytest.approx(105 * min(math.exp(-4 * spread), 0.85))
    assert an.check_day(MONDAY, check.high + D("0.01"), history).verdict == "high"
    assert an.check_day(MONDAY, check.high - D("0.01"), history).verdict == "normal"
    assert an.check_day(MONDAY, check.low - D("0.01"), history).verdict == "low"
    assert an.check_day(MONDAY, D(210), history).verdict == "normal"  # z 3.4, though 100 % up


def test_spread_is_pooled_over_the_weekdays() -> None:
    quiet = mondays(100, 101, 99, 100, 100)
    noisy = dict(quiet)
    for offset in range(1, 7):  # the other weekdays swing by tens of percent
        for k, v in enumerate((70, 130, 100, 60, 150, 100)):
            noisy[MONDAY - timedelta(days=offset + 7 * k)] = D(v)
    alone, pooled = an.check_day(MONDAY, D(125), quiet), an.check_day(MONDAY, D(125), noisy)
    assert (alone.verdict, pooled.verdict) == ("high", "normal")
    assert alone.expected == pooled.expected == D(100)  # the centre is the Mondays' alone
    assert alone.high is not None and pooled.high is not None and pooled.high > alone.high


def test_zero_on_a_positive_series_is_low() -> None:
    check = an.check_day(MONDAY, D(0), mondays(100, 100, 100, 100))
    assert (check.verdict, check.z) == ("low", None)


def test_flat_history_with_tiny_noise_does_not_flag_tiny_moves() -> None:
    history = mondays(1000, 1001, 1000, 999, 1000, 1000, 1001, 1000)
    # The MAD is 0 here: without the floor any move at all would be infinitely significant.
    for value in ("1003", "1030", "980", "1120"):
        check = an.check_day(MONDAY, D(value), history)
        assert check.verdict == "normal", value
    # The spread's floor (0.02) keeps z readable, and the 15 % minimum move decides.
    assert an.check_day(MONDAY, D(1030), history).z == pytest.approx(math.log(1.03) / 0.02)
    assert an.check_day(MONDAY, D(1120), history).z == pytest.approx(math.log(1.12) / 0.02)  # > 4, but 12 %
    assert an.check_day(MONDAY, D(1150), history).verdict == "high"
    assert an.check_day(MONDAY, D(850), history).verdict == "low"


def test_all_zero_history_flags_any_non_zero_value_without_a_z() -> None:
    history = {MONDAY - timedelta(days=7 * k): D(0) for k in range(1, 9)}
    assert an.check_day(MONDAY, D(0), history).verdict == "normal"
    check = an.check_day(MONDAY, D(3), history)
    assert (check.verdict, check.z, check.expected) == ("high", None, D(0))


def test_short_history_is_insufficient_never_a_flag() -> None:
    history = mondays(100, 100, 100)
    history.update({MONDAY - timedelta(days=d): D(100) for d in range(1, 7)})  # other weekdays do not count
    check = an.check_day(MONDAY, D(10_000), history)
    assert check.verdict == "insufficient"
    assert (check.expected, check.low, check.high, check.z, check.history_points) == (None, None, None, None, 3)
    assert not check.flagged
    assert check.note == "not enough history: 3 of 4 same-weekday days"
    # Older than 8 weeks does not count either.
    history[MONDAY - timedelta(days=7 * 9)] = D(100)
    assert an.check_day(MONDAY, D(10_000), history).verdict == "insufficient"
    history[MONDAY - timedelta(days=7 * 4)] = D(100)
    assert an.check_day(MONDAY, D(10_000), history).verdict == "high"


def test_double_eleven_spike_inside_a_campaign_is_campaign() -> None:
    day = date(2026, 11, 11)  # a Wednesday
    history = daily(day, 70, lambda d: 1000 + d.toordinal() % 3)
    campaign = an.CampaignWindow("C-2", date(2026, 10, 31), date(2026, 11, 11))
    check = an.check_day(day, D(8000), history, campaigns=[campaign])
    assert check.verdict == "campaign" and not check.flagged
    assert check.campaigns == ("C-2",)
    assert check.note == "expected: campaign C-2 live"
    # The range is still reported, from the days before the campaign: 8,000 is far above it.
    assert check.high is not None and check.high < D(8000)
    assert check.history_points == 7  # Nov 4 was a campaign day
    # Without the campaign the same spike is an anomaly.
    assert an.check_day(day, D(8000), history).verdict == "high"
    # Campaign wins even without enough history.
    short = an.check_day(day, D(8000), {}, campaigns=[campaign])
    assert (short.verdict, short.expected) == ("campaign", None)


def test_campaign_days_are_left_out_of_the_baseline() -> None:
    # Last month's 618 covered four Mondays: its spikes must not become the normal level now.
    history = mondays(1001, 5000, 6000, 5500, 7000, 1006, 1007, 1008)
    campaign = an.CampaignWindow("C-1", MONDAY - timedelta(days=38), MONDAY - timedelta(days=12))
    check = an.check_day(MONDAY, D(700), history, campaigns=[campaign])
    assert check.campaigns == ()  # the campaign is over: it only shapes the history
    assert check.history_points == 4
    assert check.expected == D("1006.5")  # median of 1001, 1006, 1007, 1008
    assert check.verdict == "low"
    assert an.check_day(MONDAY, D(1005), history, campaigns=[campaign]).verdict == "normal"
    # Without the calendar the spikes set the level and widen the range: the drop to 700 goes unseen.
    blind = an.check_day(MONDAY, D(700), history)
    assert blind.history_points == 8 and blind.expected is not None and blind.expected > 3000
    assert blind.verdict == "normal"


def test_decomposition_known_example_and_shares_sum_to_the_total() -> None:
    # visits +10 %, conversion -20 %, AOV +5 %.
    before = an.Funnel(visits=D(10_000), orders=D(500), gmv=D(100_000))  # conversion 5 %, AOV 200
    after = an.Funnel(visits=D(11_000), orders=D(440), gmv=D(92_400))  # conversion 4 %, AOV 210
    move = an.split_gmv_change(before, after, channel="天猫")
    assert move.reason is None and move.split is not None
    split = move.split
    assert split.traffic.change == pytest.approx(0.10)
    assert split.conversion.change == pytest.approx(-0.20)
    assert split.aov.change == pytest.approx(0.05)
    assert split.change == pytest.approx(1.1 * 0.8 * 1.05 - 1)  # -7.6 %
    assert split.log_change == pytest.approx(math.log(0.924))
    assert sum(f.log_change for f in split.factors) == pytest.approx(split.log_change)
    shares = [f.share for f in split.factors]
    assert all(s is not None for s in shares)
    assert sum(s for s in shares if s is not None) == pytest.approx(1.0)
    assert split.traffic.share == pytest.approx(math.log(1.1) / math.log(0.924))
    assert split.conversion.share == pytest.approx(math.log(0.8) / math.log(0.924))
    assert split.conversion.before == D("0.05") and split.conversion.after == D("0.04")
    assert split.aov.before == D(200) and split.aov.after == D(210)


def test_decomposition_zero_missing_and_unchanged() -> None:
    good = an.Funnel(D(100), D(10), D(1000))
    no_orders = an.split_gmv_change(good, an.Funnel(D(100), D(0), D(0)))
    assert (no_orders.split, str(no_orders.reason)) == (None, "orders is 0 in the later period")
    missing = an.split_gmv_change(an.Funnel(None, D(10), D(1000)), good)
    assert (missing.split, str(missing.reason)) == (None, "visits not logged in the earlier period")
    same = an.split_gmv_change(good, an.Funnel(D(200), D(10), D(1000)))  # traffic up, conversion down
    assert same.split is not None and same.split.log_change == 0
    assert [f.share for f in same.split.factors] == [None, None, None]
    assert same.split.traffic.change == pytest.approx(1.0)


def test_why_gmv_moved_per_channel_and_overall_from_summed_parts() -> None:
    before = {"天猫": an.Funnel(D(1000), D(50), D(10_000)), "京东": an.Funnel(D(1000), D(20), D(2000))}
    after = {
        "天猫": an.Funnel(D(1100), D(44), D(9240)),
        "京东": an.Funnel(D(900), D(18), D(2160)),
        "抖音": an.Funnel(D(500), D(10), D(1500)),
    }
    moves = an.why_gmv_moved(before, after)
    assert [m.channel for m in moves.channels] == ["天猫", "京东", "抖音"]
    new = moves.channels[2]
    # a channel with nothing logged earlier has no earlier data, not zeros: never split against ¥0
    assert (new.split, new.reason) == (None, an.Gap("earlier"))
    overall = moves.overall.split
    assert overall is not None
    # Overall conversion from summed parts: 70 / 2000 before, 72 / 2500 after; never a mean of ratios.
    assert overall.conversion.before == D(70) / D(2000)
    assert overall.conversion.after == D(72) / D(2500)
    assert overall.gmv_before == D(12_000) and overall.gmv_after == D(12_900)
    assert sum(f.log_change for f in overall.factors) == pytest.approx(math.log(12_900 / 12_000))
    # A part not logged on one channel leaves the overall split unknown.
    partial = an.why_gmv_moved({**before, "京东": an.Funnel(None, D(20), D(2000))}, after)
    assert (partial.overall.split, str(partial.overall.reason)) == (None, "visits not logged in the earlier period")
    assert an.why_gmv_moved({}, after).overall.reason == an.Gap("earlier")


def test_day_against_expected_funnel() -> None:
    days = [MONDAY - timedelta(days=7 * k) for k in range(1, 9)]
    visits = {d: D(1000) for d in days}
    orders = {d: D(50) for d in days}
    gmv = {d: D(10_000) for d in days}
    expected = an.expected_funnel(MONDAY, visits, orders, gmv)
    assert expected == an.Funnel(D(1000), D(50), D(10_000))
    split = an.split_gmv_change(expected, an.Funnel(D(1000), D(25), D(5000))).split
    assert split is not None
    assert split.conversion.share == pytest.approx(1.0) and split.traffic.share == 0
    assert an.expected_funnel(MONDAY, {}, orders, gmv).visits is None
