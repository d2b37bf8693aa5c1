"""Message shortcuts: "Create task from message" and "Log as customer feedback" open a prefilled modal, and the
record keeps a permalink to the message."""

from __future__ import annotations

import json
from typing import Any

from bot.ids import BlockId, CallbackId
from bot.localslack import Message
from tests.support.harness import ANA, BO, GENERAL, Bot, block, fill


def shortcut(bot: Bot, callback_id: str, message: Message, *, user: str) -> None:
    """The message_action payload Slack sends when `user` picks a message shortcut on `message`."""
    payload: dict[str, Any] = {
        "type": "message_action",
        "callback_id": callback_id,
        "user": {"id": user},
        "channel": {"id": message.channel, "name": "general"},
        "message": {"type": "message", "user": message.user, "ts": message.ts, "text": message.text},
        "message_ts": message.ts,
        "action_ts": "1700000000.000001",
    }
    result = bot.slack.send_interaction(payload)
    assert result.status == 200 and not result.late, result


def test_create_task_from_message(bot: Bot) -> None:
    message = bot.slack.post_user_message(
        GENERAL, BO, "The 双十一 banner still says 50% & we changed it to 40%\nCan someone fix it today?", deliver=False)
    shortcut(bot, CallbackId.TASK_FROM_MESSAGE, message, user=ANA)
    view = bot.opened_modal(ANA)
    assert view["callback_id"] == CallbackId.TASK_MODAL
    title = block(view, BlockId.TITLE)
    assert title and title["element"]["initial_value"] == "The 双十一 banner still says 50% & we changed it to 40%"
    quoted = block(view, BlockId.SOURCE_MESSAGE)
    assert quoted and "Can someone fix it today?" in quoted["elements"][0]["text"]
    permalink = bot.slack.get_calls("chat.getPermalink")
    assert permalink and permalink[0]["message_ts"] == message.ts

    bot.submit(view, ANA, fill(title="Fix the 双十一 banner discount", owner=BO, due="2026-11-23"))
    rows = bot.rows("SELECT title, owner_id, source_permalink, slack_channel_id FROM tasks WHERE workspace_id = :team")
    assert rows == [("Fix the 双十一 banner discount", BO, f"{bot.slack.base_url}/archives/{GENERAL}/p{message.ts.replace('.', '')}",
                     GENERAL)]
    shown = bot.ephemeral_to(ANA, containing="T-1")
    assert rows[0][2] in shown.all_text() or any(rows[0][2] in json.dumps(b) for b in shown.blocks or [])


def test_log_as_customer_feedback(bot: Bot) -> None:
    message = bot.slack.post_user_message(GENERAL, BO, "A customer wrote: 优惠券规则太复杂 <@U0ANA|ana>", deliver=False)
    shortcut(bot, CallbackId.FEEDBACK_FROM_MESSAGE, message, user=ANA)
    view = bot.opened_modal(ANA)
    assert view["callback_id"] == CallbackId.FEEDBACK_MODAL
    text = block(view, BlockId.TEXT)
    assert text and text["element"]["initial_value"] == "A customer wrote: 优惠券规则太复杂 @ana"
    source = block(view, BlockId.SOURCE)
    assert source and source["element"]["initial_option"]["value"] == "customer"
    bot.submit(view, ANA, fill(text="优惠券规则太复杂", source="customer", tags="#checkout"))
    rows = bot.rows("SELECT text, source, permalink, user_id FROM feedback WHERE workspace_id = :team")
    assert rows == [("优惠券规则太复杂", "customer", f"{bot.slack.base_url}/archives/{GENERAL}/p{message.ts.replace('.', '')}", ANA)]
    shown = bot.ephemeral_to(ANA, containing="F-1")
    assert "customer" in shown.all_text()


def test_shortcut_in_a_channel_the_bot_is_not_in_confirms_by_dm(bot: Bot) -> None:
    bot.slack.add_channel("C0PRIVATE", "private-chat", members=[ANA, BO], bot_member=False)
    message = bot.slack.post_user_message("C0PRIVATE", BO, "Ship the email on Friday", deliver=False)
    bot.slack.add_response("chat.postEphemeral", body={"ok": False, "error": "channel_not_found"})
    shortcut(bot, CallbackId.TASK_FROM_MESSAGE, message, user=ANA)
    view = bot.opened_modal(ANA)
    bot.submit(view, ANA, fill(title="Ship the email"))
    dm = bot.slack.wait_for_message(bot.slack.im_channel(ANA), where=lambda m: "T-1" in m.all_text())
    assert dm.is_bot
    assert bot.rows("SELECT title FROM tasks WHERE workspace_id = :team") == [("Ship the email",)]
