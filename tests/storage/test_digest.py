"""collect() on SQLite and PostgreSQL: a realistic workspace, and what the daily digest would say about it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, event, select

from bot.services import campaigns, digest, goals
from storage.db import Database
from storage.models import Base, Campaign, CampaignGoal, Retro, RetroNote, Workspace
from tests.support import factories as make

D = Decimal
TODAY = date(2026, 11, 23)  # a Monday; yesterday is Nov 22, the trailing window Nov 15–21
ANA, BO = "U0ANA", "U0BO"


@pytest.fixture
def ws(db: Database, workspace: str) -> Iterator[str]:
    """The test's workspace, deleted afterwards: jobs tests that scan every workspace on the shared
    PostgreSQL database must not find these overdue tasks and send them reminders."""
    yield workspace
    with db.session() as s:
        for wid in (workspace, workspace + "X"):
            s.execute(delete(CampaignGoal).where(CampaignGoal.campaign_id.in_(select(Campaign.id).where(Campaign.workspace_id == wid))))
            for table in reversed(Base.metadata.sorted_tables):
                if "workspace_id" in table.c:
                    s.execute(table.delete().where(table.c.workspace_id == wid))
            s.execute(delete(Workspace).where(Workspace.id == wid))


def day(n: int) -> date:
    return date(2026, 11, n)


def build_workspace(db: Database, ws: str) -> dict[str, int]:
    refs: dict[str, int] = {}
    with db.session() as s:
        make.metric(s, ws, "gmv", unit="¥")
        make.metric(s, ws, "conversion", numerator="orders", denominator="visits")
        make.metric(s, ws, "CTR", numerator="clicks", denominator="impressions")
        make.metric(s, ws, "CPA", unit="¥", agg="avg", better="down")
        make.metric(s, ws, "退货", better="down")
        make.metric(s, ws, "粉丝", agg="last")

        # Campaigns around Monday Nov 23 (the horizon for "soon" is 3 days: up to Thursday Nov 26).
        refs["ending"] = make.campaign(s, ws, "Black Friday 黑五", day(20), day(25), budget="50000", currency="¥").number
        refs["live"] = make.campaign(s, ws, "Winter launch", day(10), date(2026, 12, 20), currency="¥").number
        refs["starting"] = make.campaign(s, ws, "双十二 pre-sale", day(25), date(2026, 12, 12), budget="80000", currency="¥").number
        refs["ended"] = make.campaign(s, ws, "Singles' week", day(15), day(22), currency="¥").number
        make.campaign(s, ws, "Far away", date(2026, 12, 20), date(2026, 12, 31), currency="¥")
        make.campaign(s, ws, "Ended two days ago", day(10), day(21), currency="¥")
        closed = make.campaign(s, ws, "Called off", day(20), day(28), currency="¥").number
        campaigns.close_campaign(s, workspace_id=ws, number=closed)
        campaigns.add_spend(s, workspace_id=ws, number=refs["ending"], amount=D(20000), channel="天猫", day=day(21), user_id=ANA)

        # Goals: on track, off track (two), at risk, no data yet, and one closed.
        refs["gmv_goal"] = make.goal(s, ws, "gmv", "100000", title="Q4 GMV 双十一", start=day(1), due=day(30), owner=BO, currency="¥").number
        refs["visits_goal"] = make.goal(s, ws, "visits", "1000000", title="1m visits", start=day(1), due=day(30), owner=BO).number
        refs["orders_goal"] = make.goal(s, ws, "orders", "3000", title="3k orders", start=day(1), due=day(30), owner=BO).number
        refs["conv_goal"] = make.goal(s, ws, "conversion", "0.03", title="Conversion 3%", start=day(1), owner=BO, percent=True, due=date(2026, 12, 31)).number
        refs["followers_goal"] = make.goal(s, ws, "weibo followers", "50000", title="Weibo followers", start=day(1), due=day(30), owner=BO).number
        done_goal = make.goal(s, ws, "gmv", "10", title="Old goal", start=day(1), due=day(30), owner=BO).number
        goals.close_goal(s, workspace_id=ws, number=done_goal)

        # Tasks in every state.
        refs["t_banner"] = make.task(s, ws, "Banner for 双十一", owner=ANA, due=TODAY, campaign=refs["ending"]).number
        refs["t_news"] = make.task(s, ws, "Write <!channel> newsletter", owner=ANA, due=day(20), status="in_progress").number
        refs["t_kol"] = make.task(s, ws, "KOL brief", owner=BO, due=day(18), goal=refs["gmv_goal"]).number
        refs["t_landing"] = make.task(s, ws, "Fix landing page", owner=BO, due=day(26), status="blocked", reason="waiting on IT").number
        refs["t_stock"] = make.task(s, ws, "Stock check", owner=BO, due=day(21), status="blocked", reason="no data").number
        refs["t_unowned"] = make.task(s, ws, "Reply to reviews", due=TODAY).number
        refs["t_unowned_blocked"] = make.task(s, ws, "Coupon design", status="blocked", reason="legal review").number
        make.task(s, ws, "Done already", owner=ANA, due=day(20), status="done")
        make.task(s, ws, "Tomorrow's work", owner=ANA, due=day(24))
        make.task(s, ws, "Someday", owner=BO)

        # KPIs. visits: 218k on Nov 1, 10k a day in the window, 12k yesterday over two channels = 300k.
        make.log(s, ws, "visits", "218000", day(1))
        for n in range(15, 22):
            make.log(s, ws, "visits", "10000", day(n))
        make.log(s, ws, "visits", "8000", day(22), channel="天猫")
        make.log(s, ws, "visits", "4000", day(22), channel="JD")
        # orders: logged on five of the seven window days; 2000 in all.
        make.log(s, ws, "orders", "390", day(1))
        for n in range(17, 22):
            make.log(s, ws, "orders", "250", day(n))
        make.log(s, ws, "orders", "360", day(22), channel="天猫")
        # gmv: nothing in the window, 80k over the goal so far.
        make.log(s, ws, "gmv", "75000", day(1))
        make.log(s, ws, "gmv", "5000", day(22))
        # CPA (lower is better, averaged): 12 on average in the window, 9 yesterday.
        make.log(s, ws, "CPA", "10", day(20))
        make.log(s, ws, "CPA", "14", day(21))
        make.log(s, ws, "CPA", "9", day(22))
        # 退货 (returns, lower is better): 10 a day, 15 yesterday.
        for n in range(15, 22):
            make.log(s, ws, "退货", "10", day(n))
        make.log(s, ws, "退货", "15", day(22))
        # 粉丝 (followers, a level): 1500 then 1600 in the window; weibo moves to 1200 yesterday, douyin stays.
        make.log(s, ws, "粉丝", "1000", day(20), channel="weibo")
        make.log(s, ws, "粉丝", "500", day(20), channel="douyin")
        make.log(s, ws, "粉丝", "1100", day(21), channel="weibo")
        make.log(s, ws, "粉丝", "1200", day(22), channel="weibo")
        # Not logged yesterday: left out.
        make.log(s, ws, "clicks", "40", day(21))
        make.log(s, ws, "impressions", "4000", day(21))
        make.log(s, ws, "clicks", "50", day(22))  # clicks was logged yesterday, CTR's denominator was not
        make.log(s, ws, "email opens", "300", day(21))

        # Retrospectives: open with notes, open without, closed.
        s.add_all([
            Retro(workspace_id=ws, number=1, title="十一月 retrospective", kind="month", period_start=day(1), period_end=day(30),
                  slack_channel_id="C0MKT", thread_ts="1763900000.000100", status="open"),
            Retro(workspace_id=ws, number=2, title="Singles' week review", kind="campaign", period_start=day(15),
                  period_end=day(22), slack_channel_id="C0MKT", thread_ts="1763900000.000200", status="open"),
            Retro(workspace_id=ws, number=3, title="October", kind="month", period_start=date(2026, 10, 1),
                  period_end=date(2026, 10, 31), slack_channel_id="C0MKT", thread_ts="1761900000.000100", status="closed"),
        ])
        s.flush()
        retro = s.scalars(select(Retro).where(Retro.workspace_id == ws, Retro.number == 1)).one()
        s.add_all([
            RetroNote(workspace_id=ws, retro_id=retro.id, user_id=ANA, message_ts="1763900001.000100", line=n,
                      category=cat, text=text)
            for n, (cat, text) in enumerate([("well", "直播 worked"), ("not", "stock-outs"), ("try", "more KOC")])
        ])
    return refs


def other_workspace_noise(db: Database, ws: str) -> None:
    with db.session() as s:
        make.task(s, ws, "Someone else's task", owner=ANA, due=TODAY)
        make.log(s, ws, "visits", "999", day(22))
        make.campaign(s, ws, "Their campaign", day(20), day(30), currency="¥")


@contextmanager
def count_queries(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def test_collect_a_realistic_workspace(db: Database, ws: str) -> None:
    refs = build_workspace(db, ws)
    other_workspace_noise(db, ws + "X")
    with db.session(write=False) as s:
        data = digest.collect(s, workspace_id=ws, today=TODAY)

    # ---- tasks: by owner, most overdue first, unassigned last; each task once
    assert [o.owner_id for o in data.owners] == [BO, ANA, None]
    bo, ana, unassigned = data.owners
    assert [t.number for t in bo.overdue] == [refs["t_kol"], refs["t_stock"]]  # oldest first
    assert [t.number for t in bo.due_today] == []
    assert [t.number for t in bo.blocked] == [refs["t_landing"]]
    assert bo.blocked[0].block_reason == "waiting on IT" and bo.blocked[0].due_on == day(26)
    assert bo.overdue[0].goal_number == refs["gmv_goal"]
    assert [t.number for t in ana.overdue] == [refs["t_news"]]
    assert ana.overdue[0].title == "Write <!channel> newsletter"  # stored as typed; the renderer escapes
    assert [t.number for t in ana.due_today] == [refs["t_banner"]]
    assert ana.due_today[0].campaign_number == refs["ending"]
    assert [t.number for t in unassigned.due_today] == [refs["t_unowned"]]
    assert [t.number for t in unassigned.blocked] == [refs["t_unowned_blocked"]]
    assert (data.due_today, data.overdue, data.blocked) == (2, 3, 3)

    # ---- goals: off track first (nothing logged 22 days in is off track too), then at risk, on track
    by_number = {g.number: g for g in data.goals}
    assert [g.number for g in data.goals] == [
        refs["visits_goal"], refs["followers_goal"], refs["conv_goal"], refs["orders_goal"], refs["gmv_goal"]
    ]
    assert [g.progress.status for g in data.goals] == [
        goals.OFF_TRACK, goals.OFF_TRACK, goals.OFF_TRACK, goals.AT_RISK, goals.ON_TRACK
    ]
    gmv = by_number[refs["gmv_goal"]]
    assert gmv.title == "Q4 GMV 双十一" and gmv.unit == "¥" and gmv.metric_name == "gmv" and gmv.owner_id == BO
    assert gmv.progress.current == D(80000)
    assert gmv.progress.projected == D(80000) / 22 * 30  # at the pace of the 22 days over, by Nov 30
    assert gmv.progress.needed_per_day == D(20000) / 8  # still to go, over the 8 days left (today included)
    conv = by_number[refs["conv_goal"]]
    assert conv.progress.current == D(2000) / D(300000)  # from the summed parts
    assert conv.progress.needed_per_day is None and conv.unit == "%"
    assert by_number[refs["visits_goal"]].progress.current == D(300000)
    assert by_number[refs["followers_goal"]].progress.current is None
    assert data.pace_counts() == {goals.OFF_TRACK: 3, goals.AT_RISK: 1, goals.ON_TRACK: 1}

    # ---- KPIs: yesterday vs the 7 days before, direction-aware
    k = {x.name: x for x in data.kpis}
    assert set(k) == {"gmv", "conversion", "orders", "visits", "CPA", "退货", "粉丝", "clicks"}  # not CTR
    assert k["visits"].yesterday == D(12000) and k["visits"].trailing == D(10000)
    # campaigns with no channel set are live yesterday: every move is expected, none is coloured
    assert k["visits"].change == D("0.2") and k["visits"].verdict == "campaign"
    assert k["visits"].check is not None and "C-1" in k["visits"].check.campaigns
    assert k["orders"].trailing == D(250) and k["orders"].trailing_days == 5  # averaged over days with data
    assert k["orders"].verdict == "campaign"
    assert k["conversion"].is_ratio
    # like with like: yesterday on 天猫, the one channel with both parts (JD logged visits, no orders); the window
    # pooled over the five days both parts were logged, from summed parts, never a mean of daily ratios
    assert k["conversion"].yesterday == D(360) / D(8000)
    assert k["conversion"].trailing == D(1250) / D(50000)
    assert k["conversion"].verdict == "campaign"
    assert k["gmv"].trailing is None and k["gmv"].verdict == "new" and k["gmv"].change is None
    assert k["CPA"].trailing == D(12) and k["CPA"].yesterday == D(9)
    assert k["CPA"].change == D("-0.25") and k["CPA"].verdict == "campaign"
    assert k["退货"].trailing == D(10) and k["退货"].change == D("0.5") and k["退货"].verdict == "campaign"
    assert k["粉丝"].trailing == D(1550) and k["粉丝"].yesterday == D(1700)  # douyin carried forward
    assert k["粉丝"].verdict == "flat", "a level is shown, not coloured by a fixed ±%"
    assert [x.number for x in data.kpis] == sorted(x.number for x in data.kpis)

    # ---- campaigns: ending, live, starting, ended yesterday
    assert [(c.number, c.stage) for c in data.campaigns] == [
        (refs["ending"], "ending"), (refs["live"], "live"), (refs["starting"], "starting"), (refs["ended"], "ended")
    ]
    ending = data.campaigns[0]
    assert ending.name == "Black Friday 黑五" and ending.currency == "¥"
    assert ending.budget == D(50000) and ending.spend == D(20000) and ending.budget_used == D("0.4")
    assert ending.revenue == D(5000)  # gmv logged during the campaign
    assert ending.roi == D("-0.75")
    assert ending.open_tasks == 1
    assert data.campaigns[2].spend == D(0) and data.campaigns[2].budget == D(80000)

    # ---- open retrospectives with their note counts
    assert [(r.number, r.title, r.notes) for r in data.retros] == [
        (2, "Singles' week review", 0), (1, "十一月 retrospective", 3)
    ]
    assert data.retros[1].thread_ts == "1763900000.000100" and data.retros[1].slack_channel_id == "C0MKT"
    assert not data.is_empty


def test_tasks_are_loaded_in_one_query(db: Database, ws: str) -> None:
    with db.session() as s:
        make.campaign(s, ws, "Launch", day(1), day(30), currency="¥")
        for n in range(60):
            make.task(s, ws, f"Task {n}", owner=f"U{n % 7}", due=TODAY - timedelta(days=n % 5), campaign=1)
    with db.session(write=False) as s, count_queries(db) as statements:
        owners = digest.collect_tasks(s, workspace_id=ws, today=TODAY)
        lines = [(t.number, t.campaign_number) for o in owners for t in (*o.overdue, *o.due_today, *o.blocked)]
    assert len(lines) == 60 and all(c == 1 for _, c in lines)
    assert len([q for q in statements if q.lstrip().upper().startswith("SELECT")]) == 1


def test_an_empty_workspace_collects_nothing(db: Database, ws: str) -> None:
    with db.session(write=False) as s:
        data = digest.collect(s, workspace_id=ws, today=TODAY)
    assert data.is_empty and data.owners == [] and data.kpis == [] and (data.due_today, data.overdue, data.blocked) == (0, 0, 0)


def test_a_ratio_with_zero_denominator_yesterday_is_left_out(db: Database, ws: str) -> None:
    with db.session() as s:
        make.metric(s, ws, "CTR", numerator="clicks", denominator="impressions")
        make.log(s, ws, "clicks", "0", day(22))
        make.log(s, ws, "impressions", "0", day(22))
    with db.session(write=False) as s:
        data = digest.collect(s, workspace_id=ws, today=TODAY)
    assert {k.name for k in data.kpis} == {"clicks", "impressions"}
    assert all(k.verdict == "new" for k in data.kpis)


def test_one_channel_logging_early_is_no_collapse(db: Database, workspace: str) -> None:
    """Five channels log GMV every day; by the morning only 天猫 has logged yesterday. The comparison is 天猫's
    yesterday against 天猫's own average (flat), and the other four are named as missing, not read as −80 %."""
    channels = ("天猫", "JD", "抖音", "email", "拼多多")
    with db.session() as s:
        for n in range(15, 22):
            for channel in channels:
                make.log(s, workspace, "gmv", "1000", day(n), channel=channel)
        make.log(s, workspace, "gmv", "1000", day(22), channel="天猫")
        make.log(s, workspace, "orders", "10", day(22), channel="天猫")  # a new metric: nothing to compare
    with db.session(write=False) as s:
        k = {c.name: c for c in digest.collect(s, workspace_id=workspace, today=TODAY).kpis}
    gmv = k["gmv"]
    assert gmv.yesterday == D(1000) and gmv.trailing == D(1000) and gmv.verdict == "flat"
    assert gmv.channels == ("天猫",) and set(gmv.missing) == {"JD", "抖音", "email", "拼多多"}
    from bot.render.digest import kpi_line

    line = kpi_line(gmv)
    assert "1 of 5 channels logged" in line and "missing" in line and "↓" not in line, line
    assert k["orders"].verdict == "new" and k["orders"].missing == ()


def test_a_channel_new_yesterday_is_left_out_of_the_comparison(db: Database, workspace: str) -> None:
    with db.session() as s:
        for n in range(15, 22):
            make.log(s, workspace, "gmv", "1000", day(n), channel="天猫")
        make.log(s, workspace, "gmv", "1100", day(22), channel="天猫")
        make.log(s, workspace, "gmv", "5000", day(22), channel="抖音")  # first day on 抖音
    with db.session(write=False) as s:
        [gmv] = [c for c in digest.collect(s, workspace_id=workspace, today=TODAY).kpis if c.name == "gmv"]
    assert gmv.yesterday == D(1100) and gmv.trailing == D(1000) and gmv.change == D("0.1")


def test_only_a_significant_move_is_coloured_and_alerted(db: Database, workspace: str) -> None:
    """Eight weeks of GMV on two channels with a weekday pattern (Sundays double); yesterday (a Sunday) 天猫 fell
    to a third of its usual Sunday while JD was normal. Only 天猫 is flagged, with why it moved; a 20 % rise on a
    normal Sunday in the old ±1 % rule would have been green, and is not coloured now."""
    with db.session() as s:
        d = day(22) - timedelta(days=56)
        while d < day(22):
            sunday = d.weekday() == 6
            for channel, base in (("天猫", 1000), ("JD", 500)):
                wobble = 1 + ((d.toordinal() * 7 + len(channel)) % 5 - 2) / 100  # ±2 % noise
                visits = base * 10 * (2 if sunday else 1) * wobble
                make.log(s, workspace, "visits", str(round(visits)), d, channel=channel)
                make.log(s, workspace, "orders", str(round(visits / 20)), d, channel=channel)
                make.log(s, workspace, "gmv", str(round(visits / 20 * 100)), d, channel=channel)
            d += timedelta(days=1)
        # yesterday, Sunday Nov 22: 天猫's conversion collapsed (visits normal), JD normal
        make.log(s, workspace, "visits", "20000", day(22), channel="天猫")
        make.log(s, workspace, "orders", "330", day(22), channel="天猫")
        make.log(s, workspace, "gmv", "33000", day(22), channel="天猫")
        make.log(s, workspace, "visits", "10000", day(22), channel="JD")
        make.log(s, workspace, "orders", "500", day(22), channel="JD")
        make.log(s, workspace, "gmv", "50000", day(22), channel="JD")
    with db.session(write=False) as s:
        data = digest.collect(s, workspace_id=workspace, today=TODAY)
    k = {x.name: x for x in data.kpis}
    gmv = k["gmv"]
    assert gmv.verdict == "bad" and gmv.check is not None and gmv.check.verdict == "low"
    assert [a.channel for a in gmv.alerts] == [None, "天猫"], gmv.alerts
    tmall = gmv.alerts[1]
    assert tmall.check.value == D(33000) and tmall.check.low is not None and tmall.check.low > D(33000)
    assert tmall.why is not None and tmall.why.split is not None
    assert tmall.why.split.conversion.change < -0.5 and abs(tmall.why.split.traffic.change) < 0.05
    assert k["visits"].verdict == "flat" and not k["visits"].alerts, "a normal Sunday is not coloured"

    from bot.render.digest import alert_reply, kpi_line

    assert "unusual for a Sunday" in kpi_line(gmv)
    alert = alert_reply(data.kpis, TODAY)
    assert alert is not None
    text = " ".join(str(b) for b in alert.blocks)
    assert "天猫" in text and "expected" in text and "conversion" in text and "traffic" in text
