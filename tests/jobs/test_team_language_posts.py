"""Every post a channel reads together, in that channel's team language (`/mkt language`): the digest and its
alert, the weekly report and its charts' text tables, an automatic retro's parent and its summary; and the
posts to one person (reminders, watchdog nudges) in that person's language, whatever the channel speaks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.localslack import LocalSlack
from bot.posts import nudge
from bot.posts.retro import enqueue_summary
from bot.services import campaigns, goals, kpis, languages, retros, tasks
from jobs.context import JobContext
from jobs.tick import tick
from storage.db import Database
from storage.models import Outbox, Retro
from tests.conftest import Clock
from tests.jobs.test_tick import add_schedule, at
from tests.support.language import not_chinese, not_english

TODAY = date(2026, 11, 23)  # a Monday: the report's day, and yesterday (Sunday) is checked against 8 Sundays
ANA, BO = "U0ANA", "U0BO"  # Ana's Slack is English, Bo's Chinese (tests/jobs/conftest.py)
NOTES = {
    "zh-CN": ["做得好：直播带货效果好", "问题：横幅晚了两天", "改进：提前一周备货", f"行动：<@{BO}> 整理直播数据 due:fri"],
    "en": ["went well: the live stream sold out", "didn't: the banner was two days late", "try: stock a week earlier",
           f"action: <@{BO}> sum up the stream data due:fri"],
}
#: what the team typed: names, titles, channels, notes (as they appear in posts)
TYPED = ["visits", "orders", "gmv", "转化率", "天猫", "JD", "Q4 GMV 双十二", "双十一 预售", "黑五 Black Friday",
         "海报终稿", "Poster final", "KOL brief", "客服回复", "no data from IT",
         *(line.split("：", 1)[-1].split(": ", 1)[-1] for lines in NOTES.values() for line in lines),
         "整理直播数据 due:fri", "sum up the stream data due:fri", "¥"]


def seed(db: Database, ws: str) -> None:
    """Nine weeks of KPIs on two channels; yesterday 天猫's orders collapse (an alert, with the GMV split) and JD
    logs nothing (a coverage note, and a nudge to Bo, who usually logs JD). Tasks, a goal, campaigns."""
    with db.session() as s:
        kpis.define_metric(s, workspace_id=ws, spec=kpis.MetricSpec("转化率", numerator="orders", denominator="visits"),
                           user_id=None)
        for back in range(1, 64):
            day = TODAY - timedelta(days=back)
            for channel, who, visits, orders in (("天猫", ANA, 1000, 30), ("JD", BO, 500, 20)):
                if back == 1 and channel == "JD":
                    continue
                wobble = back % 3
                day_orders = 8 if back == 1 else orders + wobble
                for name, value in (("visits", visits + 7 * wobble), ("orders", day_orders), ("gmv", day_orders * 120)):
                    kpis.log_value(s, workspace_id=ws, metric_name=name, value=Decimal(value), percent=False,
                                   channel=channel, day=day, user_id=who)
        goals.create_goal(s, workspace_id=ws, user_id=ANA, data=goals.GoalCreate(
            title="Q4 GMV 双十二", metric="gmv", target=Decimal(2_500_000), target_percent=False,
            start_on=TODAY - timedelta(days=30), due_on=TODAY + timedelta(days=38)))
        ended = campaigns.create_campaign(s, workspace_id=ws, user_id=ANA, data=campaigns.CampaignCreate(
            "双十一 预售", TODAY - timedelta(days=12), TODAY - timedelta(days=2), channels=["天猫"],
            budget=Decimal(300_000), currency="¥"))
        campaigns.add_spend(s, workspace_id=ws, number=ended.number, amount=Decimal(120_000), channel="天猫",
                            day=TODAY - timedelta(days=3), user_id=ANA)
        campaigns.create_campaign(s, workspace_id=ws, user_id=ANA, data=campaigns.CampaignCreate(
            "黑五 Black Friday", TODAY + timedelta(days=1), TODAY + timedelta(days=4), budget=Decimal(50_000), currency="¥"))
        for title, owner, due in (("海报终稿", BO, TODAY + timedelta(days=1)), ("Poster final", ANA, TODAY + timedelta(days=1)),
                                  ("KOL brief", BO, TODAY - timedelta(days=2)), ("客服回复", None, TODAY)):
            tasks.create_task(s, workspace_id=ws, user_id=ANA, data=tasks.TaskCreate(title, owner_id=owner, due_on=due))
        tasks.set_status(s, workspace_id=ws, number=4, status="blocked", reason="no data from IT")


def posts(slack: LocalSlack, channel: str) -> list[str]:
    return [m.all_text() for m in slack.channel_messages(channel) if m.is_bot]


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_every_post_is_in_its_channels_language_and_every_dm_in_its_readers(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the day's scan is once per database: this test's day is others' too
    monkeypatch.setattr(nudge, "_first_scan", {})
    monkeypatch.setattr(nudge, "_done", set())
    at(job_clock, "2026-11-23T08:00:00+08:00")
    seed(ctx.db, workspace)
    with ctx.db.session() as s:
        languages.set_language(s, workspace_id=workspace, channel="C0MKT", language=language, user_id=ANA)
    add_schedule(ctx, workspace, kind="digest")
    add_schedule(ctx, workspace, kind="report", days=[0])
    # every chart fails to upload: its numbers come as a text table in the report's thread
    slack.add_response("files.getUploadURLExternal", status=200, body={"ok": False, "error": "internal_error"}, times=20)
    tick(ctx, at(job_clock, "2026-11-23T09:00:30+08:00"))  # digest, report, reminders, the campaign's retro
    tick(ctx, at(job_clock, "2026-11-23T10:00:30+08:00"))  # nudges
    with ctx.db.session() as s:
        retro = s.scalars(select(Retro).where(Retro.workspace_id == workspace)).one()
        for i, line in enumerate(NOTES[language]):
            retros.record_reply(s, retro=retro, user_id=ANA, message_ts=f"1763900000.00{i:04d}", text=line)
        closed = retros.close_retro(s, workspace_id=workspace, number=retro.number, user_id=ANA)
        assert sorted(n.category for n in closed.notes) == ["action", "not", "try", "well"], "both languages' prefixes"
        enqueue_summary(s, closed, today=TODAY, now=ctx.clock())
    tick(ctx, at(job_clock, "2026-11-23T10:05:30+08:00"))

    with ctx.db.session(write=False) as s:
        sent = set(s.scalars(select(Outbox.kind).where(Outbox.workspace_id == workspace, Outbox.status == "sent")))
    assert sent == {"digest", "alert", "report", "retro", "summary", "reminder", "nudge"}, sent

    channel = posts(slack, "C0MKT")
    assert any("```" in p for p in channel), "a chart's text table"
    chinese = language == "zh-CN"
    check = not_chinese if chinese else not_english
    for text in channel:
        assert not check(text, TYPED), (check(text, TYPED), text)
    # reminders and nudges follow their reader, not the channel
    bo, ana = posts(slack, slack.im_channel(BO)), posts(slack, slack.im_channel(ANA))
    assert bo and ana
    for text in bo:
        assert not not_chinese(text, TYPED), (not_chinese(text, TYPED), text)
    for text in ana:
        assert not not_english(text, TYPED), (not_english(text, TYPED), text)
    joined = "\n".join(channel)
    if chinese:
        for word in ("每日摘要", "异常KPI", "原因：", "个渠道中", "每周KPI报告", "复盘R-", "做得好：", "万"):
            assert word in joined, word
    else:
        for word in ("Daily digest", "Unusual KPIs", "why:", "channels logged", "Weekly KPI report", "Retrospective R-"):
            assert word in joined, word
