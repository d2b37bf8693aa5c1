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
from commands import campaign, feedback, goal, kpi, mkt, retro, task
from commands.base import CommandContext, Handler, run_handler, split_verb

log = logging.getLogger(__name__)

HELP: dict[str, Callable[[], Reply]] = {"/mkt": bot_help}

COMMANDS: dict[str, tuple[Handler, str]] = {
    "/task": (task.handle, task.USAGE),
    "/goal": (goal.handle, goal.USAGE),
    "/kpi": (kpi.handle, kpi.USAGE),
    "/campaign": (campaign.handle, campaign.USAGE),
    "/feedback": (feedback.handle, feedback.USAGE),
    "/retro": (retro.handle, retro.USAGE),
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


def post_digest_now(body: dict[str, Any], context: BoltContext) -> None:
    """Lazy half of `/mkt digest now`: compose and deliver through the outbox, off the ack path."""
    verb, rest = split_verb(body.get("text") or "")
    if verb != "digest" or rest.lower() not in ("now", "", "现在"):
        return
    runtime: Runtime = context["runtime"]
    from jobs.digest import enqueue_digest_now

    enqueue_digest_now(runtime.jobs, workspace_id=body.get("team_id") or "", channel=body.get("channel_id") or "",
                       key=f"digest-now:{body.get('channel_id')}:{body.get('trigger_id') or body.get('user_id')}")


def register(app: App) -> None:
    for name, (handler, usage) in COMMANDS.items():
        listener = make_listener(handler, usage, HELP.get(name))
        if name == "/mkt":
            app.command(name)(ack=listener, lazy=[post_digest_now])
        elif name == "/retro":
            app.command(name)(ack=listener, lazy=[retro.deliver_after_ack])
        else:
            app.command(name)(listener)
    retro.register(app)
