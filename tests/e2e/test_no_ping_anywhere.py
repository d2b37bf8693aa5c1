"""Every string the bot sent to Slack, whatever the call, is walked for a live special mention."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from bot.ids import ActionId
from bot.services import campaigns, goals, kpis, tasks
from storage.models import Task
from tests.e2e.test_bad_input import MENTION_SCRIPT
from tests.jobs.conftest import make_ctx
from tests.jobs.test_tick import add_schedule, at
from tests.support.harness import ANA, GENERAL, MARKETING, Bot
from tests.support.text import strings

LIVE_SPECIAL = re.compile(r"<!(channel|here|everyone|subteam\^)[^>]*>")


def leaks_in_everything_sent(bot: Bot) -> list[str]:
    """Every recorded Web API call and every message the bot made (acks and response_url posts included)."""
    with bot.slack._lock:
        calls = [(c.method, c.args) for c in bot.slack.calls]
        sent = [(m.source, vars(m)) for m in bot.slack.messages if m.is_bot]
    found = []
    for kind, payload in [*calls, *sent]:
        # plain_text is shown literally (`<!here>` in a header pings no one); a string holding JSON is walked
        for where, text in strings(payload, plain_text=False, json_strings=True):
            if where.startswith("$.files[") and where.endswith(".title"):
                continue  # a file's title is shown as plain text, never parsed for mentions
            if LIVE_SPECIAL.search(text):
                found.append(f"{kind} {where}: {text[:160]!r}")
    return found


def test_no_post_of_any_kind_carries_a_typed_special_mention(bot: Bot) -> None:
    for line in [*MENTION_SCRIPT, "/mkt digest now", "/retro start campaign:C-1"]:
        said = bot.say(ANA, line)
        assert said.status == 200, f"{line}: {said}"
    time.sleep(1.5)  # posts made after the ack (digest, retro parent) land
    slack = bot.slack
    parent = next(m for m in slack.channel_messages(GENERAL)
                  if m.is_bot and m.thread_ts is None and "Retrospective R-1" in m.all_text())
    slack.post_user_message(GENERAL, ANA, f"went well: {HOSTILE}\naction: {HOSTILE} follow up\naction: <!here> recap",
                            thread_ts=parent.ts)
    card, block = next((m, b["block_id"]) for m in slack.messages if m.is_bot
                       for b in m.blocks or [] if str(b.get("block_id", "")).startswith("task_actions:"))
    slack.click_button(card, ActionId.TASK_DONE, user_id=ANA, block_id=block)
    slack.open_app_home(ANA)
    assert bot.say(ANA, "/retro close R-1").status == 200
    time.sleep(1.5)  # the button's update, the Home tab, the retro summary
    assert any("recap" in m.all_text() for m in slack.messages if m.is_bot), "the retro's action items came back"
    assert "views.publish" in {c.method for c in slack.calls}, "the Home tab was drawn"
    with bot.db.session(write=False) as s:
        assert "done" in {t.status for t in s.scalars(select(Task).where(Task.workspace_id == bot.team_id))}, "clicked"
    leaks = leaks_in_everything_sent(bot)
    assert not leaks, "would ping:\n" + "\n".join(leaks)


HOSTILE = "<!channel> <!here> <!everyone> <!subteam^S0ALL>"


def test_no_scheduled_post_carries_a_typed_special_mention(bot: Bot) -> None:
    """Report (charts and the table fallback), the automatic retro and reminder DMs, fed hostile names."""
    ctx = make_ctx(bot.db, bot.slack, bot.clock)
    at(bot.clock, "2026-11-10T08:00:00+08:00")
    today = date(2026, 11, 10)
    with bot.db.session() as s:
        kpis.define_metric(s, workspace_id=bot.team_id, spec=kpis.MetricSpec(f"{HOSTILE} rate", numerator="orders",
                                                                                  denominator="visits"), user_id=None)
        for back in range(1, 15):
            for channel in (f"{HOSTILE} 天猫", "JD"):
                for name, value in (("visits", 1000 + back), ("orders", 30), ("gmv", 3600)):
                    kpis.log_value(s, workspace_id=bot.team_id, metric_name=name, value=Decimal(value), percent=False,
                                   channel=channel, day=today - timedelta(days=back), user_id=ANA)
        goals.create_goal(s, workspace_id=bot.team_id, user_id=ANA, data=goals.GoalCreate(
            title=f"{HOSTILE} goal", metric="gmv", target=Decimal(500000), target_percent=False,
            start_on=today - timedelta(days=14), due_on=today + timedelta(days=30)))
        goals.create_goal(s, workspace_id=bot.team_id, user_id=ANA, data=goals.GoalCreate(
            title=f"{HOSTILE} empty goal", metric="signups", target=Decimal(10), target_percent=False,
            start_on=today, due_on=today + timedelta(days=30)))
        campaigns.create_campaign(s, workspace_id=bot.team_id, user_id=ANA, data=campaigns.CampaignCreate(
            f"{HOSTILE} 双十一", date(2026, 11, 1), date(2026, 11, 11), budget=None))
        tasks.create_task(s, workspace_id=bot.team_id, user_id=ANA, data=tasks.TaskCreate(
            f"{HOSTILE} banner", owner_id=ANA, due_on=date(2026, 11, 17)))
        tasks.create_task(s, workspace_id=bot.team_id, user_id=ANA, data=tasks.TaskCreate(
            f"{HOSTILE} late copy", owner_id=ANA, due_on=date(2026, 11, 5)))
    add_schedule(ctx, bot.team_id, channel=MARKETING, kind="report", days=list(range(7)))
    add_schedule(ctx, bot.team_id, channel=MARKETING, kind="digest")
    from jobs.tick import tick

    tick(ctx, at(bot.clock, "2026-11-12T10:00:00+08:00"))  # the campaign ended: its automatic retro
    tick(ctx, at(bot.clock, "2026-11-12T10:01:00+08:00"))
    tick(ctx, at(bot.clock, "2026-11-16T09:00:30+08:00"))  # report with charts, digest, reminders
    bot.slack.add_response("files.getUploadURLExternal", status=200, body={"ok": False, "error": "internal_error"},
                           times=50)
    tick(ctx, at(bot.clock, "2026-11-17T09:00:30+08:00"))  # report with the text-table fallback
    sent = [m for m in bot.slack.messages if m.is_bot]
    assert [f for f in bot.slack.files.values() if f.channel], "the report's charts were shared"
    assert any("```" in m.text for m in sent), "a chart fell back to its numbers table"
    assert any("双十一" in m.all_text() and m.thread_ts is None for m in sent if "R-" in m.all_text()), "automatic retro"
    assert [m for m in sent if m.channel == bot.slack.im_channel(ANA)], "reminder DMs"
    leaks = leaks_in_everything_sent(bot)
    assert not leaks, "would ping:\n" + "\n".join(leaks)


def test_a_goal_announcement_escapes_its_metric_names(bot: Bot) -> None:
    for line in ('/goal add "Q4" metric:"<!here>gmv" target:5 by:2026-12-31',
                 "/kpi define rate = <!channel>a / <!everyone>b",
                 '/goal add "Rate" metric:rate target:5% by:2026-12-31'):
        assert bot.say(ANA, line).status == 200, line
    time.sleep(0.5)
    leaks = leaks_in_everything_sent(bot)
    assert not leaks, "would ping:\n" + "\n".join(leaks)
