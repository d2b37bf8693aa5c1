"""Message shortcuts: a task or a piece of customer feedback from any message, in a prefilled form that
remembers where the message is (its permalink)."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.ids import CallbackId
from bot.render import modals
from bot.runtime import Runtime
from bot.slack_text import as_read, truncate
from commands import feedback, task
from commands.base import (
    JSON,
    M_CHANNEL,
    M_LOCALE,
    M_ORIGIN,
    M_PERMALINK,
    M_URL,
    ORIGIN_SHORTCUT,
    load_choices,
    on_shortcut,
    team_of,
    user_locale,
    user_of,
)
from commands.followups import FollowUp, OpenModal

log = logging.getLogger(__name__)

TITLE_PREFILL = 200


def first_line(text: str, limit: int = TITLE_PREFILL) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return truncate(" ".join(line.split()), limit)


def open_shortcut(runtime: Runtime, body: JSON, client: WebClient) -> list[FollowUp]:
    team, user = team_of(body), user_of(body)
    locale = user_locale(runtime, client, team, user)
    channel = str((body.get("channel") or {}).get("id") or "")
    message = body.get("message") or {}
    ts = str(message.get("ts") or body.get("message_ts") or "")
    permalink = None
    if channel and ts:
        try:
            permalink = client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
        except SlackApiError as exc:
            log.warning("chat.getPermalink failed: %s", exc.response.get("error"))
    text = as_read(str(message.get("text") or ""))
    metadata = {M_CHANNEL: channel, M_ORIGIN: ORIGIN_SHORTCUT, M_PERMALINK: permalink, M_URL: body.get("response_url"),
                M_LOCALE: locale}
    choices = load_choices(runtime, team)
    if body.get("callback_id") == CallbackId.TASK_FROM_MESSAGE:
        view = task.form_modal(locale=locale, choices=choices, metadata=metadata,
                               prefill=modals.TaskPrefill(title=first_line(text), source_text=text))
    else:
        view = feedback.form_modal(locale=locale, choices=choices, metadata=metadata,
                                   prefill=modals.FeedbackPrefill(text=truncate(text, modals.INPUT_MAX), source="customer"))
    return [OpenModal(view, str(body.get("trigger_id") or ""), team, locale, tell_failure=bool(body.get("response_url")))]


def register(app: App, runtime: Runtime) -> None:
    for callback_id in (CallbackId.TASK_FROM_MESSAGE, CallbackId.FEEDBACK_FROM_MESSAGE):
        on_shortcut(app, runtime, callback_id, lambda body, client: open_shortcut(runtime, body, client))
