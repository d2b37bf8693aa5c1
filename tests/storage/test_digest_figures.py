"""The digest's coloured KPI lines agree with the test that coloured them (today is Mon 2026-11-23; yesterday,
Sun Nov 22, is judged against the Sundays of the 8 weeks before), and a campaign explains only its channels."""

from __future__ import annotations

from datetime import date, timedelta

from bot.render.digest import kpi_line
from bot.services import digest
from storage.db import Database
from tests.support import factories as make

TODAY = date(2026, 11, 23)
YESTERDAY = TODAY - timedelta(days=1)
FIRST = YESTERDAY - timedelta(days=56)


def _history(db: Database, ws: str, channel: str, weekday: int, sunday: int) -> None:
    with db.session() as s:
        day = FIRST
        while day < YESTERDAY:
            base = sunday if day.weekday() == 6 else weekday
            make.log(s, ws, "visits", str(base + (day.toordinal() % 3) * base // 100), day, channel=channel)
            day += timedelta(days=1)


def test_a_line_coloured_by_its_weekday_shows_that_comparison_not_the_7_day_average(db: Database, workspace: str) -> None:
    """Sundays run at 3,000 and other days at 1,000: yesterday's 1,400 is above the 7-day average (about 1,300)
    yet far below a usual Sunday. The line is red, and its arrow points down against the Sunday median."""
    _history(db, workspace, "天猫", 1000, 3000)
    make.log(db, workspace, "visits", "1400", YESTERDAY, channel="天猫")
    with db.session(write=False) as s:
        (visits,) = digest.collect_kpis(s, workspace_id=workspace, today=TODAY)
    assert visits.verdict == "bad" and visits.basis is not None, visits
    line = kpi_line(visits)
    assert "↓" in line and "↑" not in line and "vs a usual Sunday" in line, line
    assert "avg" not in line, line


def test_a_campaign_on_one_channel_does_not_explain_another_channels_fall(db: Database, workspace: str) -> None:
    """A campaign on 天猫 lifts 天猫 threefold; JD falls to a third of its usual Sunday. The total is not
    'campaign live', the line is red for JD, and the headline counts it as the alert lists it."""
    _history(db, workspace, "天猫", 1000, 1000)
    _history(db, workspace, "JD", 500, 500)
    make.campaign(db, workspace, "黑五", date(2026, 11, 20), date(2026, 11, 29), channels=["天猫"])
    make.log(db, workspace, "visits", "3000", YESTERDAY, channel="天猫")
    make.log(db, workspace, "visits", "170", YESTERDAY, channel="JD")
    with db.session(write=False) as s:
        (visits,) = digest.collect_kpis(s, workspace_id=workspace, today=TODAY)
    assert visits.check is not None and visits.check.verdict != "campaign", visits.check
    assert [a.channel for a in visits.alerts if a.check.tone == "bad"] == ["JD"], visits.alerts
    assert visits.verdict == "bad", visits
    line = kpi_line(visits)
    assert "on JD" in line and "↓" in line and "campaign" not in line, line


def test_a_line_judged_on_some_channels_shows_their_value_and_the_alert_names_it_once(db: Database,
                                                                                      workspace: str) -> None:
    """A campaign on 天猫; JD falls and 小红书 logs for the first time. The line's comparison is JD's own value
    against JD's usual Sunday, not the all-channel total against it; the thread lists JD once, not also as
    'JD, 小红书' (a group of which JD alone has history)."""
    _history(db, workspace, "天猫", 1000, 1000)
    _history(db, workspace, "JD", 500, 500)
    make.campaign(db, workspace, "黑五", date(2026, 11, 20), date(2026, 11, 29), channels=["天猫"])
    make.log(db, workspace, "visits", "3000", YESTERDAY, channel="天猫")
    make.log(db, workspace, "visits", "170", YESTERDAY, channel="JD")
    make.log(db, workspace, "visits", "10", YESTERDAY, channel="小红书")
    with db.session(write=False) as s:
        (visits,) = digest.collect_kpis(s, workspace_id=workspace, today=TODAY)
    assert [a.channel for a in visits.alerts] == ["JD"], visits.alerts
    line = kpi_line(visits)
    assert "on JD (170) vs a usual Sunday" in line, line
