"""Slash commands: one module per command, each a pure parser plus a handler; `register(app)` wires them.

Every command answers in the user's language when it is cached (bot.locale), else in the workspace's,
and a lazy listener warms the cache for next time. `/task`, `/goal`, `/campaign` and `/feedback` typed
with nothing after them open a modal instead (commands.interactive).
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.i18n import t
from bot.locale import Locales, locale_in
from bot.render.reply import Reply
from bot.render.views import bot_help
from bot.runtime import Runtime
from commands import campaign, feedback, goal, interactive, kpi, mkt, retro, task
from commands.base import CommandContext, Handler, NameNotReady, run_handler, split_verb

log = logging.getLogger(__name__)

HELP: dict[str, Callable[..., Reply]] = {"/mkt": bot_help}  # each takes `locale=`

#: the longest command text taken; a longer one is refused whole, with a private reply
MAX_COMMAND_CHARS = 4_000

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


FollowUp = Callable[..., None]


def call_with(fn: FollowUp, available: dict[str, Any]) -> None:
    """Call a follow-up with the listener arguments it names (body, context, client, respond)."""
    params = inspect.signature(fn).parameters
    try:
        fn(**{name: available[name] for name in params if name in available})
    except Exception:
        log.exception("follow-up %s failed", getattr(fn, "__name__", fn))


def make_listener(
    handler: Handler, usage: str, help_reply: Callable[..., Reply] | None = None, *, locales: Locales | None = None,
    modal: bool = False, follow_ups: Callable[[str, dict[str, Any], BoltContext], list[FollowUp]] | None = None,
) -> Callable[..., None]:
    def listener(
        ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond | None
    ) -> None:
        runtime: Runtime = context["runtime"]
        text = command.get("text") or ""
        if modal and not text.strip():
            ack()  # a follow-up opens the modal with this command's trigger_id
        else:
            ctx = command_context(runtime, command, client)
            if locales is not None:  # cache only: a users.info call never delays the ack
                ctx.extra["locale"] = context["locale"] = locales.for_user(runtime.db, ctx.workspace_id, ctx.user_id)
            if len(text) > MAX_COMMAND_CHARS:
                # Nothing is parsed or written: a record this long is a paste gone wrong, not a title.
                ack(text=t("command.too_long", locale_in(ctx.extra), chars=f"{len(text):,}", limit=f"{MAX_COMMAND_CHARS:,}"),
                    response_type="ephemeral")
                return
            localized_help = functools.partial(help_reply, locale=locale_in(ctx.extra)) if help_reply else None
            try:
                reply = run_handler(handler, text, ctx, usage, localized_help)
            except NameNotReady as pending:
                # Nothing was written (names are resolved before any write): say so, and run the command
                # again after the ack, once the directory has loaded; the answer goes through response_url.
                ack(text=t("command.looking_up", locale_in(ctx.extra), name=pending.args[0]), response_type="ephemeral")
                runtime.background.submit(
                    finish_after_ack, handler, text, ctx, usage, localized_help, command, context, client, respond,
                    follow_ups,
                )
                return
            if ctx.extra.get("home_users"):
                context["home_users"] = list(ctx.extra["home_users"])
            ack(**reply.ack_kwargs())
        # Slow or outbound work runs after the ack on our own pool, and only when this command needs it
        # (Bolt's lazy listeners would copy the request and start a thread for each, every time).
        needed = follow_ups(text, command, context) if follow_ups else []
        available = {"body": command, "context": context, "client": client, "respond": respond}
        for fn in needed:
            runtime.background.submit(call_with, fn, available)

    return listener


def finish_after_ack(
    handler: Handler, text: str, ctx: CommandContext, usage: str, help_reply: Callable[[], Reply] | None,
    command: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond | None,
    follow_ups: Callable[[str, dict[str, Any], BoltContext], list[FollowUp]] | None,
) -> None:
    """The rest of a command whose `@name` needed the directory: run it once more, waiting for names this
    time, answer through response_url, then do its follow-ups."""
    try:
        ctx.extra["after_ack"] = True
        ctx.now = context["runtime"].clock()
        reply = run_handler(handler, text, ctx, usage, help_reply)
        if ctx.extra.get("home_users"):
            context["home_users"] = list(ctx.extra["home_users"])
        if respond is not None:
            respond(**reply.ack_kwargs(), replace_original=False)
    except Exception:
        log.exception("command %r failed after its ack", text)
        return
    available = {"body": command, "context": context, "client": client, "respond": respond}
    for fn in follow_ups(text, command, context) if follow_ups else []:
        call_with(fn, available)


def post_digest_now(body: dict[str, Any], context: BoltContext, respond: Respond | None = None) -> None:
    """Lazy half of `/mkt digest now`: compose and deliver through the outbox, off the ack path. If Slack
    refuses the post for good (the bot is not in the channel, say), the person who asked is told privately."""
    verb, rest = split_verb(body.get("text") or "")
    if verb != "digest" or rest.lower() not in ("now", "", "现在"):
        return
    runtime: Runtime = context["runtime"]
    from bot.services.outbox import PERMANENT_ERRORS
    from jobs.now import enqueue_digest_now

    stats = enqueue_digest_now(
        runtime.jobs, workspace_id=body.get("team_id") or "", channel=body.get("channel_id") or "",
        key=f"digest-now:{body.get('channel_id')}:{body.get('trigger_id') or body.get('user_id')}",
    )
    if stats is None or not stats.failed or respond is None:
        return
    error = stats.failure_codes[0] if stats.failure_codes else "unknown"
    locale = locale_in(context)
    if error in ("not_in_channel", "channel_not_found"):
        text = t("mkt.digest_not_in_channel", locale)
    elif error in PERMANENT_ERRORS:
        text = t("mkt.digest_refused", locale, error=error)
    else:
        text = t("mkt.digest_retrying", locale, error=error)
    respond(text=text, response_type="ephemeral", replace_original=False)


def register(app: App) -> None:
    locales = Locales()
    app.locales = locales  # type: ignore[attr-defined]

    def warm_locale(body: dict[str, Any], client: WebClient) -> None:
        """Lazy: look up the user's Slack locale (users.info) so the next reply is in their language."""
        locales.warm(client, body.get("team_id") or "", body.get("user_id") or "")

    def refresh_homes(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """Lazy: a command changed someone's tasks; their Home tab shows it."""
        users = context.get("home_users") or []
        if users:
            handlers.refresh_homes(client, body.get("team_id") or "", list(users))

    def follow_ups_for(name: str, modal: bool) -> Callable[[str, dict[str, Any], BoltContext], list[FollowUp]]:
        def needed(text: str, body: dict[str, Any], context: BoltContext) -> list[FollowUp]:
            verb, _rest = split_verb(text)
            todo: list[FollowUp] = []
            if not locales.is_cached(body.get("team_id") or "", body.get("user_id") or ""):
                todo.append(warm_locale)
            if modal and not text.strip():
                todo.append(handlers.open_command_modal)
            if context.get("home_users"):
                todo.append(refresh_homes)
            if name == "/mkt" and verb == "digest":
                todo.append(post_digest_now)
            elif name == "/kpi" and verb == "show":
                todo.append(kpi.post_chart)
            elif name == "/retro" and verb in ("start", "close", "end", "finish"):
                todo.append(retro.deliver_after_ack)
            return todo

        return needed

    listeners = {}
    for name, (handler, usage) in COMMANDS.items():
        modal = name in MODAL_COMMANDS
        listeners[name] = make_listener(
            handler, usage, HELP.get(name), locales=locales, modal=modal, follow_ups=follow_ups_for(name, modal)
        )

    def on_command(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        # Bolt builds each named argument per request: take three, the client and respond() come from the context
        listeners[body["command"]](ack, body, context, context.client, context.respond)

    # One listener for every command, registered first: Bolt tries listeners in order and builds arguments
    # for each matcher it tries, so a slash command should not walk past the buttons and forms first.
    app.command(re.compile("^(" + "|".join(re.escape(name) for name in COMMANDS) + ")$"))(on_command)
    handlers = interactive.register(app, locales=locales)
    retro.register(app)
