"""Goal pace by metric kind, on both databases: a summed total is paced against elapsed time; a ratio, an average
or a latest value is a level, judged by where it stands against its target (lower is better for CAC or bounce
rate). The bands are the same for both: on track from 95 % of the target at the deadline, at risk from 75 %."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot import metrics
from bot.services import goals, kpis
from storage.db import Database
from tests.support import factories as make
from tests.support.factories import NOV1, NOV30

D = Decimal


def pace(db: Database, ws: str, number: int, today: date) -> goals.Progress:
    with db.session(write=False) as s:
        return goals.progress(s, goal=goals.get_goal(s, workspace_id=ws, number=number), today=today)


# ---- summed (a total) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "status"),
    [("8550", goals.ON_TRACK), ("8549", goals.AT_RISK), ("6750", goals.AT_RISK), ("6749", goals.OFF_TRACK)],
)
def test_summed_goal_is_paced_against_elapsed_time(db: Database, workspace: str, total: str, status: str) -> None:
    """On the morning of Nov 10, 9 of November's 30 days are over; ¥30k wanted: ¥8,550 (heading for ¥28,500,
    95 %) is the last on-track total. Today, not yet over, is not counted as a day of selling."""
    number = make.goal(db, workspace, "gmv", "30000", currency="¥").number
    make.log(db, workspace, "gmv", total, NOV1)
    p = pace(db, workspace, number, date(2026, 11, 10))
    assert p.kind == goals.CUMULATIVE and p.status == status
    assert p.percent_of_target == D(total) / D(30000) and p.percent_of_time == D(9) / D(30)
    assert p.projected == D(total) / 9 * 30
    assert p.needed_per_day == (D(30000) - D(total)) / 21 and p.needed_level is None


def test_summed_goal_with_a_baseline(db: Database, workspace: str) -> None:
    """A total's baseline is a reference (last year's same period, say): % of target is the total over the
    target, never minus the baseline, and the projection is set against the baseline."""
    number = make.goal(db, workspace, "members", "5000", baseline="2000").number
    make.log(db, workspace, "members", "1350", NOV1)
    p = pace(db, workspace, number, date(2026, 11, 10))
    assert p.percent_of_target == D(1350) / D(5000)
    assert p.projected == D(1350) / 9 * 30 == D(4500) and p.status == goals.AT_RISK  # heading for 90 %
    assert p.vs_baseline == (D(4500) - D(2000)) / D(2000)


def test_a_projection_is_never_below_what_is_logged(db: Database, workspace: str) -> None:
    number = make.goal(db, workspace, "gmv", "30000", currency="¥").number
    make.log(db, workspace, "gmv", "100", NOV1)
    make.log(db, workspace, "gmv", "29000", date(2026, 11, 10))  # today's big day, logged before it is over
    p = pace(db, workspace, number, date(2026, 11, 10))
    assert p.current == D(29100) and p.projected == D(29100) and p.status == goals.ON_TRACK


def test_the_deadlines_morning_is_not_all_of_the_time(db: Database, workspace: str) -> None:
    number = make.goal(db, workspace, "gmv", "30000", currency="¥").number
    for day in range(1, 30):
        make.log(db, workspace, "gmv", "1000", date(2026, 11, day))
    p = pace(db, workspace, number, NOV30)  # Nov 30 not logged yet: 29 of 30 days over, ¥1,000 a day
    assert p.percent_of_time == D(29) / D(30) and p.projected == D(30000) and p.status == goals.ON_TRACK
    assert p.needed_per_day == D(1000)
    after = pace(db, workspace, number, date(2026, 12, 1))
    assert after.percent_of_time == 1 and after.projected == D(29000) and after.needed_per_day is None


def test_a_goal_that_has_not_started_is_at_no_time_and_no_status(db: Database, workspace: str) -> None:
    number = make.goal(db, workspace, "gmv", "30000", currency="¥", start=date(2026, 12, 1), due=date(2026, 12, 31)).number
    p = pace(db, workspace, number, date(2026, 11, 20))
    assert p.percent_of_time == 0 and p.status is None and not p.started and p.needed_per_day is None


def test_a_checkin_is_compared_with_the_goals_own_channel_only(db: Database, workspace: str) -> None:
    """Correcting a JD value does not make a Tmall goal forget its newer check-in."""
    with db.session() as s:
        for channel in ("天猫", "JD"):
            make.log(s, workspace, "gmv", 1000, NOV1, channel=channel)
        number = make.goal(s, workspace, "gmv", 30000, title="Tmall", channel="天猫").number
    with db.session() as s:
        goals.checkin(s, workspace_id=workspace, number=number, value=D(12000), percent=False, confidence=None,
                      note=None, user_id="U1")
    make.log(db, workspace, "gmv", 1100, NOV1, channel="JD")  # later: a correction on JD only
    p = pace(db, workspace, number, date(2026, 11, 10))
    assert p.source == "checkin" and p.current == D(12000)


def test_the_total_rule_is_the_projection_rule() -> None:
    """The share of the target reached against the share of time elapsed, and the projected total against the
    target, give the same status on every day and total: one set of bands."""
    start, due, target = NOV1, NOV30, D(30000)
    for day in range(2, 32):
        today = start + timedelta(days=day - 1)
        days = metrics.goal_days(start, due, today)
        for total in range(0, 36000, 250):
            projected = D(total) / days.elapsed * 30
            by_time = metrics.status_of(D(total) / target, expected=days.time)
            by_projection = metrics.status_of(projected / target)
            if any(abs(projected / target - edge) < D("1e-20") for edge in (metrics.ON_TRACK_AT, metrics.AT_RISK_AT)):
                continue
            assert by_time == by_projection, (today, total)
            figures = metrics.goal_figures(kind=metrics.TOTAL, target=target, baseline=None, better="up", start=start,
                                           deadline=due, today=today, current=D(total))
            if today > due:  # after its deadline a goal is reached or missed, not on pace or off it
                by_projection = metrics.REACHED if D(total) >= target else metrics.MISSED
            assert figures.status == by_projection


# ---- averaged -------------------------------------------------------------------------------------------


def test_a_percent_goal_on_a_new_metric_averages_and_is_paced_as_a_level(db: Database, workspace: str) -> None:
    number = make.goal(db, workspace, "ctr", "3%").number
    with db.session(write=False) as s:
        metric = kpis.get_metric(s, workspace_id=workspace, name_or_number="ctr")
        assert (metric.unit, metric.agg) == ("%", "avg")
    for day in range(1, 11):
        make.log(db, workspace, "ctr", "2.5%", date(2026, 11, day))
    early, late = pace(db, workspace, number, date(2026, 11, 10)), pace(db, workspace, number, date(2026, 11, 28))
    for p in (early, late):  # a level is not expected to grow with time: the same verdict early and late
        assert p.kind == goals.LEVEL and p.current == D("0.025") and p.projected == D("0.025")
        assert p.percent_of_target == D("0.025") / D("0.03") and p.status == goals.AT_RISK
        assert p.needed_per_day is None
    # ten days at 2.5 %: the other twenty must average 3.25 % to end the month on 3 %
    assert early.needed_level == D("0.0325")
    assert (10 * D("0.025") + 20 * early.needed_level) / 30 == D("0.03")


@pytest.mark.parametrize(
    ("value", "status"),
    [("2.85", goals.ON_TRACK), ("2.84", goals.AT_RISK), ("2.25", goals.AT_RISK), ("2.24", goals.OFF_TRACK),
     ("3.5", goals.ON_TRACK)],
)
def test_averaged_goal_bands(db: Database, workspace: str, value: str, status: str) -> None:
    make.metric(db, workspace, "open rate", unit="%", agg="avg")
    number = make.goal(db, workspace, "open rate", "3%").number
    make.log(db, workspace, "open rate", f"{value}%", NOV1)
    p = pace(db, workspace, number, date(2026, 11, 2))
    assert p.status == status
    assert (p.needed_level is None) == (status == goals.ON_TRACK and D(value) >= 3)


# ---- ratio ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("orders", "status"),
    [("24", goals.OFF_TRACK), ("29", goals.OFF_TRACK), ("30", goals.AT_RISK), ("37", goals.AT_RISK),
     ("38", goals.ON_TRACK), ("45", goals.ON_TRACK)],
)
def test_ratio_goal_is_judged_by_its_level(db: Database, workspace: str, orders: str, status: str) -> None:
    make.metric(db, workspace, "conversion", numerator="orders", denominator="visits")
    number = make.goal(db, workspace, "conversion", "4%", start=date(2026, 10, 1), due=date(2026, 12, 31)).number
    day = date(2026, 10, 1)
    while day <= date(2026, 11, 22):
        make.log(db, workspace, "orders", orders, day)
        make.log(db, workspace, "visits", "1000", day)
        day += timedelta(days=1)
    p = pace(db, workspace, number, date(2026, 11, 23))
    level = D(orders) / 1000
    assert p.kind == goals.LEVEL and p.current == level and p.projected == level
    assert p.percent_of_target == level / D("0.04") and p.status == status
    assert p.needed_per_day is None
    if level < D("0.04"):
        # 53 of 92 days logged (Oct 1 to Nov 22; Nov 23 is today, not logged): the other 39 must average this
        assert p.needed_level == D("0.04") + (D("0.04") - level) * 53 / 39
    else:
        assert p.needed_level is None


def test_ratio_goal_with_a_baseline_is_measured_from_it(db: Database, workspace: str) -> None:
    make.metric(db, workspace, "conversion", numerator="orders", denominator="visits")
    lift = make.goal(db, workspace, "conversion", "4%", baseline="2%").number
    keep = make.goal(db, workspace, "conversion", "4%", baseline="5%").number  # hold above 4 %: not a lift
    make.log(db, workspace, "orders", "35", NOV1)
    make.log(db, workspace, "visits", "1000", NOV1)
    # 3.5 %: 75 % of the way from 2 % to 4 %. A lift is due step by step: ahead of the path early in the month,
    # behind it near the end.
    p = pace(db, workspace, lift, date(2026, 11, 2))
    assert p.percent_of_target == D("0.75") and p.status == goals.ON_TRACK
    assert pace(db, workspace, lift, date(2026, 11, 28)).status == goals.AT_RISK  # 28 of 30 days: 93 % was due
    p = pace(db, workspace, keep, date(2026, 11, 2))  # a baseline past the target is no start: due in full now
    assert p.percent_of_target == D("0.035") / D("0.04") and p.status == goals.AT_RISK
    make.log(db, workspace, "orders", "39", NOV1)
    assert pace(db, workspace, lift, date(2026, 11, 28)).status == goals.ON_TRACK  # 95 % of the way
    assert pace(db, workspace, keep, date(2026, 11, 2)).status == goals.ON_TRACK


# ---- lower is better --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spend", "status"),
    [("6000", goals.ON_TRACK), ("6300", goals.ON_TRACK), ("6400", goals.AT_RISK), ("8000", goals.AT_RISK),
     ("8100", goals.OFF_TRACK)],
)
def test_lower_is_better_ratio(db: Database, workspace: str, spend: str, status: str) -> None:
    """CAC = spend / new customers; ¥60 wanted: ¥63 is within 95 %, ¥80 the last at-risk cost."""
    make.metric(db, workspace, "CAC", numerator="spend", denominator="new customers", unit="¥", better="down")
    number = make.goal(db, workspace, "CAC", "60", currency="¥").number
    make.log(db, workspace, "spend", spend, NOV1)
    make.log(db, workspace, "new customers", "100", NOV1)
    p = pace(db, workspace, number, date(2026, 11, 10))
    cac = D(spend) / 100
    assert p.kind == goals.LEVEL and p.current == cac and p.projected == cac
    assert p.percent_of_target == D(60) / cac and p.status == status
    if cac > 60:  # 9 days over (Nov 1-9) but one logged: its 100 new customers are one day's, 21 days to come
        assert p.needed_level == D(60) + (D(60) - cac) * 1 / 21 and p.needed_level < 60
        rest = D(100) * 21  # the new customers still to come at that rate
        assert (D(spend) + p.needed_level * rest) / (D(100) + rest) == D(60)
    else:
        assert p.needed_level is None


def test_lower_is_better_with_a_baseline(db: Database, workspace: str) -> None:
    make.metric(db, workspace, "CAC", numerator="spend", denominator="new customers", unit="¥", better="down")
    number = make.goal(db, workspace, "CAC", "60", currency="¥", baseline="80").number
    make.log(db, workspace, "spend", "7000", NOV1)
    make.log(db, workspace, "new customers", "100", NOV1)
    p = pace(db, workspace, number, date(2026, 11, 10))  # ¥70: half way from ¥80 to ¥60, a third of the time gone
    assert p.percent_of_target == D("0.5") and p.status == goals.ON_TRACK
    assert pace(db, workspace, number, date(2026, 11, 30)).status == goals.OFF_TRACK  # the deadline: half is short
    make.log(db, workspace, "spend", "6100", NOV1)
    p = pace(db, workspace, number, date(2026, 11, 30))
    assert p.percent_of_target == D("0.95") and p.status == goals.ON_TRACK


def test_lower_is_better_average(db: Database, workspace: str) -> None:
    make.metric(db, workspace, "bounce rate", unit="%", better="down")
    with db.session(write=False) as s:
        assert kpis.get_metric(s, workspace_id=workspace, name_or_number="bounce rate").agg == "avg"
    number = make.goal(db, workspace, "bounce rate", "40%").number
    for day in range(1, 11):
        make.log(db, workspace, "bounce rate", "45%", date(2026, 11, day))
    p = pace(db, workspace, number, date(2026, 11, 10))
    assert p.percent_of_target == D("0.40") / D("0.45") and p.status == goals.AT_RISK
    assert p.needed_level == D("0.375")  # 10 days at 45 % and 20 at 37.5 % average 40 %
    make.log(db, workspace, "bounce rate", "0%", NOV1)
    for day in range(2, 11):  # ten days of nothing but zero bounces
        make.log(db, workspace, "bounce rate", "0%", date(2026, 11, day))
    p = pace(db, workspace, number, date(2026, 11, 10))
    assert p.current == 0 and p.status == goals.ON_TRACK and p.needed_level is None


# ---- latest value -----------------------------------------------------------------------------------------


def test_latest_value_is_a_level(db: Database, workspace: str) -> None:
    make.metric(db, workspace, "rating", agg="last")
    number = make.goal(db, workspace, "rating", "4.8").number
    make.log(db, workspace, "rating", "4.7", NOV1)
    p = pace(db, workspace, number, date(2026, 11, 2))
    assert p.kind == goals.LEVEL and p.projected == D("4.7") and p.status == goals.ON_TRACK  # 98 %
    assert p.needed_per_day is None and p.needed_level is None  # the latest value is what counts: no rest-of-period mean


def test_a_checkin_on_a_level_goal_is_judged_the_same_way(db: Database, workspace: str) -> None:
    make.metric(db, workspace, "conversion", numerator="orders", denominator="visits")
    number = make.goal(db, workspace, "conversion", "4%").number
    make.log(db, workspace, "orders", "24", NOV1)
    make.log(db, workspace, "visits", "1000", NOV1)
    assert pace(db, workspace, number, date(2026, 11, 2)).status == goals.OFF_TRACK
    with db.session() as s:
        goals.checkin(s, workspace_id=workspace, number=number, value=D("3.9"), percent=False, confidence=7, note=None,
                      user_id="U1")
    p = pace(db, workspace, number, date(2026, 11, 2))
    assert p.source == "checkin" and p.current == D("0.039") and p.status == goals.ON_TRACK


# ---- pure helpers -----------------------------------------------------------------------------------------


def test_attainment() -> None:
    def a(value: D, **kw: object) -> D | None:
        return metrics.attainment(value, kind=metrics.LEVEL, **kw)  # type: ignore[arg-type]

    assert a(D(3), target=D(4), baseline=None, better="up") == D("0.75")
    assert a(D(3), target=D(4), baseline=D(2), better="up") == D("0.5")
    assert a(D(3), target=D(4), baseline=D(5), better="up") == D("0.75"), "a baseline past the target is no start"
    assert a(D(3), target=D(0), baseline=None, better="up") is None
    assert a(D(75), target=D(60), baseline=None, better="down") == D("0.8")
    assert a(D(70), target=D(60), baseline=D(80), better="down") == D("0.5")
    assert a(D(75), target=D(60), baseline=D(50), better="down") == D("0.8"), "a baseline below the target is no start"
    assert a(D(0), target=D(60), baseline=None, better="down") == 1
    total = metrics.attainment(D(900), kind=metrics.TOTAL, target=D(3000), baseline=D(2000), better="up")
    assert total == D("0.3"), "a total's baseline is not subtracted"


def test_pace_status_bands() -> None:
    s = metrics.status_of
    assert [s(D(x)) for x in ("1.2", "1", "0.95", "0.9499", "0.75", "0.7499", "0", "-1")] == [
        goals.ON_TRACK, goals.ON_TRACK, goals.ON_TRACK, goals.AT_RISK, goals.AT_RISK, goals.OFF_TRACK,
        goals.OFF_TRACK, goals.OFF_TRACK,
    ]
    assert s(D(0), expected=D(0)) == goals.ON_TRACK, "before the start nothing is due yet"
    assert s(D("0.2"), expected=D("0.25")) == goals.AT_RISK
