"""Slash commands: one module per command, each a pure parser plus a handler; `register(app)` wires them.

Every command answers in the user's language when it is cached (bot.locale), else in the workspace's,
and a lazy listener warms the cache for next time. `/task`, `/goal`, `/campaign` and `/feedback` typed
with nothing after them open a modal instead (commands.interactive).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.locale import Locales, locale_in
from bot.render.reply import Reply
from bot.render.views import bot_help
from bot.runtime import Runtime
from commands import campaign, feedback, goal, interactive, kpi, mkt, retro, task
from commands.base import CommandContext, Handler, run_handler, split_verb

log = logging.getLogger(__name__)

HELP: dict[str, Callable[..., Reply]] = {"/mkt": bot_help}  # each takes `locale=`

#: commands that open a modal when typed with no text
MODAL_COMMANDS = ("/task", "/goal", "/campaign", "/feedback")

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


def make_listener(
    handler: Handler, usage: str, help_reply: Callable[..., Reply] | None = None, *, locales: Locales | None = None,
    modal: bool = False,
) -> Callable[..., None]:
    def listener(ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        if modal and not (command.get("text") or "").strip():
            ack()  # the lazy half opens the modal with this command's trigger_id
            return
        runtime: Runtime = context["runtime"]
        ctx = command_context(runtime, command, client)
        if locales is not None:  # cache only: a users.info call never delays the ack
            ctx.extra["locale"] = locales.for_user(runtime.db, ctx.workspace_id, ctx.user_id)
        localized_help = functools.partial(help_reply, locale=locale_in(ctx.extra)) if help_reply else None
        reply = run_handler(handler, command.get("text") or "", ctx, usage, localized_help)
        if ctx.extra.get("home_users"):
            context["home_users"] = list(ctx.extra["home_users"])  # read by the lazy half
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
    locales = Locales()
    app.locales = locales  # type: ignore[attr-defined]
    handlers = interactive.register(app, locales=locales)

    def warm_locale(body: dict[str, Any], client: WebClient) -> None:
        """Lazy: look up the user's Slack locale (users.info) so the next reply is in their language."""
        locales.warm(client, body.get("team_id") or "", body.get("user_id") or "")

    def refresh_homes(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """Lazy: a command changed someone's tasks; their Home tab shows it."""
        users = context.get("home_users") or []
        if users:
            handlers.refresh_homes(client, body.get("team_id") or "", list(users))

    for name, (handler, usage) in COMMANDS.items():
        modal = name in MODAL_COMMANDS
        listener = make_listener(handler, usage, HELP.get(name), locales=locales, modal=modal)
        lazy: list[Callable[..., None]] = [warm_locale]
        if name == "/mkt":
            lazy.append(post_digest_now)
        elif name == "/kpi":
            lazy.append(kpi.post_chart)
        elif name == "/retro":
            lazy.append(retro.deliver_after_ack)
        if modal:
            lazy += [handlers.open_command_modal, refresh_homes]
        app.command(name)(ack=listener, lazy=lazy)
    retro.register(app)
