"""The App Home tab: published on app_home_opened, one person's open tasks (overdue first), the goals they own
with pace, live campaigns, Add task / Add goal; refreshed after a change that concerns them; within 100 blocks.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

from slack_sdk.models.views import View

from bot.ids import ActionId, BlockId, CallbackId, record_block
from bot.services import campaigns as campaign_service
from bot.services import goals as goal_service
from bot.services import tasks as task_service
from tests.support.harness import ANA, BO, TODAY, Bot, block, fill, wait_until
from tests.support.text import texts


def menu(action_id: str, ref: str) -> dict[str, object]:
    """The option picked in a task's overflow menu, as Slack sends it (selected_option)."""
    return {"selected_option": {"text": {"type": "plain_text", "text": action_id}, "value": f"{action_id}|{ref}"}}


def test_app_home_opened_publishes_this_users_home(bot: Bot) -> None:
    bot.reply_to(ANA, "/task add Later @ana due:2026-12-10")
    bot.reply_to(ANA, "/task add Late @ana due:2026-11-20")
    bot.reply_to(ANA, "/task add Undated @ana")
    bot.reply_to(ANA, "/task add Not mine @bo due:2026-11-21")
    bot.reply_to(ANA, '/goal add "Q4 GMV" metric:gmv target:¥2.5m by:2026-12-31 owner:<@U0ANA|ana>')
    bot.reply_to(ANA, '/goal add "Bo\'s goal" metric:gmv target:1m by:2026-12-31 owner:<@U0BO|bo>')
    bot.reply_to(ANA, '/campaign add "双十一 预售" start:11-01 end:11-30')
    bot.reply_to(ANA, '/campaign add "年货节" start:2027-01-10 end:2027-01-25')

    result = bot.slack.open_app_home(ANA)
    assert result.status == 200 and not result.late
    home = bot.home(ANA, containing="双十一 预售")
    assert home["type"] == "home"
    View(**{k: v for k, v in home.items() if k in ("type", "blocks")}).validate_json()
    shown = "\n".join(texts(home["blocks"]))
    tasks = [b["block_id"] for b in home["blocks"] if b.get("block_id", "").startswith(BlockId.HOME_TASK)]
    assert tasks == [record_block(BlockId.HOME_TASK, r) for r in ("T-2", "T-1", "T-3")], "overdue first, undated last"
    assert "Not mine" not in shown and "Bo's goal" not in shown
    assert "双十一 预售" in shown and "年货节" not in shown, "only live campaigns"
    assert "1 overdue" in shown
    actions = block(home, BlockId.HOME_ACTIONS)
    assert actions and [e["action_id"] for e in actions["elements"]] == [ActionId.HOME_ADD_TASK, ActionId.HOME_ADD_GOAL]
    goal = block(home, record_block(BlockId.HOME_GOAL, "G-1"))
    assert goal and goal["accessory"]["action_id"] == ActionId.GOAL_CHECKIN

    bot.slack.open_app_home(BO)
    bo_home = bot.home(BO, containing="Not mine")
    assert "Q4 GMV" not in "\n".join(texts(bo_home["blocks"]))

    before = settled_publish_count(bot)  # Home refreshes after the commands above may still be landing
    bot.slack.open_app_home(ANA, tab="messages")
    assert len(bot.slack.get_calls("views.publish")) == before, "the Messages tab does not republish the Home"


def settled_publish_count(bot: Bot, quiet: float = 0.5, timeout: float = 10.0) -> int:
    """The number of views.publish calls once none has arrived for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    count, since = len(bot.slack.get_calls("views.publish")), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = len(bot.slack.get_calls("views.publish"))
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return count


def test_home_is_refreshed_when_a_task_is_assigned_to_you(bot: Bot) -> None:
    bot.slack.open_app_home(BO)
    bot.home(BO, containing="Nothing open")
    bot.reply_to(ANA, "/task add Banner for 双十一 @bo due:fri")
    bot.home(BO, containing="Banner for 双十一")
    bot.reply_to(ANA, "/task add Copy")
    bot.reply_to(ANA, "/task assign T-2 @bo")
    bot.home(BO, containing="Copy")


def test_home_menu_done_and_add_task(bot: Bot) -> None:
    bot.reply_to(ANA, "/task add Banner @ana due:2026-11-24")
    bot.slack.open_app_home(ANA)
    home = bot.home(ANA, containing="Banner")
    bot.click(home["id"], ActionId.TASK_MENU, ANA, value=menu(ActionId.TASK_DONE, "T-1"))
    home = bot.home(ANA, containing="marked done")
    assert bot.rows("SELECT status FROM tasks WHERE workspace_id = :team") == [("done",)]
    assert block(home, record_block(BlockId.HOME_TASK, "T-1")) is None

    bot.click(home["id"], ActionId.HOME_ADD_TASK, ANA)
    view = bot.opened_modal(ANA)
    assert view["callback_id"] == CallbackId.TASK_MODAL
    owner = block(view, BlockId.OWNER)
    assert owner and owner["element"].get("initial_user") == ANA, "from Home, the task is yours unless you pick someone"
    bot.submit(view, ANA, fill(title="From the Home tab", owner=ANA, due="2026-11-26"))
    home = bot.home(ANA, containing="From the Home tab")
    assert "Task *T-2* added" in "\n".join(texts(home["blocks"]))

    bot.click(home["id"], ActionId.HOME_ADD_GOAL, ANA)
    view = bot.opened_modal(ANA, count=2)
    assert view["callback_id"] == CallbackId.GOAL_MODAL
    bot.submit(view, ANA, fill(title="Q4 visits", new_metric="visits", target="1m", due="2026-12-31", owner=ANA))
    bot.home(ANA, containing="Q4 visits")


def test_home_block_and_checkin_from_home(bot: Bot) -> None:
    bot.reply_to(ANA, "/task add Banner @ana")
    bot.reply_to(ANA, '/goal add "Q4 GMV" metric:gmv target:¥2.5m by:2026-12-31 owner:<@U0ANA|ana>')
    bot.slack.open_app_home(ANA)
    home = bot.home(ANA, containing="Q4 GMV")
    bot.click(home["id"], ActionId.TASK_MENU, ANA, value=menu(ActionId.TASK_BLOCK, "T-1"))
    view = bot.opened_modal(ANA)
    bot.submit(view, ANA, fill(reason="waiting for copy"))
    bot.home(ANA, containing="waiting for copy")

    home = bot.home(ANA, containing="Q4 GMV")
    bot.click(home["id"], ActionId.GOAL_CHECKIN, ANA)
    view = bot.opened_modal(ANA, count=2)
    bot.submit(view, ANA, fill(value="¥500k"))
    bot.home(ANA, containing="Check-in recorded")
    assert bot.count("goal_checkins") == 1


def test_home_with_large_data_stays_within_100_blocks(bot: Bot) -> None:
    long = "超长标题 " * 95  # near the 500-character limit on titles
    with bot.db.session() as session:
        for i in range(230):
            task_service.create_task(session, workspace_id=bot.team_id, user_id=ANA, data=task_service.TaskCreate(
                title=f"{long} {i}", owner_id=ANA, due_on=TODAY + timedelta(days=i - 100)))
        for i in range(40):
            goal_service.create_goal(session, workspace_id=bot.team_id, user_id=ANA, data=goal_service.GoalCreate(
                title=f"{long} goal {i}", metric="gmv", target=goal_service.Decimal(1000), target_percent=False,
                due_on=date(2026, 12, 31), start_on=date(2026, 10, 1), owner_id=ANA))
        for i in range(30):
            campaign_service.create_campaign(session, workspace_id=bot.team_id, user_id=ANA, data=campaign_service.CampaignCreate(
                name=f"{long} campaign {i}", start_on=date(2026, 11, 1), end_on=date(2026, 11, 30)))
    bot.slack.open_app_home(ANA)
    home = bot.home(ANA, containing="and 190 more")
    assert len(home["blocks"]) <= 100
    shown = "\n".join(texts(home["blocks"]))
    assert "and 20 more — `/goal list`" in shown and "and 15 more — `/campaign list`" in shown
    for b in home["blocks"]:
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= 3000
    wait_until(lambda: bot.slack.get_calls("views.publish"), what="a publish")


def chart_block(home: dict[str, object]) -> dict[str, object] | None:
    return block(home, BlockId.HOME_CHART)


def test_home_shows_the_latest_kpi_chart_uploaded_by_kpi_show(bot: Bot) -> None:
    bot.slack.open_app_home(ANA)
    home = bot.home(ANA, containing="Nothing open")
    assert chart_block(home) is None, "no chart uploaded yet"

    bot.reply_to(ANA, "/kpi log visits 1000 orders 30 channel:天猫 date:yesterday")
    bot.reply_to(ANA, "/kpi show visits by:channel")
    [upload] = wait_until(lambda: [f for f in bot.slack.files.values() if f.completed], what="the chart upload")

    bot.slack.open_app_home(ANA)
    home = wait_until(lambda: (h := bot.slack.home_view(ANA)) and chart_block(h) and h, what="the chart on the Home")
    image = chart_block(home)
    assert image == {
        "type": "image", "block_id": BlockId.HOME_CHART, "slack_file": {"id": upload.id},
        "alt_text": upload.title, "title": {"type": "plain_text", "text": upload.title},
    }
    View(**{k: v for k, v in home.items() if k in ("type", "blocks")}).validate_json()


def test_a_kpi_show_chart_whose_answer_is_lost_is_posted_once_and_still_on_the_home(bot: Bot) -> None:
    bot.reply_to(ANA, "/kpi log visits 1000 orders 30 channel:天猫 date:yesterday")
    bot.slack.drop_answer("files.completeUploadExternal")  # Slack shares it; the bot never hears so
    bot.reply_to(ANA, "/kpi show visits by:channel")
    [upload] = wait_until(lambda: [f for f in bot.slack.files.values() if f.completed], what="the chart upload")
    wait_until(lambda: bot.slack.get_calls("files.info"), what="the check of the lost share")

    bot.slack.open_app_home(ANA)
    home = wait_until(lambda: (h := bot.slack.home_view(ANA)) and chart_block(h) and h, what="the chart on the Home")
    assert chart_block(home)["slack_file"] == {"id": upload.id}  # type: ignore[index]
    time.sleep(0.3)
    assert len(upload.shares) == 1, "shared once, not again by DM"
    assert len([f for f in bot.slack.files.values() if f.completed]) == 1
    assert not [m for m in bot.slack.messages if "```" in m.text], "no table beside the chart"


def test_home_finds_the_last_reports_chart_in_the_outbox_after_a_restart(bot: Bot) -> None:
    import json
    from datetime import UTC, datetime

    from bot.services import chart_files
    from storage.models import Outbox, Workspace

    sent = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    with bot.db.session() as session:
        if session.get(Workspace, bot.team_id) is None:
            session.add(Workspace(id=bot.team_id))
            session.flush()
        for n, (file_id, title) in enumerate([("F0OLD", "Old report chart"), ("F0REPORT", "GMV by channel")]):
            session.add(Outbox(
                workspace_id=bot.team_id, dedupe_key=f"report:{bot.team_id}:{n}", kind="report", slack_channel_id="C0GENERAL",
                text="KPI report", status="sent", sent_at=sent + timedelta(days=n), created_at=sent + timedelta(days=n),
                payload=json.dumps({"charts": [{"name": "x"}], chart_files.PAYLOAD_KEY: [
                    {"id": file_id, "title": title, "uploaded_at": (sent + timedelta(days=n)).isoformat()}]}),
            ))
    assert chart_files.LATEST.get(bot.team_id) is None, "nothing in this process's memory: as after a restart"
    bot.slack.open_app_home(ANA)
    home = wait_until(lambda: (h := bot.slack.home_view(ANA)) and chart_block(h) and h, what="the chart on the Home")
    image = chart_block(home)
    assert image and image["slack_file"] == {"id": "F0REPORT"} and image["alt_text"] == "GMV by channel"

    # a newer upload in this process (e.g. /kpi show) wins over the stored report
    chart_files.remember(bot.team_id, "F0NEWER", "Visits", sent + timedelta(days=5))
    bot.slack.open_app_home(ANA)
    wait_until(lambda: (chart_block(bot.slack.home_view(ANA) or {}) or {}).get("slack_file") == {"id": "F0NEWER"},
               what="the newer chart")
