"""Signed but malformed modal submissions: a field error or a clean ack, never a 500 and never a write.

Slack's clients only send well-formed state, but anyone holding a view id can post a signed body the bot
must read defensively: a date that is not a date, an option that was never offered, a user that is not
a user id, a number field holding an object.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from bot.ids import ActionId, BlockId
from bot.localslack.blockkit import input_elements
from tests.interactive.test_buttons import task_status
from tests.support.harness import ANA, GENERAL, Bot, fill, wait_until

BAD_BY_TYPE: dict[str, list[Any]] = {
    "datepicker": [{"type": "datepicker", "selected_date": "tomorrow"},
                   {"type": "datepicker", "selected_date": "2026-99-01"},
                   {"type": "datepicker", "selected_date": 20261201}],
    "static_select": [{"type": "static_select", "selected_option": {"value": "../../etc"}},
                      {"type": "static_select", "selected_option": "G-1"}],
    "users_select": [{"type": "users_select", "selected_user": 42}],
    "plain_text_input": [{"type": "plain_text_input", "value": {"nested": True}},
                         {"type": "plain_text_input", "value": ["a", "b"]}],
}


def bad_submissions(view: dict[str, Any]) -> list[dict[str, dict[str, Any]]]:
    """For every field of the view and every bad value its type can carry: the form with that one field bad."""
    out = []
    for block_id, action_id, element in input_elements(view.get("blocks")):
        for bad in BAD_BY_TYPE.get(str(element.get("type")), []):
            out.append({block_id: {action_id: bad}})
    return out


@pytest.mark.parametrize("command", ["/task", "/goal", "/campaign", "/feedback"])
def test_a_malformed_submission_is_answered_cleanly_and_writes_nothing(bot: Bot, command: str) -> None:
    view = bot.open_modal(ANA, command)
    cases = bad_submissions(view)
    assert cases, f"{command}: the modal has fields to corrupt"
    before = bot.counts()
    for values in cases:
        result = bot.slack.submit_view(view["id"], user_id=ANA, values=values)
        assert result.status == 200, f"{command} {values}: HTTP {result.status} {result.body!r}"
        body = result.body or {}
        assert body.get("response_action") in (None, "errors"), body
        assert bot.counts() == before, f"{command} {values} wrote something"


BAD_ACTIONS = [
    {"block_id": "task_actions:T-abc", "value": "T-abc"},
    {"block_id": "task_actions:T-99999999999999999999", "value": "99999999999999999999"},
    {"block_id": "task_actions", "value": None},
    {"block_id": 7, "value": {"x": 1}},
    {"block_id": "goal_actions:G-1", "selected_option": "nope"},
]


@pytest.mark.parametrize("action_id", [a for a in ActionId if a is not ActionId.FIELD])  # fields never dispatch
def test_a_malformed_click_is_acked_and_writes_nothing(bot: Bot, action_id: ActionId) -> None:
    card = bot.reply_to(ANA, "/task add Banner due:fri")
    before, status = bot.counts(), task_status(bot)
    for bad in BAD_ACTIONS:
        payload = {
            "type": "block_actions", "user": {"id": ANA}, "channel": {"id": GENERAL},
            "container": {"type": "message", "message_ts": card.ts, "channel_id": GENERAL, "is_ephemeral": False},
            "message": {"ts": card.ts, "blocks": card.blocks, "text": card.text},
            "actions": [{"type": "button", "action_id": str(action_id), "action_ts": "1.2", **bad}],
        }
        result = bot.slack.send_interaction(payload)
        assert result.status == 200, f"{action_id} {bad}: HTTP {result.status} {result.body!r}"
        assert bot.counts() == before, f"{action_id} {bad} wrote something"
    assert task_status(bot) == status, "no click with a forged target changed the task"


def test_a_form_is_only_trusted_in_the_workspace_it_was_shown_in(bot: Bot) -> None:
    """A submission's private_metadata names the message to update: altered, or sent from another workspace,
    it is ignored (the form closes, nothing is written, no message changes)."""
    card = bot.reply_to(ANA, "/task add Banner due:fri")
    other = bot.reply_to(ANA, "/task add Someone else's card")
    bot.slack.click_button(card, ActionId.TASK_BLOCK, user_id=ANA)
    view = wait_until(lambda: bot.modals_opened(ANA), what="the block modal") and bot.opened_modal(ANA)
    sealed = view["private_metadata"]
    mac, _, meta = sealed.partition(":")
    forged_meta = json.loads(meta)
    forged_meta["ts"] = other.ts
    values = {BlockId.REASON: {ActionId.FIELD: {"type": "plain_text_input", "value": "forged"}}}
    state = {"values": values}
    for team, metadata in (("T0ELSEWHERE", sealed), (bot.slack.team_id, f"{mac}:{json.dumps(forged_meta)}"),
                           (bot.slack.team_id, json.dumps(forged_meta))):
        result = bot.slack.send_interaction({
            "type": "view_submission", "user": {"id": ANA}, "team": {"id": team},
            "view": {**view, "private_metadata": metadata, "state": state},
        })
        assert result.status == 200 and not result.body, result
    time.sleep(0.5)
    assert task_status(bot)[0] == "todo" and not other.history and not card.history, "nothing changed"
    assert bot.submit(view, ANA, fill(reason="real")).status == 200  # the form as shown still works
    assert task_status(bot)[:2] == ("blocked", "real")
