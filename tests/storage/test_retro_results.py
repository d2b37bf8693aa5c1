"""A retrospective's KPIs compare like with like: a live campaign's elapsed days against as many days before
it, never 5 days against 28; a thin previous window is not compared; goals read their one "% of target"."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from bot.services import goals, retros
from storage.db import Database
from tests.support import factories as make

D = Decimal


def campaign_retro(db: Database, ws: str, today: date) -> retros.RetroResults:
    with db.session() as s:
        number = make.campaign(s, ws, "双十二", date(2026, 12, 1), date(2026, 12, 28), channels=["天猫"]).number
        retro = retros.start_retro(s, workspace_id=ws, channel="C1", kind="campaign", today=today, user_id="U1",
                                   campaign_number=number)
        return retros.results(s, retro=retro, today=today)


def test_a_live_campaign_compares_its_elapsed_days_with_as_many_before(db: Database, workspace: str) -> None:
    day = date(2026, 11, 1)
    while day <= date(2026, 12, 6):  # ¥100 a day before the campaign, ¥150 a day in it, today included
        make.log(db, workspace, "gmv", 150 if day >= date(2026, 12, 1) else 100, day, channel="天猫")
        day += timedelta(days=1)
    [gmv] = campaign_retro(db, workspace, date(2026, 12, 6)).kpis
    assert (gmv.days, gmv.period_days) == (5, 28)  # Dec 1-5: today is not over
    assert gmv.value == D(750) and gmv.previous == D(500), "5 days against the 5 days before, not against 28"


def test_a_thin_previous_window_is_not_compared(db: Database, workspace: str) -> None:
    make.log(db, workspace, "gmv", 100, date(2026, 11, 30), channel="天猫")  # one day of data in the 5 before
    for n in range(1, 6):
        make.log(db, workspace, "gmv", 150, date(2026, 12, n), channel="天猫")
    [gmv] = campaign_retro(db, workspace, date(2026, 12, 6)).kpis
    assert gmv.value == D(750) and gmv.previous is None and gmv.why_not == "thin"


def test_a_campaign_that_has_not_begun_compares_nothing(db: Database, workspace: str) -> None:
    make.log(db, workspace, "gmv", 100, date(2026, 11, 30), channel="天猫")
    make.log(db, workspace, "gmv", 100, date(2026, 12, 1), channel="天猫")  # today's, not over yet
    [gmv] = campaign_retro(db, workspace, date(2026, 12, 1)).kpis
    assert gmv.days == 0 and gmv.previous is None and gmv.why_not == "none"


def test_a_retro_goal_reads_the_goals_own_percent_of_target(db: Database, workspace: str) -> None:
    with db.session() as s:
        make.metric(s, workspace, "ctr", unit="%")
        make.goal(s, workspace, "ctr", "4%", title="CTR", baseline="2%", start=date(2026, 12, 1), due=date(2026, 12, 31))
        make.log(s, workspace, "ctr", "3%", date(2026, 12, 2))
    with db.session() as s:
        retro = retros.start_retro(s, workspace_id=workspace, channel="C1", kind="month", today=date(2026, 12, 6),
                                   user_id="U1")
        [goal] = retros.results(s, retro=retro, today=date(2026, 12, 6)).goals
    with db.session(write=False) as s:
        expected = goals.progress(s, goal=goals.get_goal(s, workspace_id=workspace, number=1), today=date(2026, 12, 6))
    assert goal.attained == expected.percent_of_target == D("0.5"), "half way from 2 % to 4 %, not 3/4 = 75 %"


def test_a_campaigns_kpis_are_its_own_channels_figures(db: Database, workspace: str) -> None:
    """A campaign on 天猫 is judged on 天猫: JD's sales in the same days are not its results (Tmall is 天猫 too)."""
    day = date(2026, 11, 1)
    while day <= date(2026, 12, 6):
        make.log(db, workspace, "gmv", 150 if day >= date(2026, 12, 1) else 100, day, channel="天猫")
        make.log(db, workspace, "gmv", 1_000, day, channel="JD")
        day += timedelta(days=1)
    make.log(db, workspace, "gmv", 10, date(2026, 12, 2), channel="Tmall")  # 天猫's under its other name: replaces 150
    results = campaign_retro(db, workspace, date(2026, 12, 6))
    [gmv] = results.kpis
    assert results.channels == ("天猫",)
    assert gmv.value == D(610) and gmv.previous == D(500), "天猫 alone (Tmall included), not ¥5,000 of JD on top"


def test_a_campaign_whose_channels_logged_nothing_shows_no_other_channels_kpis(db: Database, workspace: str) -> None:
    for n in range(1, 6):
        make.log(db, workspace, "gmv", 1_000, date(2026, 12, n), channel="JD")
    assert campaign_retro(db, workspace, date(2026, 12, 6)).kpis == []


def test_an_action_items_due_date_may_run_over_several_words(db: Database, workspace: str) -> None:
    """`due:end of month` in a thread reads as a command's option does: the date, and the rest stays the title."""
    from commands.grammar import ParseError, parse_date

    today = date(2026, 11, 23)

    def parse_due(value: str) -> date | None:
        try:
            return parse_date(value, today=today)
        except ParseError:
            return None

    with db.session() as s:
        retro = retros.start_retro(s, workspace_id=workspace, channel="C1", kind="month", today=today, user_id="U1")
        retros.record_reply(s, retro=retro, user_id="U1", message_ts="1.1",
                            text="action: <@U2> book the studio due:end of month with Bo")
        retros.record_reply(s, retro=retro, user_id="U1", message_ts="1.2", text="action: recap deck due:someday")
        closed = retros.close_retro(s, workspace_id=workspace, number=retro.number, user_id="U1", parse_due=parse_due)
        made = [(task.title, task.due_on) for task in closed.tasks]
    assert made == [("book the studio with Bo", date(2026, 11, 30)), ("recap deck due:someday", None)]
