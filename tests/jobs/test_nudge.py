"""The KPI watchdog: whoever usually logs a metric on a channel gets one DM when yesterday's value is missing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from bot.localslack import LocalSlack
from bot.services import kpis
from jobs.context import JobContext
from jobs.tick import tick
from tests.conftest import Clock
from tests.jobs.test_tick import at

ANA, BO = "U0ANA", "U0BO"
YESTERDAY = date(2026, 11, 22)


def log(ctx: JobContext, ws: str, channel: str, day: date, user: str) -> None:
    with ctx.db.session() as s:
        kpis.log_value(s, workspace_id=ws, metric_name="gmv", value=Decimal(1000), percent=False, channel=channel,
                       day=day, user_id=user)


def test_the_usual_logger_is_nudged_once_for_a_missing_day(
    ctx: JobContext, slack: LocalSlack, workspace: str, job_clock: Clock
) -> None:
    for back in range(1, 15):
        log(ctx, workspace, "天猫", YESTERDAY - timedelta(days=back), ANA)
        log(ctx, workspace, "JD", YESTERDAY - timedelta(days=back), BO)
    log(ctx, workspace, "抖音", YESTERDAY - timedelta(days=1), BO)  # logged once: not a usual series
    log(ctx, workspace, "JD", YESTERDAY, BO)  # JD is in; 天猫 is not
    tick(ctx, at(job_clock, "2026-11-23T09:30:00+08:00"))
    assert not slack.channel_messages(slack.im_channel(ANA)), "not before 10:00"
    tick(ctx, at(job_clock, "2026-11-23T10:00:30+08:00"))
    tick(ctx, at(job_clock, "2026-11-23T10:05:30+08:00"))
    [dm] = [m for m in slack.channel_messages(slack.im_channel(ANA)) if m.is_bot]
    text = dm.all_text()
    assert "gmv" in text and "天猫" in text and "2026-11-22" in text and "/kpi log gmv" in text
    assert "JD" not in text and "抖音" not in text
    assert not [m for m in slack.channel_messages(slack.im_channel(BO)) if m.is_bot], "BO logged what he usually does"
