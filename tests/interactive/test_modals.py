"""`/task`, `/goal`, `/campaign`, `/feedback` with no text: a modal, filled in as a person would, over signed HTTP.

A good submission records exactly what the command would and confirms privately in the channel; a bad
one comes back as field errors (`response_action: errors`) and writes nothing.
"""

from __future__ import annotations

import json

from bot.ids import BlockId, CallbackId
from tests.support.harness import ANA, BO, GENERAL, MARKETING, Bot, block, fill
from tests.support.text import texts


def test_task_modal_records_the_task_and_confirms_privately(bot: Bot) -> None:
    bot.reply_to(ANA, '/campaign add "双十一 预售" start:11-01 end:11-30')
    bot.reply_to(ANA, '/goal add "Q4 GMV" metric:gmv target:¥2.5m by:eoq')

    view = bot.open_modal(ANA, "/task", channel=MARKETING)
    assert view["callback_id"] == CallbackId.TASK_MODAL
    assert view["title"]["text"] == "New task"
    owner, due, campaign = block(view, BlockId.OWNER), block(view, BlockId.DUE), block(view, BlockId.CAMPAIGN)
    assert owner and owner["element"]["type"] == "users_select"
    assert due and due["element"]["type"] == "datepicker"
    assert campaign and [o["value"] for o in campaign["element"]["options"]] == ["C-1"]

    before = bot.counts()
    result = bot.submit(view, ANA, fill(title="Banner for 双十一 <!channel>", owner=BO, start="2026-11-24", due="2026-11-27",
                                         campaign="C-1", goal="G-1"))
    assert result.body in ("", None, {}), result.body  # closes the modal

    rows = bot.rows("SELECT number, title, owner_id, start_on, due_on, status, slack_channel_id, created_by, "
                    "(SELECT number FROM campaigns c WHERE c.id = campaign_id), (SELECT number FROM goals g WHERE g.id = goal_id) "
                    "FROM tasks WHERE workspace_id = :team")
    assert rows == [(1, "Banner for 双十一 <!channel>", BO, "2026-11-24", "2026-11-27", "todo", MARKETING, ANA, 1, 1)]
    assert bot.counts() == {**before, "tasks": 1}

    shown = bot.ephemeral_to(ANA, containing="T-1")
    assert shown.channel == MARKETING and shown.source == "chat.postEphemeral"
    assert "Banner for 双十一 &lt;!channel&gt;" in shown.all_text(), "user text is escaped, never a ping"
    assert f"<@{BO}>" in shown.all_text()


def test_task_modal_field_errors_write_nothing(bot: Bot) -> None:
    view = bot.open_modal(ANA, "/task")
    before = bot.counts()
    result = bot.submit(view, ANA, fill(title="   ", start="2026-11-27", due="2026-11-24"))
    assert result.body["response_action"] == "errors"
    errors = result.body["errors"]
    assert set(errors) == {BlockId.TITLE, BlockId.DUE}
    assert "before the start" in errors[BlockId.DUE]
    assert bot.counts() == before
    assert bot.slack.open_views(ANA), "the modal stays open so the person can fix it"

    # fixed: the same modal now goes through
    result = bot.submit(view, ANA, fill(title="Fixed", start="2026-11-24", due="2026-11-27"))
    assert not result.body
    assert bot.rows("SELECT title FROM tasks WHERE workspace_id = :team") == [("Fixed",)]


def test_goal_modal_same_record_as_the_command(bot: Bot) -> None:
    bot.reply_to(ANA, "/kpi define conversion = orders / visits")
    bot.reply_to(ANA, '/goal add "Parent" metric:gmv target:10m by:2026-12-31')

    bot.reply_to(ANA, '/goal add "By command" metric:gmv target:¥2.5m by:2026-12-31 baseline:1m owner:<@U0BO|bo> parent:G-1 channel:天猫')
    view = bot.open_modal(ANA, "/goal")
    metric = block(view, BlockId.METRIC)
    assert metric and {"conversion", "gmv"} <= {o["value"] for o in metric["element"]["options"]}
    bot.submit(view, ANA, fill(title="By modal", metric="gmv", target="¥2.5m", due="2026-12-31", baseline="1m", owner=BO,
                               parent="G-1", channel="天猫"))
    rows = bot.rows("SELECT title, metric_id, target, baseline, start_on, due_on, owner_id, parent_id, channel, status, "
                    "slack_channel_id, created_by FROM goals WHERE workspace_id = :team AND number > 1 ORDER BY number")
    assert len(rows) == 2
    by_command, by_modal = rows
    assert by_command[0] == "By command" and by_modal[0] == "By modal"
    assert by_command[1:] == by_modal[1:], "the modal records exactly what the command would"
    bot.ephemeral_to(ANA, containing="G-3")


def test_goal_modal_new_metric_and_errors(bot: Bot) -> None:
    view = bot.open_modal(ANA, "/goal")
    assert block(view, BlockId.METRIC) is None, "no metrics yet: only the new-metric field"
    before = bot.counts()
    result = bot.submit(view, ANA, fill(title="Q4", new_metric="", target="lots", due="2026-01-05"))
    errors = result.body["errors"]
    assert set(errors) == {BlockId.NEW_METRIC, BlockId.TARGET, BlockId.DUE}, errors
    assert "lots" in errors[BlockId.TARGET]
    assert "past" in errors[BlockId.DUE]
    assert bot.counts() == before
    result = bot.submit(view, ANA, fill(title="Q4 转化率", new_metric="转化率", target="4%", due="2026-12-31"))
    assert not result.body
    assert bot.rows("SELECT m.name, m.unit, m.agg FROM goals g JOIN metrics m ON m.id = g.metric_id "
                    "WHERE g.workspace_id = :team") == [("转化率", "%", "avg")], "a rate is averaged, as `/kpi log` makes it"


def test_campaign_modal(bot: Bot) -> None:
    bot.reply_to(ANA, '/goal add "Q4 GMV" metric:gmv target:¥2.5m by:eoq')
    view = bot.open_modal(ANA, "/campaign")
    before = bot.counts()
    result = bot.submit(view, ANA, fill(name="双十一", start="2026-11-11", end="2026-11-01", budget="15%"))
    errors = result.body["errors"]
    assert set(errors) == {BlockId.END, BlockId.BUDGET}
    assert bot.counts() == before
    result = bot.submit(view, ANA, fill(name="双十一 预售", start="2026-11-01", end="2026-11-11", budget="¥200k",
                                        channels="天猫，JD", goal="G-1", audience="new members", theme="pre-sale"))
    assert not result.body
    rows = bot.rows("SELECT name, start_on, end_on, channels, budget, currency, audience, theme, slack_channel_id, created_by "
                    "FROM campaigns WHERE workspace_id = :team")
    assert rows[0][:3] == ("双十一 预售", "2026-11-01", "2026-11-11")
    assert json.loads(rows[0][3]) == ["天猫", "JD"]
    assert rows[0][5:] == ("¥", "new members", "pre-sale", GENERAL, ANA)
    assert bot.rows("SELECT count(*) FROM campaign_goals cg JOIN campaigns c ON c.id = cg.campaign_id "
                    "WHERE c.workspace_id = :team") == [(1,)]
    shown = bot.ephemeral_to(ANA, containing="C-1")
    assert "¥200,000" in shown.all_text()


def test_feedback_modal(bot: Bot) -> None:
    view = bot.open_modal(BO, "/feedback")
    source = block(view, BlockId.SOURCE)
    assert source and source["element"]["type"] == "radio_buttons"
    before = bot.counts()
    result = bot.submit(view, BO, fill(text="   "))
    assert set(result.body["errors"]) == {BlockId.TEXT}
    assert bot.counts() == before
    bot.submit(view, BO, fill(text="Coupon rules were confusing on mobile", source="customer", tags="#checkout #移动端"))
    rows = bot.rows("SELECT text, source, tags, user_id, permalink FROM feedback WHERE workspace_id = :team")
    assert rows[0][0:2] == ("Coupon rules were confusing on mobile", "customer")
    assert sorted(json.loads(rows[0][2])) == sorted(["checkout", "移动端"])
    assert rows[0][3:] == (BO, None)
    bot.ephemeral_to(BO, containing="F-1")


def test_a_command_with_text_still_works_and_help_is_not_a_modal(bot: Bot) -> None:
    shown = bot.reply_to(ANA, "/task add Banner due:fri")
    assert "T-1" in shown.all_text()
    shown = bot.reply_to(ANA, "/task help")
    assert "/task add <title>" in shown.all_text()
    assert not bot.slack.get_calls("views.open")


def test_modal_options_come_from_this_workspace_only(bot: Bot) -> None:
    other = bot.slack.send_command("/campaign", "add Elsewhere start:11-01 end:11-30", user_id=ANA, channel_id=GENERAL,
                                   team_id="TOTHERTEAM")
    assert other.status == 200
    bot.reply_to(ANA, "/campaign add Ours start:11-01 end:11-30")
    view = bot.open_modal(ANA, "/task")
    campaign = block(view, BlockId.CAMPAIGN)
    assert campaign is not None
    labels = texts(campaign["element"]["options"])
    assert labels == ["C-1 Ours"]
