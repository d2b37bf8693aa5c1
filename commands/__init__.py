"""Slash commands: one module per command, each a pure parser plus a handler; `register(app)` wires them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.render.reply import Reply
from bot.render.views import bot_help
from bot.runtime import Runtime
from commands import campaign, feedback, goal, kpi, mkt, task
from commands.base import CommandContext, Handler, run_handler

log = logging.getLogger(__name__)

HELP: dict[str, Callable[[], Reply]] = {"/mkt": bot_help}

COMMANDS: dict[str, tuple[Handler, str]] = {
    "/task": (task.handle, task.USAGE),
    "/goal": (goal.handle, goal.USAGE),
    "/kpi": (kpi.handle, kpi.USAGE),
    "/campaign": (campaign.handle, campaign.USAGE),
    "/feedback": (feedback.handle, feedback.USAGE),
    "/mkt": (mkt.handle, mkt.USAGE),
}


def command_context(runtime: Runtime, body: dict[str, Any], client: WebClient | None) -> CommandContext:
    return CommandContext(
        db=runtime.db,
        workspace_id=body.get("team_id") or "",
        user_id=body.get("user_id") or "",
        channel_id=body.get("channel_id") or "",
        now=runtime.clock(),
        zone=runtime.zone,
        client=client,
        directory=runtime.directory,
    )


def make_listener(handler: Handler, usage: str, help_reply: Callable[[], Reply] | None = None) -> Callable[..., None]:
    def listener(ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        runtime: Runtime = context["runtime"]
        ctx = command_context(runtime, command, client)
        reply = run_handler(handler, command.get("text") or "", ctx, usage, help_reply)
        ack(**reply.ack_kwargs())

    return listener


def register(app: App) -> None:
    for name, (handler, usage) in COMMANDS.items():
        app.command(name)(make_listener(handler, usage, HELP.get(name)))
