"""`mktbot playground --demo`: the seeded team tells a believable story, on any date it is started."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.playground.demo import HISTORY_DAYS, Team, festival, log_day, seed_demo
from bot.services import campaigns, goals, kpis
from storage.db import Database, open_database
from storage.models import Campaign, Feedback, KpiValue, Retro, RetroNote, Schedule, Task

WS = "T0DEMOTEST"
TEAM = Team(ana="U0ANA", bo="U0BO", lilei="U0LILEI", sara="U0SARA", marketing_channel="C0M", campaigns_channel="C0C")
TODAY = date(2026, 11, 24)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Database:
    db = open_database(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
    assert seed_demo(db, workspace_id=WS, team=TEAM, today=TODAY, zone="Asia/Shanghai")
    return db


def test_three_months_of_kpis_for_five_channels_with_a_double_eleven_spike(seeded: Database) -> None:
    with seeded.session(write=False) as session:
        days = session.execute(
            select(func.min(KpiValue.day), func.max(KpiValue.day), func.count(func.distinct(KpiValue.day)))
            .where(KpiValue.workspace_id == WS)
        ).one()
        assert days == (TODAY - timedelta(days=HISTORY_DAYS), TODAY - timedelta(days=1), HISTORY_DAYS)
        channels = set(session.scalars(select(KpiValue.channel).where(KpiValue.workspace_id == WS).distinct()))
        assert channels == {"天猫", "JD", "email", "paid search", "social"}
        gmv = kpis.get_metric(session, workspace_id=WS, name_or_number="gmv")
        daily = {
            d: v for d, v in session.execute(
                select(KpiValue.day, func.sum(KpiValue.value)).where(KpiValue.metric_id == gmv.id).group_by(KpiValue.day)
            )
        }
        spike = daily[date(2026, 11, 11)]
        ordinary = sorted(daily.values())[len(daily) // 2]
        assert spike > 3 * ordinary, (spike, ordinary)
        saturdays = [v for d, v in daily.items() if d.weekday() == 5 and abs((d - date(2026, 11, 11)).days) > 12]
        mondays = [v for d, v in daily.items() if d.weekday() == 0 and abs((d - date(2026, 11, 11)).days) > 12]
        assert sum(saturdays) / len(saturdays) > sum(mondays) / len(mondays), "weekly seasonality"
        conversion = kpis.get_metric(session, workspace_id=WS, name_or_number="conversion")
        assert conversion.is_ratio and conversion.unit == "%"
        value = kpis.period_value(session, metric=conversion, start=TODAY - timedelta(days=30), end=TODAY).value
        assert value is not None and Decimal("0.01") < value < Decimal("0.05")


def test_goals_on_and_off_pace_with_owners(seeded: Database) -> None:
    with seeded.session(write=False) as session:
        rows = goals.list_goals(session, workspace_id=WS)
        statuses = Counter(goals.progress(session, goal=g, today=TODAY).status for g in rows)
        assert statuses[goals.ON_TRACK] >= 1 and statuses[goals.OFF_TRACK] >= 1 and statuses[goals.AT_RISK] >= 1
        assert all(g.owner_id for g in rows)


def test_a_finished_and_a_live_campaign_with_spend_and_risks(seeded: Database) -> None:
    with seeded.session(write=False) as session:
        rows = list(session.scalars(select(Campaign).where(Campaign.workspace_id == WS).order_by(Campaign.number)))
        assert [campaigns.phase(c, TODAY) for c in rows] == ["closed", "live"]
        assert rows[0].name == "双十一大促"
        for campaign in rows:
            summary = campaigns.summary(session, campaign=campaign)
            assert summary.spend > 0 and summary.risks
            assert summary.roi is not None and Decimal(2) < summary.roi < Decimal(8), (campaign.name, summary.roi)
            assert campaign.budget is not None and summary.spend <= campaign.budget


def test_tasks_in_every_state_feedback_and_a_closed_retro(seeded: Database) -> None:
    with seeded.session(write=False) as session:
        tasks = list(session.scalars(select(Task).where(Task.workspace_id == WS)))
        assert {t.status for t in tasks} == {"todo", "in_progress", "blocked", "done"}
        assert any(t.status == "blocked" and t.block_reason for t in tasks)
        assert any(t.due_on and t.due_on < TODAY and t.status != "done" for t in tasks), "overdue"
        feedback = list(session.scalars(select(Feedback).where(Feedback.workspace_id == WS)))
        assert {f.source for f in feedback} == {"customer", "team"} and all(f.tags for f in feedback)
        retro = session.scalars(select(Retro).where(Retro.workspace_id == WS)).one()
        assert retro.status == "closed"
        notes = list(session.scalars(select(RetroNote).where(RetroNote.retro_id == retro.id)))
        assert {n.category for n in notes} >= {"well", "not", "try", "action"}
        assert [t for t in tasks if t.retro_id == retro.id and t.owner_id and t.due_on]
        schedule = session.scalars(select(Schedule).where(Schedule.workspace_id == WS, Schedule.kind == "digest")).one()
        assert schedule.slack_channel_id == "C0M" and (schedule.hour, schedule.minute) == (9, 30)


def test_seeding_twice_writes_nothing(seeded: Database) -> None:
    with seeded.session(write=False) as session:
        before = session.scalar(select(func.count()).select_from(KpiValue).where(KpiValue.workspace_id == WS))
    assert not seed_demo(seeded, workspace_id=WS, team=TEAM, today=TODAY, zone="Asia/Shanghai")
    with seeded.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(KpiValue).where(KpiValue.workspace_id == WS)) == before


def test_the_team_keeps_logging_as_days_pass(seeded: Database) -> None:
    assert log_day(seeded, workspace_id=WS, day=TODAY, user_id="U0BO")
    assert not log_day(seeded, workspace_id=WS, day=TODAY, user_id="U0BO"), "once per day"
    assert not log_day(seeded, workspace_id="T0OTHER", day=TODAY, user_id="U0BO"), "only the demo team"


@pytest.mark.parametrize("today", [date(2026, m, d) for m in range(1, 13) for d in (1, 15, 28)])
def test_there_is_always_a_recent_promotion(today: date) -> None:
    when, name = festival(today)
    assert 5 <= (today - when).days <= 85 and name


def test_the_demo_starts_on_any_date(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'spring.db'}")
    try:
        assert seed_demo(db, workspace_id=WS, team=TEAM, today=date(2027, 4, 20), zone="UTC")
        with db.session(write=False) as session:
            names = [c.name for c in session.scalars(select(Campaign).where(Campaign.workspace_id == WS))]
        assert names[0] == "三八女王节" and len(names) == 2
    finally:
        db.dispose()
