"""Domain services on SQLite and PostgreSQL: references, ratio math, replacement, isolation, concurrency."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest

from bot.errors import NotFound, UserError
from bot.services import campaigns, feedback, goals, kpis, tasks
from storage.db import Database
from tests.support import factories as make

D = Decimal


def test_ratio_over_a_period_is_computed_from_summed_parts(db: Database, workspace: str) -> None:
    make.metric(db, workspace, "conversion", numerator="orders", denominator="visits")
    make.log(db, workspace, "visits", "1000", date(2026, 11, 1))
    make.log(db, workspace, "orders", "30", date(2026, 11, 1))
    make.log(db, workspace, "visits", "500", date(2026, 11, 2))
    make.log(db, workspace, "orders", "20", date(2026, 11, 2))
    with db.session(write=False) as s:
        metric = kpis.get_metric(s, workspace_id=workspace, name_or_number="Conversion")
        value = kpis.period_value(s, metric=metric, start=date(2026, 11, 1), end=date(2026, 11, 2))
    assert value.value == D(50) / D(1500)  # 3.33 %, not the 3.5 % mean of daily ratios
    assert round(value.value * 100, 2) == D("3.33")
    assert value.numerator == D(50) and value.denominator == D(1500)


def test_logging_again_replaces_and_says_so(db: Database, workspace: str) -> None:
    first = make.log(db, workspace, "visits", "1000", date(2026, 11, 1), channel="天猫")
    again = make.log(db, workspace, "visits", "1200", date(2026, 11, 1), channel="天猫")
    assert first.previous is None and first.metric_created
    assert again.previous == D(1000) and not again.metric_created
    with db.session(write=False) as s:
        metric = kpis.get_metric(s, workspace_id=workspace, name_or_number="visits")
        value = kpis.period_value(s, metric=metric, start=date(2026, 11, 1), end=date(2026, 11, 1))
    assert value.value == D(1200)
    assert value.by_channel == {"天猫": D(1200)}


def test_channel_spelling_is_reused(db: Database, workspace: str) -> None:
    make.log(db, workspace, "visits", "10", date(2026, 11, 1), channel="JD")
    second = make.log(db, workspace, "visits", "12", date(2026, 11, 1), channel="jd")
    assert second.channel == "JD" and second.previous == D(10)


def test_values_are_exact_decimals(db: Database, workspace: str) -> None:
    for value in ("0.1", "0.2"):
        make.log(db, workspace, "gmv", value, date(2026, 11, 1), channel=value)
    with db.session(write=False) as s:
        metric = kpis.get_metric(s, workspace_id=workspace, name_or_number="gmv")
        total = kpis.period_value(s, metric=metric, start=date(2026, 11, 1), end=date(2026, 11, 1)).value
    assert total == D("0.3")


def test_avg_and_last_aggregations(db: Database, workspace: str) -> None:
    make.metric(db, workspace, "csat", agg="avg", user=None)
    make.metric(db, workspace, "followers", agg="last", user=None)
    for day, v in ((1, "4"), (2, "5")):
        make.log(db, workspace, "csat", v, date(2026, 11, day))
    for day, v in ((1, "100"), (3, "130"), (2, "120")):
        make.log(db, workspace, "followers", v, date(2026, 11, day), channel="weibo")
    make.log(db, workspace, "followers", "50", date(2026, 11, 1), channel="douyin")
    with db.session(write=False) as s:
        csat = kpis.get_metric(s, workspace_id=workspace, name_or_number="csat")
        followers = kpis.get_metric(s, workspace_id=workspace, name_or_number="followers")
        assert kpis.period_value(s, metric=csat, start=date(2026, 11, 1), end=date(2026, 11, 2)).value == D("4.5")
        assert kpis.period_value(s, metric=followers, start=date(2026, 11, 1), end=date(2026, 11, 3)).value == D(180)


def test_ratio_metric_cannot_be_logged(db: Database, workspace: str) -> None:
    make.metric(db, workspace, "ctr", numerator="clicks", denominator="impressions", user=None)
    with pytest.raises(UserError, match="clicks / impressions"):
        make.log(db, workspace, "ctr", "0.02", date(2026, 11, 1))


def test_percent_metric_reads_bare_numbers_as_points(db: Database, workspace: str) -> None:
    make.log(db, workspace, "open rate", "21", date(2026, 11, 1), percent=True)  # typed 21% → metric becomes a % metric
    second = make.log(db, workspace, "open rate", "23", date(2026, 11, 2))
    assert second.value == D("0.23")


def test_references_count_per_workspace_and_kind(db: Database, workspace: str) -> None:
    other = workspace + "X"
    with db.session() as s:
        t1 = make.task(s, workspace, "one")
        t2 = make.task(s, workspace, "two")
        o1 = make.task(s, other, "theirs", user="U9")
        f1 = feedback.create_feedback(s, workspace_id=workspace, data=feedback.FeedbackCreate("hi"), user_id="U1")
    assert (t1.number, t2.number, o1.number, f1.number) == (1, 2, 1, 1)


def test_two_workspaces_never_see_each_others_rows(db: Database, workspace: str) -> None:
    other = workspace + "X"
    with db.session() as s:
        make.task(s, other, "secret", user="U9")
        make.campaign(s, other, "theirs", date(2026, 11, 1), date(2026, 11, 11), user="U9")
    make.log(db, other, "gmv", "100", date(2026, 11, 1))
    with db.session(write=False) as s:
        assert tasks.list_tasks(s, workspace_id=workspace, filters=tasks.TaskFilter(include_done=True), today=date(2026, 11, 5)) == []
        assert campaigns.list_campaigns(s, workspace_id=workspace) == []
        assert kpis.list_metrics(s, workspace_id=workspace) == []
        with pytest.raises(NotFound):
            tasks.get_task(s, workspace_id=workspace, number=1)
        with pytest.raises(NotFound):
            campaigns.get_campaign(s, workspace_id=workspace, number=1)
    with db.session() as s, pytest.raises(NotFound):
        tasks.create_task(s, workspace_id=workspace, data=tasks.TaskCreate("x", campaign=1), user_id="U1")
    with db.session(write=False) as s:
        assert tasks.list_tasks(s, workspace_id=workspace, filters=tasks.TaskFilter(include_done=True), today=date(2026, 11, 5)) == []


def test_failed_unit_of_work_writes_nothing(db: Database, workspace: str) -> None:
    with pytest.raises(NotFound), db.session() as s:
        tasks.create_task(s, workspace_id=workspace, data=tasks.TaskCreate("kept?"), user_id="U1")
        tasks.get_task(s, workspace_id=workspace, number=99)
    with db.session(write=False) as s:
        assert tasks.list_tasks(s, workspace_id=workspace, filters=tasks.TaskFilter(include_done=True), today=date(2026, 11, 5)) == []


def test_task_status_changes_are_idempotent(db: Database, workspace: str) -> None:
    make.task(db, workspace, "banner")
    with db.session() as s:
        assert tasks.set_status(s, workspace_id=workspace, number=1, status="done").changed
    with db.session() as s:
        change = tasks.set_status(s, workspace_id=workspace, number=1, status="done")
        assert not change.changed and change.task.completed_at is not None


def test_goal_progress_and_pace(db: Database, workspace: str) -> None:
    number = make.goal(db, workspace, "gmv", 30000, title="Nov GMV", start=date(2026, 11, 1), due=date(2026, 11, 30)).number
    for day in range(1, 11):
        make.log(db, workspace, "gmv", "1000", date(2026, 11, day))
    with db.session(write=False) as s:
        goal = goals.get_goal(s, workspace_id=workspace, number=number)
        p = goals.progress(s, goal=goal, today=date(2026, 11, 10))
    assert p.current == D(10000) and p.source == "kpi"
    assert p.percent_of_target == D(10000) / D(30000)
    assert p.percent_of_time == D(9) / D(30)  # Nov 10 is today: not over yet
    assert p.status == goals.ON_TRACK
    assert p.projected == D(30000)  # ¥9,000 in the 9 days over
    assert p.needed_per_day == D(20000) / D(21)  # over the 21 days left, today included
    with db.session(write=False) as s:
        behind = goals.progress(s, goal=goals.get_goal(s, workspace_id=workspace, number=number), today=date(2026, 11, 20))
    assert behind.status == goals.OFF_TRACK and behind.projected == D(10000) / 19 * 30


def test_checkin_newer_than_kpis_wins(db: Database, workspace: str) -> None:
    make.metric(db, workspace, "followers", agg="last")
    make.goal(db, workspace, "followers", 5000, title="Followers", due=date(2026, 12, 31), baseline=1000)
    with db.session() as s:
        goals.checkin(s, workspace_id=workspace, number=1, value=D(3000), percent=False, confidence=7, note="ok", user_id="U1")
    with db.session(write=False) as s:
        p = goals.progress(s, goal=goals.get_goal(s, workspace_id=workspace, number=1), today=date(2026, 11, 30))
    assert p.current == D(3000) and p.source == "checkin" and p.confidence == 7
    assert p.percent_of_target == D("0.5")  # a level lifted from 1,000 to 5,000: half way


def test_campaign_roi_from_revenue_and_spend(db: Database, workspace: str) -> None:
    with db.session() as s:
        number = make.campaign(s, workspace, "双十一", date(2026, 11, 1), date(2026, 11, 11), channels=["天猫"], budget=20000,
                               currency="¥").number
        campaigns.add_spend(s, workspace_id=workspace, number=number, amount=D(10000), channel="天猫", day=date(2026, 11, 2), user_id="U1")
    make.log(db, workspace, "gmv", "25000", date(2026, 11, 5), channel="天猫")
    make.log(db, workspace, "gmv", "99999", date(2026, 11, 5), channel="JD")  # not a campaign channel
    with db.session(write=False) as s:
        summary = campaigns.summary(s, campaign=campaigns.get_campaign(s, workspace_id=workspace, number=number))
    assert summary.spend == D(10000) and summary.revenue == D(25000)
    assert summary.roi == D("1.5")


def test_campaign_revenue_is_the_metric_logged_on_most_of_its_days(db: Database, workspace: str) -> None:
    with db.session() as s:
        number = make.campaign(s, workspace, "双十一", date(2026, 11, 1), date(2026, 11, 11), channels=["天猫"],
                               currency="¥").number
        campaigns.add_spend(s, workspace_id=workspace, number=number, amount=D(5000), channel="Tmall",
                            day=date(2026, 11, 2), user_id="U1")  # 天猫 under its other name
    for day in range(1, 11):
        make.log(db, workspace, "gmv", "3000", date(2026, 11, day), channel="天猫")
    make.log(db, workspace, "revenue", "1000", date(2026, 11, 5), channel="天猫")  # one stray value
    with db.session(write=False) as s:
        summary = campaigns.summary(s, campaign=campaigns.get_campaign(s, workspace_id=workspace, number=number))
    assert (summary.revenue_metric, summary.revenue) == ("gmv", D(30000)), "ten days of gmv, not one of revenue"
    assert summary.roi == D(5)


def test_spend_on_a_channel_the_campaign_does_not_run_on_is_refused(db: Database, workspace: str) -> None:
    with db.session() as s:
        number = make.campaign(s, workspace, "双十一", date(2026, 11, 1), date(2026, 11, 11), channels=["天猫"]).number
    with pytest.raises(UserError) as refused, db.session() as s:
        campaigns.add_spend(s, workspace_id=workspace, number=number, amount=D(100), channel="JD", day=date(2026, 11, 2),
                            user_id="U1")
    assert refused.value.msg is not None and refused.value.msg.key == "error.campaign.spend_channel"
    with db.session(write=False) as s:
        summary = campaigns.summary(s, campaign=campaigns.get_campaign(s, workspace_id=workspace, number=number))
    assert summary.spend == 0


def test_concurrent_writers_get_distinct_references(db: Database, workspace: str) -> None:
    errors: list[BaseException] = []

    def add(i: int) -> None:
        try:
            for j in range(5):
                with db.session() as s:
                    tasks.create_task(s, workspace_id=workspace, data=tasks.TaskCreate(f"t{i}-{j}"), user_id="U1")
                    # read-then-write inside one transaction: SQLite must hold the write lock from BEGIN
                    kpis.log_value(s, workspace_id=workspace, metric_name="visits", value=D(i * 10 + j), percent=False,
                                   channel=f"c{i}", day=date(2026, 11, j + 1), user_id="U1")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session(write=False) as s:
        rows = tasks.list_tasks(s, workspace_id=workspace, filters=tasks.TaskFilter(include_done=True), today=date(2026, 11, 1))
    assert sorted(t.number for t in rows) == list(range(1, 41))


def test_one_channel_stored_under_two_names_is_one_channel_in_every_figure(db: Database, workspace: str) -> None:
    """JD and 京东 logged while they were two channels, then one again (the built-in pair restored without a
    merge): per-channel figures, the chart's breakdown and the campaign's revenue count them as one, shown as
    JD (logged first)."""
    from sqlalchemy import delete

    from bot import analytics
    from bot.services import channels
    from storage.models import ChannelAlias

    with db.session() as s:
        channels.remove_alias(s, workspace_id=workspace, alias="京东", user_id="U1")
    make.log(db, workspace, "gmv", "100", date(2026, 11, 1), channel="JD")
    make.log(db, workspace, "gmv", "40", date(2026, 11, 2), channel="京东")
    with db.session() as s:
        s.execute(delete(ChannelAlias).where(ChannelAlias.workspace_id == workspace))
    with db.session(write=False) as s:
        metric = kpis.get_metric(s, workspace_id=workspace, name_or_number="gmv")
        value = kpis.period_value(s, metric=metric, start=date(2026, 11, 1), end=date(2026, 11, 2))
        assert value.value == D(140) and value.by_channel == {"JD": D(140)}
        shown = kpis.period_value(s, metric=metric, start=date(2026, 11, 1), end=date(2026, 11, 2), channel="jd")
        assert shown.by_channel == {"JD": D(140)}
        breakdown = analytics.channel_breakdown(s, workspace_id=workspace, metric=metric, start=date(2026, 11, 1),
                                                end=date(2026, 11, 2), freq="D")
        assert breakdown.channels == ("JD",) and breakdown.totals == {"JD": D(140)}
        assert breakdown.workspace_channels == ("JD",)
