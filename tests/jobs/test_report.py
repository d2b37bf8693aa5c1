"""The weekly KPI report and /kpi show charts: numbers in the post, PNG charts uploaded, a text table when a chart fails."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

import pytest

from bot.localslack import LocalSlack
from bot.services import goals, kpis
from jobs.context import JobContext
from jobs.tick import tick
from storage.db import Database
from tests.conftest import Clock
from tests.jobs.test_tick import add_schedule, at
from tests.support.harness import ANA, GENERAL, NOW, Bot, new_team_id, running_bot

PNG = b"\x89PNG\r\n\x1a\n"


def seed(db: Database, workspace: str, today: date) -> None:
    with db.session() as s:
        kpis.define_metric(s, workspace_id=workspace, spec=kpis.MetricSpec("转化率", numerator="orders", denominator="visits"), user_id=None)
        for back in range(1, 30):
            day = today - timedelta(days=back)
            for channel, visits, orders in (("天猫", 1000, 30), ("JD", 500, 20)):
                for name, value in (("visits", visits + back), ("orders", orders), ("gmv", orders * 120)):
                    kpis.log_value(s, workspace_id=workspace, metric_name=name, value=Decimal(value), percent=False,
                                   channel=channel, day=day, user_id="U0ANA")
        goals.create_goal(
            s, workspace_id=workspace,
            data=goals.GoalCreate(title="Q4 GMV 双十二", metric="gmv", target=Decimal(500000), target_percent=False,
                                  start_on=today - timedelta(days=30), due_on=today + timedelta(days=38)),
            user_id="U0ANA",
        )


def test_weekly_report_posts_numbers_then_charts_in_its_thread(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    at(job_clock, "2026-11-23T08:00:00+08:00")
    seed(ctx.db, workspace, date(2026, 11, 23))
    add_schedule(ctx, workspace, kind="report", days=[0])
    tick(ctx, at(job_clock, "2026-11-23T09:00:30+08:00"))
    [post] = [m for m in slack.channel_messages("C0MKT") if m.is_bot and m.thread_ts is None and "KPI report" in m.all_text()]
    text = post.all_text()
    assert "G-1" in text and "转化率" in text and "visits" in text
    uploads = [f for f in slack.files.values() if f.thread_ts == post.ts]
    assert len(uploads) >= 3  # goal, channel breakdown, ratio
    assert all(slack.file_bytes(f.id).startswith(PNG) for f in uploads)
    # KPIs as Block Kit fields, not a monospaced table; the headline goal chart in the message itself
    assert "```" not in text
    assert any("fields" in b for b in post.blocks) and "*visits*" in text
    goal_file = next(f for f in uploads if f.filename == "goal-G-1.png")
    images = [b for b in post.blocks if b.get("type") == "image"]
    assert [i["slack_file"]["id"] for i in images] == [goal_file.id]
    # the next tick does not post it again
    tick(ctx, at(job_clock, "2026-11-23T09:05:00+08:00"))
    assert len([m for m in slack.channel_messages("C0MKT") if m.is_bot and "KPI report" in m.all_text()]) == 1


def test_a_chart_that_fails_becomes_a_text_table(ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock) -> None:
    at(job_clock, "2026-11-23T08:00:00+08:00")
    seed(ctx.db, workspace, date(2026, 11, 23))
    add_schedule(ctx, workspace, kind="report", days=[0])
    slack.add_response("files.getUploadURLExternal", status=200, body={"ok": False, "error": "internal_error"}, times=10)
    tick(ctx, at(job_clock, "2026-11-23T09:00:30+08:00"))
    [post] = [m for m in slack.channel_messages("C0MKT") if m.is_bot and m.thread_ts is None]
    replies = [m.text for m in slack.channel_messages("C0MKT", thread_ts=post.ts) if m.is_bot and m.ts != post.ts]
    assert replies and all("```" in r for r in replies)
    assert any("天猫" in r for r in replies)
    assert not slack.files


@pytest.fixture
def stack(sqlite_db: Database, clock: Clock) -> Iterator[Bot]:
    clock.set(NOW)
    with running_bot(sqlite_db, clock=clock, team_id=new_team_id()) as running:
        yield running


def wait_for_file(slack: LocalSlack, timeout: float = 20) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = list(slack.files.values())
        if files and all(f.channel for f in files):  # shared: files.completeUploadExternal is done, not only the upload
            return files
        time.sleep(0.05)
    raise AssertionError(slack.dump(limit=10))


def test_kpi_show_uploads_a_chart_after_the_private_summary(stack: Bot) -> None:
    bot = stack
    bot.say(ANA, "/kpi define 转化率 = orders / visits")
    bot.say(ANA, "/kpi log visits 1000 orders 30 channel:天猫 date:yesterday")
    bot.say(ANA, "/kpi log visits 500 orders 20 channel:天猫")
    said = bot.say(ANA, "/kpi show 转化率 period:7d")
    assert said.ephemeral and "3.33%" in said
    [upload] = wait_for_file(bot.slack)
    assert upload.channel == GENERAL and bot.slack.file_bytes(upload.id).startswith(PNG)
    assert "转化率" in (upload.title or "")


def test_kpi_show_chart_failure_answers_privately_with_numbers(stack: Bot) -> None:
    bot = stack
    bot.say(ANA, "/kpi log visits 1000 channel:天猫")
    with mock.patch("bot.render.charts.render", side_effect=RuntimeError("no display")):
        bot.say(ANA, "/kpi show visits by:channel")
        bot.slack.wait_for_message(GENERAL, where=lambda m: "could not be drawn" in m.text)
    assert not bot.slack.files


def test_report_charts_are_recorded_in_the_outbox_for_the_home_tab(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    import json

    from bot.services import chart_files
    from storage.models import Outbox

    at(job_clock, "2026-11-23T08:00:00+08:00")
    seed(ctx.db, workspace, date(2026, 11, 23))
    add_schedule(ctx, workspace, kind="report", days=[0])
    tick(ctx, at(job_clock, "2026-11-23T09:00:30+08:00"))
    [post] = [m for m in slack.channel_messages("C0MKT") if m.is_bot and m.thread_ts is None and "KPI report" in m.all_text()]
    uploads = {f.id: f.title for f in slack.files.values() if f.thread_ts == post.ts}
    with ctx.db.session(write=False) as session:
        [row] = [r for r in session.query(Outbox).filter_by(workspace_id=workspace, kind="report")]
        recorded = json.loads(row.payload or "{}")[chart_files.PAYLOAD_KEY]
        assert {c["id"]: c["title"] for c in recorded} == uploads
        stored = chart_files.persisted(session, workspace)
    assert stored is not None and stored.file_id in uploads and stored.title == uploads[stored.file_id]
    assert chart_files.LATEST.get(workspace) is not None


def test_a_goal_with_no_values_gets_a_line_not_a_traceback(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    today = date(2026, 11, 23)
    at(job_clock, "2026-11-23T08:00:00+08:00")
    with ctx.db.session() as s:
        kpis.define_metric(s, workspace_id=workspace, spec=kpis.MetricSpec("leads"), user_id=None)
        goals.create_goal(
            s, workspace_id=workspace,
            data=goals.GoalCreate(title="Q4 leads", metric="leads", target=Decimal(500), target_percent=False,
                                  start_on=today - timedelta(days=30), due_on=today + timedelta(days=38)),
            user_id="U0ANA",
        )
    add_schedule(ctx, workspace, kind="report", days=[0])
    tick(ctx, at(job_clock, "2026-11-23T09:00:30+08:00"))
    [post] = [m for m in slack.channel_messages("C0MKT") if m.is_bot and m.thread_ts is None]
    replies = [m.text for m in slack.channel_messages("C0MKT", thread_ts=post.ts) if m.is_bot and m.ts != post.ts]
    assert any("no values logged yet" in r for r in replies)
    assert not any("```" in r for r in replies)
    assert not [r for r in caplog.records if r.exc_info]


def test_the_text_table_fallback_never_pings_through_typed_names(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    today = date(2026, 11, 23)
    at(job_clock, "2026-11-23T08:00:00+08:00")
    with ctx.db.session() as s:
        for back in range(1, 15):
            kpis.log_value(s, workspace_id=workspace, metric_name="<!everyone>gmv", value=Decimal(100 + back), percent=False,
                           channel="<!here>", day=today - timedelta(days=back), user_id="U0ANA")
        goals.create_goal(
            s, workspace_id=workspace,
            data=goals.GoalCreate(title="<!channel> Q4", metric="<!everyone>gmv", target=Decimal(5000), target_percent=False,
                                  start_on=today - timedelta(days=20), due_on=today + timedelta(days=20)),
            user_id="U0ANA",
        )
    add_schedule(ctx, workspace, kind="report", days=[0])
    slack.add_response("files.getUploadURLExternal", status=200, body={"ok": False, "error": "internal_error"}, times=10)
    tick(ctx, at(job_clock, "2026-11-23T09:00:30+08:00"))
    posted = [m for m in slack.channel_messages("C0MKT") if m.is_bot]
    replies = [m.text for m in posted if m.thread_ts is not None and m.ts != m.thread_ts]
    assert replies and any("```" in r for r in replies)
    for message in posted:
        for text in (message.text, message.all_text()):
            assert "<!channel>" not in text and "<!here>" not in text and "<!everyone>" not in text, text


def test_kpi_show_with_no_values_answers_privately_and_uploads_nothing(
    stack: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    bot = stack
    bot.say(ANA, "/kpi define leads")
    bot.say(ANA, "/kpi show leads period:7d")
    bot.slack.wait_for_message(GENERAL, where=lambda m: "no values logged yet" in m.text, timeout=20)
    assert not bot.slack.files
    assert not [r for r in caplog.records if r.exc_info]


def _report_thread(slack: LocalSlack) -> tuple[list[str], list[str]]:
    """The file names shared in the weekly report's thread, and the text tables posted there."""
    [post] = [m for m in slack.channel_messages("C0MKT") if m.is_bot and m.thread_ts is None and "KPI report" in m.all_text()]
    names = [f.filename for f in slack.files.values() if f.completed and f.thread_ts == post.ts for _ in f.shares]
    tables = [m.text for m in slack.channel_messages("C0MKT", thread_ts=post.ts) if m.is_bot and "```" in m.text]
    return names, tables


def test_a_chart_whose_upload_answer_is_lost_appears_once_and_not_as_a_table(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    at(job_clock, "2026-11-23T08:00:00+08:00")
    seed(ctx.db, workspace, date(2026, 11, 23))
    add_schedule(ctx, workspace, kind="report", days=[0])
    slack.drop_answer("files.completeUploadExternal")  # Slack shares it; the bot never hears so
    tick(ctx, at(job_clock, "2026-11-23T09:00:30+08:00"))
    names, tables = _report_thread(slack)
    assert len(names) >= 3 and len(names) == len(set(names)), names
    assert tables == [], "a chart that is in the thread is not also posted as a table"
    assert len(slack.get_calls("files.info")) >= 1, "the lost share is checked by its file id"


def test_a_chart_whose_completion_failed_before_sharing_is_shared_once(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    at(job_clock, "2026-11-23T08:00:00+08:00")
    seed(ctx.db, workspace, date(2026, 11, 23))
    add_schedule(ctx, workspace, kind="report", days=[0])
    slack.add_response("files.completeUploadExternal", status=503, body={"ok": False, "error": "service_unavailable"})
    tick(ctx, at(job_clock, "2026-11-23T09:00:30+08:00"))
    names, tables = _report_thread(slack)
    assert len(names) >= 3 and len(names) == len(set(names)), names
    assert tables == []


def test_a_chart_whose_share_cannot_be_checked_is_neither_repeated_nor_tabled(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    at(job_clock, "2026-11-23T08:00:00+08:00")
    seed(ctx.db, workspace, date(2026, 11, 23))
    add_schedule(ctx, workspace, kind="report", days=[0])
    slack.drop_answer("files.completeUploadExternal")
    slack.add_response("files.info", status=503, body={"ok": False, "error": "service_unavailable"}, times=3)
    tick(ctx, at(job_clock, "2026-11-23T09:00:30+08:00"))
    names, tables = _report_thread(slack)
    assert len(names) == len(set(names)), names
    assert tables == [], "the first chart may be in the thread: no table for it"
    assert any("cannot tell whether file" in r.getMessage() for r in caplog.records)


def test_a_kpi_chart_honours_its_channel_goals_and_partial_weeks(
    ctx: JobContext, workspace: str, job_clock: Clock
) -> None:
    """`/kpi show gmv channel:天猫 period:this-month` draws 天猫 alone (not every channel), the goal on gmv as a
    pace line per week, and the weeks not over as partial."""
    from bot.posts.report import build_chart
    from bot.render import charts

    at(job_clock, "2026-11-23T08:00:00+08:00")
    seed(ctx.db, workspace, date(2026, 11, 23))
    with ctx.db.session(write=False) as s:
        gmv = kpis.get_metric(s, workspace_id=workspace, name_or_number="gmv")
        goal = goals.get_goal(s, workspace_id=workspace, number=1)
        spec = {"type": "breakdown", "metric_id": gmv.id, "start": "2026-11-01", "end": "2026-11-23", "name": "k",
                "channel": "天猫", "goals": [goal.id]}
        days = (goal.due_on - goal.start_on).days + 1
        target = goal.target
    chart = build_chart(ctx, workspace, spec)
    assert isinstance(chart, charts.BreakdownChart)
    assert list(chart.values) == ["天猫"] and "天猫" in chart.title
    assert chart.references == (("G-1 pace/day", target / days),)
    assert chart.partial[-1] is True, "Nov 23 is today: not over"
    assert chart.partial[0] is False and not any(chart.partial[:-1])
    weekly = dict(spec, start="2026-10-01", end="2026-11-23")
    chart = build_chart(ctx, workspace, weekly)
    assert isinstance(chart, charts.BreakdownChart)
    assert chart.partial[0] is True, "Oct 1 is a Thursday: its week is cut by the range"
    assert chart.partial[-1] is True and not any(chart.partial[1:-1])
    assert chart.references == (("G-1 pace/week", target / days * 7),)
    charts.render(chart)  # draws, hatched partial weeks and the pace line included
