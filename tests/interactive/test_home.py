"""The App Home tab: published on app_home_opened, one person's open tasks (overdue first), the goals they own
with pace, live campaigns, Add task / Add goal; refreshed after a change that concerns them; within 100 blocks.
"""

from __future__ import annotations

from datetime import date, timedelta

from slack_sdk.models.views import View

from bot.ids import ActionId, BlockId, CallbackId, record_block
from bot.services import campaigns as campaign_service
from bot.services import goals as goal_service
from bot.services import tasks as task_service
from tests.interactive.conftest import ANA, BO, TODAY, Bot, block, fill, texts, wait_until


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

    before = len(bot.slack.get_calls("views.publish"))
    bot.slack.open_app_home(ANA, tab="messages")
    assert len(bot.slack.get_calls("views.publish")) == before, "the Messages tab does not republish the Home"


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
    long = "超长标题 " * 400
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
