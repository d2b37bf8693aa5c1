"""Analytics: buckets, ratios from summed parts, pace, projection, daily changes, and weekly_report on both databases."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot import analytics as an
from bot import metrics
from bot.services import goals, kpis
from storage.db import Database
from tests.support import factories as make

D = Decimal
VISITS = an.MetricInfo(id=1, name="visits")
ORDERS = an.MetricInfo(id=2, name="orders")
CONVERSION = an.MetricInfo(id=3, name="转化率", unit="%", numerator_id=2, denominator_id=1)
CSAT = an.MetricInfo(id=4, name="csat", agg="avg")
FOLLOWERS = an.MetricInfo(id=5, name="followers", agg="last")
METRICS = {m.id: m for m in (VISITS, ORDERS, CONVERSION, CSAT, FOLLOWERS)}


def test_weekly_resampling_sums_by_monday_week_and_months_by_calendar() -> None:
    # 2026-11-01 is a Sunday: it belongs to the week of Monday 2026-10-26.
    rows = [(1, "天猫", date(2026, 11, d), D(v)) for d, v in ((1, "10"), (2, "20"), (8, "30"), (9, "40"))]
    rows.append((1, "京东", date(2026, 11, 2), D("5.5")))
    frame = an.kpi_frame(rows)
    weekly = an.resample(frame, "W")
    assert [(str(b.date()), int(t)) for b, t in zip(weekly["bucket"], weekly["total"], strict=True)] == [
        ("2026-10-26", 10_000_000),
        ("2026-11-02", 55_500_000),
        ("2026-11-09", 40_000_000),
    ]
    buckets = an.bucket_values(
        weekly, VISITS, METRICS, start=date(2026, 11, 1), end=date(2026, 11, 15), freq="W"
    )
    assert [(b.start, b.end, b.value) for b in buckets] == [
        (date(2026, 11, 1), date(2026, 11, 1), D(10)),
        (date(2026, 11, 2), date(2026, 11, 8), D("55.5")),
        (date(2026, 11, 9), date(2026, 11, 15), D(40)),
    ]
    monthly = an.bucket_values(
        an.resample(frame, "M"), VISITS, METRICS, start=date(2026, 10, 15), end=date(2026, 11, 30), freq="M"
    )
    assert [(b.start, b.value) for b in monthly] == [
        (date(2026, 10, 15), None),
        (date(2026, 11, 1), D("105.5")),
    ]
    by_channel = an.resample(frame, "W", by_channel=True)
    assert set(by_channel["channel"]) == {"天猫", "京东"}


def test_empty_week_is_a_gap_not_a_zero_and_empty_frames_work() -> None:
    frame = an.kpi_frame([(1, "", date(2026, 11, 2), D(1)), (1, "", date(2026, 11, 16), D(2))])
    buckets = an.bucket_values(
        an.resample(frame, "W"), VISITS, METRICS, start=date(2026, 11, 2), end=date(2026, 11, 22), freq="W"
    )
    assert [b.value for b in buckets] == [D(1), None, D(2)]
    empty = an.kpi_frame([])
    assert an.resample(empty, "W").empty
    assert (
        an.period_value(empty, CONVERSION, METRICS, start=date(2026, 11, 1), end=date(2026, 11, 2)).value
        is None
    )


def test_ratio_is_computed_from_summed_parts_never_the_mean_of_daily_ratios() -> None:
    frame = an.kpi_frame(
        [
            (1, "", date(2026, 11, 2), D(1000)),
            (2, "", date(2026, 11, 2), D(30)),
            (1, "", date(2026, 11, 3), D(500)),
            (2, "", date(2026, 11, 3), D(20)),
        ]
    )
    whole = an.period_value(frame, CONVERSION, METRICS, start=date(2026, 11, 2), end=date(2026, 11, 3))
    assert whole.value == D(50) / D(1500)
    assert round(whole.value * 100, 2) == D("3.33")  # not 3.5 %
    assert (whole.numerator, whole.denominator) == (D(50), D(1500))
    week = an.bucket_values(
        an.resample(frame, "W"), CONVERSION, METRICS, start=date(2026, 11, 2), end=date(2026, 11, 8), freq="W"
    )
    assert len(week) == 1 and week[0].value == D(50) / D(1500)
    days = an.bucket_values(
        an.resample(frame, "D"), CONVERSION, METRICS, start=date(2026, 11, 2), end=date(2026, 11, 3), freq="D"
    )
    assert [d.value for d in days] == [D("0.03"), D("0.04")]
    trend = an.ratio_trend_from_frame(
        frame, CONVERSION, METRICS, start=date(2026, 11, 2), end=date(2026, 11, 3)
    )
    assert trend.overall.value == whole.value and trend.numerator is ORDERS and trend.denominator is VISITS


def test_avg_and_last_aggregations_match_the_service_rules() -> None:
    frame = an.kpi_frame(
        [
            (4, "", date(2026, 11, 1), D(4)),
            (4, "", date(2026, 11, 2), D(5)),
            (5, "weibo", date(2026, 11, 1), D(100)),
            (5, "weibo", date(2026, 11, 3), D(130)),
            (5, "weibo", date(2026, 11, 2), D(120)),
            (5, "douyin", date(2026, 11, 1), D(50)),
        ]
    )
    span = {"start": date(2026, 11, 1), "end": date(2026, 11, 3)}
    assert an.period_value(frame, CSAT, METRICS, **span).value == D("4.5")
    assert an.period_value(frame, FOLLOWERS, METRICS, **span).value == D(180)


def test_pace_runs_to_the_target_at_the_end_of_the_deadline() -> None:
    start, deadline = date(2026, 11, 1), date(2026, 11, 30)
    lift = {"start": start, "deadline": deadline, "baseline": D(100), "target": D(400), "kind": metrics.LEVEL}
    assert metrics.pace_at(date(2026, 10, 1), **lift) == D(100)  # type: ignore[arg-type]
    assert metrics.pace_at(date(2026, 12, 31), **lift) == D(400)  # type: ignore[arg-type]
    assert metrics.pace_at(deadline, **lift) == D(400)  # type: ignore[arg-type]
    assert metrics.pace_at(date(2026, 11, 10), **lift) == D(100) + D(300) * D(10) / D(30)  # type: ignore[arg-type]
    total = {**lift, "baseline": None, "kind": metrics.TOTAL}
    assert metrics.pace_at(start, **total) == D(400) / 30  # type: ignore[arg-type]
    first, last = an.pace_path(kind=metrics.TOTAL, start=start, deadline=deadline, target=D(400), baseline=None,
                               better="up") or (None, None)
    assert first == an.DayValue(date(2026, 10, 31), D(0)) and last == an.DayValue(deadline, D(400))
    held = an.pace_path(kind=metrics.LEVEL, start=start, deadline=deadline, target=D(400), baseline=None, better="up")
    assert held is None


def test_projection_and_needed_per_day() -> None:
    def figures(current: D | None, today: date, *, kind: str = metrics.TOTAL, target: D = D(3000)) -> metrics.GoalFigures:
        return metrics.goal_figures(kind=kind, target=target, baseline=None, better="up", start=date(2026, 11, 1),
                                    deadline=date(2026, 11, 30), today=today, current=current)

    # 800 in the 10 days over on Nov 11: 2,400 at this pace; 2,200 still needed over 20 days = 110 a day.
    assert figures(D(800), date(2026, 11, 11)).projected == D(2400)
    assert figures(D(800), date(2026, 11, 11)).needed_per_day == D(110)
    assert figures(D(3500), date(2026, 11, 11)).needed_per_day == D(0)
    assert figures(None, date(2026, 11, 11)).projected is None
    assert figures(D(2000), date(2026, 12, 5)).projected == D(2000)
    assert figures(D(2000), date(2026, 12, 5)).needed_per_day is None
    level = figures(D("0.03"), date(2026, 11, 11), kind=metrics.LEVEL, target=D("0.05"))
    assert level.projected == D("0.03") and level.needed_per_day is None
    assert figures(D(800), date(2026, 11, 1)).projected is None, "no day is over yet: no run-rate"



def test_yesterday_against_the_trailing_seven_day_average() -> None:
    day = date(2026, 11, 22)
    rows: list[tuple[int, str, date, Decimal]] = []
    for back in range(1, 8):  # the 7 days before: 100 visits, 3 orders each (one day unlogged)
        if back == 4:
            continue
        rows += [(1, "", day - timedelta(days=back), D(100)), (2, "", day - timedelta(days=back), D(3))]
    rows += [(1, "", day, D(150)), (2, "", day, D(3)), (1, "", day - timedelta(days=30), D(10_000))]
    changes = an.daily_changes_from_frame(an.kpi_frame(rows), [VISITS, CONVERSION], METRICS, day=day)
    visits, conversion = changes
    assert visits.value == D(150) and visits.trailing == D(100) and visits.trailing_days == 6
    assert visits.change == D("0.5") and visits.improved is True
    assert conversion.value == D(3) / D(150)
    assert conversion.trailing == D(18) / D(600)  # pooled from the window's summed parts
    assert conversion.change is not None and conversion.change < 0 and conversion.improved is False
    nothing = an.daily_changes_from_frame(an.kpi_frame([]), [VISITS], METRICS, day=day)[0]
    assert (nothing.value, nothing.trailing, nothing.trailing_days, nothing.change) == (None, None, 0, None)


# ---------------------------------------------------------------------------------------------------------
# Against the real databases


def test_weekly_report_matches_progress_and_period_values(db: Database, workspace: str) -> None:
    start, due, today = date(2026, 11, 2), date(2026, 11, 29), date(2026, 11, 18)
    with db.session() as s:
        make.metric(s, workspace, "转化率", numerator="orders", denominator="visits")
        make.metric(s, workspace, "csat", agg="avg")
        make.metric(s, workspace, "followers", agg="last")
        for i in range(20):
            day = start + timedelta(days=i)
            make.log(s, workspace, "visits", str(1000 + 10 * i), day, channel="天猫")
            make.log(s, workspace, "visits", str(500 + i), day, channel="京东")
            make.log(s, workspace, "orders", str(30 + i % 3), day, channel="天猫")
            make.log(s, workspace, "orders", str(20 + i % 2), day, channel="京东")
            make.log(s, workspace, "csat", str(4 + (i % 2)) + ".5", day)
            if i % 3 == 0:
                make.log(s, workspace, "followers", str(100 + i), day, channel="weibo")
        make.log(s, workspace, "visits", "999999", start - timedelta(days=1), channel="天猫")  # before every goal
        make.log(s, workspace, "followers", "40", start + timedelta(days=1), channel="douyin")
        make.goal(s, workspace, "visits", 40000, title="双十一 visits", start=start, due=due)
        make.goal(s, workspace, "visits", 30000, title="天猫 visits", start=start, due=due, channel="天猫")
        make.goal(s, workspace, "转化率", "0.05", title="转化率 up", percent=True, baseline="3%", start=start, due=due)
        make.goal(s, workspace, "csat", 5, title="csat", start=start + timedelta(days=3), due=due)
        make.goal(s, workspace, "followers", 500, title="followers", baseline=100, start=start, due=due)
        make.goal(s, workspace, "orders", 100, title="not yet", start=date(2026, 12, 1), due=date(2026, 12, 31))

    with db.session(write=False) as s:
        listed = goals.list_goals(s, workspace_id=workspace)
        report = an.weekly_report(s, workspace_id=workspace, today=today, goals=listed)
        assert [r.title for r in report] == [g.title for g in listed]
        for goal, series in zip(listed, report, strict=True):
            expected = goals.progress(s, goal=goal, today=today)
            assert series.current == expected.current, goal.title
            assert series.projected == expected.projected, goal.title
            assert series.needed_per_day == expected.needed_per_day, goal.title
            if goal.start_on > today:
                assert series.actual == () and series.weekly == ()
                continue
            # every day of the actual series is the period value from the start to that day
            for point in series.actual[:: max(1, len(series.actual) // 4)] + series.actual[-1:]:
                pv = kpis.period_value(
                    s, metric=goal.metric, start=goal.start_on, end=point.day, channel=goal.channel
                )
                assert point.value == pv.value, (goal.title, point.day)
            for bucket in series.weekly:
                pv = kpis.period_value(
                    s, metric=goal.metric, start=bucket.start, end=bucket.end, channel=goal.channel
                )
                assert bucket.value == pv.value, (goal.title, bucket.start)
                if series.kind == "ratio":
                    assert (bucket.numerator, bucket.denominator) == (pv.numerator, pv.denominator)
            assert series.actual[0].day == goal.start_on and series.actual[-1].day == today

        by_title = {r.title: r for r in report}
        visits = by_title["双十一 visits"]
        assert visits.kind == "cumulative" and visits.baseline is None
        assert visits.pace == (an.DayValue(start - timedelta(days=1), D(0)), an.DayValue(due, D(40000)))
        assert [b.start.weekday() for b in visits.weekly[1:]] == [0, 0]
        ratio = by_title["转化率 up"]
        assert ratio.kind == "ratio" and ratio.weekly[0].denominator is not None
        assert ratio.pace == (an.DayValue(start - timedelta(days=1), D("0.03")), an.DayValue(due, D("0.05")))
        assert by_title["csat"].pace is None  # no baseline for an average: the target line alone
        assert by_title["天猫 visits"].current == sum((D(1000 + 10 * i) for i in range(17)), D(0))


def test_breakdown_ratio_trend_and_daily_changes_from_the_database(db: Database, workspace: str) -> None:
    start = date(2026, 11, 2)
    with db.session() as s:
        make.metric(s, workspace, "CTR", numerator="clicks", denominator="impressions")
        for i in range(14):
            day = start + timedelta(days=i)
            for channel, scale in (("天猫", 3), ("京东", 2), ("", 1)):
                make.log(s, workspace, "impressions", str(1000 * scale), day, channel=channel)
                make.log(s, workspace, "clicks", str(10 * scale + i), day, channel=channel)
    end = start + timedelta(days=13)
    with db.session(write=False) as s:
        impressions = kpis.get_metric(s, workspace_id=workspace, name_or_number="impressions")
        ctr = kpis.get_metric(s, workspace_id=workspace, name_or_number="ctr")
        breakdown = an.channel_breakdown(s, workspace_id=workspace, metric=impressions, start=start, end=end)
        assert breakdown.stackable and breakdown.channels == ("天猫", "京东", "")
        assert breakdown.periods == (date(2026, 11, 2), date(2026, 11, 9))
        assert breakdown.values["天猫"] == (D(21000), D(21000))
        assert breakdown.total == D(84000)
        ctr_split = an.channel_breakdown(s, workspace_id=workspace, metric=ctr, start=start, end=end)
        assert not ctr_split.stackable
        for channel, value in ctr_split.totals.items():
            assert value == kpis.period_value(s, metric=ctr, start=start, end=end).by_channel[channel]
        trend = an.ratio_trend(s, workspace_id=workspace, metric=ctr, start=start, end=end)
        whole = kpis.period_value(s, metric=ctr, start=start, end=end)
        assert trend.overall.value == whole.value
        assert (trend.numerator.name, trend.denominator.name) == ("clicks", "impressions")
        assert [b.value for b in trend.buckets] == [
            kpis.period_value(s, metric=ctr, start=b.start, end=b.end).value for b in trend.buckets
        ]
        only = an.ratio_trend(s, workspace_id=workspace, metric=ctr, start=start, end=end, channel="天猫")
        assert (
            only.overall.value == kpis.period_value(s, metric=ctr, start=start, end=end, channel="天猫").value
        )
        with pytest.raises(ValueError):
            an.ratio_trend(s, workspace_id=workspace, metric=impressions, start=start, end=end)
        changes = an.daily_changes(s, workspace_id=workspace, metrics=[impressions, ctr], day=end)
        assert changes[0].value == D(6000) and changes[0].trailing == D(6000) and changes[0].change == 0
        assert changes[1].value == kpis.period_value(s, metric=ctr, start=end, end=end).value
        assert (
            changes[1].trailing
            == kpis.period_value(
                s, metric=ctr, start=end - timedelta(days=7), end=end - timedelta(days=1)
            ).value
        )


def test_weekly_report_with_no_goals_or_no_data(db: Database, workspace: str) -> None:
    make.goal(db, workspace, "GMV", 1_000_000, title="GMV", currency="¥", start=date(2026, 11, 1), due=date(2026, 12, 31))
    with db.session(write=False) as s:
        assert an.weekly_report(s, workspace_id=workspace, today=date(2026, 11, 23), goals=[]) == []
        (series,) = an.weekly_report(
            s,
            workspace_id=workspace,
            today=date(2026, 11, 23),
            goals=goals.list_goals(s, workspace_id=workspace),
        )
    assert series.current is None and series.projected is None
    assert all(p.value is None for p in series.actual) and len(series.actual) == 23
    assert all(b.value is None for b in series.weekly)
    assert series.metric.unit == "¥"
