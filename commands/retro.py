"""/retro: start a retrospective thread, collect its replies, close it into a summary and tasks."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from slack_bolt import App, BoltContext

from bot.i18n import fmt_date, mention, t, tn
from bot.locale import locale_in
from bot.render.reply import Builder, Reply
from bot.render.text import esc, esc_keep_mentions, slack_unescape
from bot.runtime import Runtime
from bot.services import retros as service
from commands.base import CommandContext, split_verb
from commands.grammar import ParseError, parse_args, parse_choice, parse_date, parse_ref

log = logging.getLogger(__name__)

USAGE = """/retro start [campaign:<C> | period:month|quarter]
/retro close <R>
/retro list
In the thread: lines starting with `went well:`, `didn't:`, `try:` are collected;
`action: @owner <what> due:fri` becomes a task when the retro closes."""


def handle(text: str, ctx: CommandContext) -> Reply:
    verb, rest = split_verb(text)
    loc = locale_in(ctx.extra)
    if verb in ("", "list", "ls"):
        if rest:
            raise ParseError.of("error.command.takes_nothing", usage=USAGE, command="/retro list", rest=rest)
        with ctx.db.session(write=False) as session:
            rows = service.list_open(session, workspace_id=ctx.workspace_id)
            if not rows:
                return Builder().section(t("retro.list.empty", loc)).build()
            lines = [
                t("retro.list.line", loc, ref=f"R-{r.number}", title=esc(r.title), channel=f"<#{r.slack_channel_id}>",
                  notes=service.note_count(session, retro_id=r.id))
                for r in rows
            ]
            return Builder().section(t("retro.list.title", loc)).lines_section(lines).build()
    if verb == "start":
        parsed = parse_args(rest, options={"campaign", "period"}, usage=USAGE)
        if parsed.words:
            raise ParseError.of("error.retro.start_args", usage=USAGE, text=parsed.text())
        if "campaign" in parsed.options and "period" in parsed.options:
            raise ParseError.of("error.retro.pick_one", usage=USAGE)
        campaign = parse_ref(parsed.options["campaign"], "campaign") if "campaign" in parsed.options else None
        kind = parse_choice(parsed.options.get("period", "month"), ["month", "quarter"], name="period")
        with ctx.db.session() as session:
            retro = service.start_retro(
                session, workspace_id=ctx.workspace_id, channel=ctx.channel_id, kind=kind, today=ctx.today,
                user_id=ctx.user_id, campaign_number=campaign,
            )
            from bot.posts.retro import enqueue_parent

            enqueue_parent(session, retro=retro, today=ctx.today, now=ctx.now)
            ref = f"R-{retro.number}"
            return Builder().section(
                ":speech_balloon: " + t("retro.started", loc, ref=ref, title=esc(retro.title))
            ).build(text=t("retro.started_plain", loc, ref=ref))
    if verb in ("close", "end", "finish"):
        parts = rest.split()
        if len(parts) != 1:
            raise ParseError.of("error.retro.which", usage=USAGE)
        number = parse_ref(parts[0], "retro")
        today: date = ctx.today

        def parse_due(value: str) -> date | None:
            try:
                return parse_date(value, today=today)
            except ParseError:
                return None

        with ctx.db.session() as session:
            closed = service.close_retro(session, workspace_id=ctx.workspace_id, number=number, user_id=ctx.user_id, parse_due=parse_due)
            if not closed.changed:
                return Builder().section(":information_source: " + t("retro.already_closed", loc, ref=f"R-{number}")).build()
            from bot.posts.retro import enqueue_summary

            enqueue_summary(session, closed, today=today, now=ctx.now)
            task_lines = [
                t("retro.closed_task", loc, ref=f"T-{task.number}", title=esc_keep_mentions(task.title),
                  owner=mention(task.owner_id, loc))
                + (t("retro.closed_task_due", loc, date=fmt_date(task.due_on, today, loc)) if task.due_on else "")
                for task in closed.tasks
            ]
            b = Builder().section(":checkered_flag: " + tn(
                "retro.closed_reply", len(closed.tasks), loc, ref=f"R-{number}", title=esc(closed.retro.title), notes=len(closed.notes)
            ))
            if task_lines:
                b.lines_section(task_lines)
            return b.build(text=t("retro.closed_plain", loc, ref=f"R-{number}", n=len(closed.tasks)))
    raise ParseError.of("error.command.unknown_action", usage=USAGE, verb=verb, command="/retro")


def deliver_after_ack(context: BoltContext) -> None:
    """Lazy half of /retro: deliver what the ack half queued (the thread parent or the summary) right away."""
    from jobs.delivery import deliver_due

    runtime: Runtime = context["runtime"]
    deliver_due(runtime.jobs, limit=50)


def envelope_team(body: dict[str, Any]) -> str:
    """The workspace an event was delivered to: the envelope's, never the author's own team (a Slack Connect
    guest writes as their home team; their reply belongs to the workspace whose thread it is in)."""
    authorizations = body.get("authorizations")
    first = authorizations[0] if isinstance(authorizations, list) and authorizations else None
    if isinstance(first, dict) and first.get("team_id"):
        return str(first["team_id"])
    return str(body.get("team_id") or body.get("context_team_id") or "")


def on_message(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    """Replies in a retro's thread are recorded, an edited reply replaces what it said and a deleted one is
    forgotten (while the retro is open). Events may arrive in any order or more than once: only what is newer
    than the reply's applied state counts, and a deleted reply stays deleted."""
    subtype = event.get("subtype")
    version: str | None = None
    if subtype == "message_changed":  # an edit: the new message is inside, with its own ts and thread_ts
        message, kind = dict(event.get("message") or {}), "edit"
        if message.get("subtype") not in (None, "thread_broadcast", "file_share"):
            return
        version = (message.get("edited") or {}).get("ts") or event.get("ts") or event.get("event_ts")
    elif subtype == "message_deleted":
        message, kind = dict(event.get("previous_message") or {}), "delete"
        message["text"] = ""
        message.setdefault("ts", event.get("deleted_ts"))
        version = event.get("ts") or event.get("event_ts")
    elif subtype in (None, "thread_broadcast", "file_share"):
        message, kind = event, "new"
    else:
        return
    thread_ts = message.get("thread_ts")
    ts = message.get("ts") or event.get("deleted_ts")
    if not thread_ts or not ts or thread_ts == ts or message.get("bot_id"):
        return  # not a reply (a thread's parent is edited when replies arrive), or the bot's own
    runtime: Runtime = context["runtime"]
    workspace_id = envelope_team(body)
    with runtime.db.session() as session:
        retro = service.find_by_thread(session, workspace_id=workspace_id, channel=event.get("channel") or "", thread_ts=thread_ts)
        if retro is None:
            return
        # Slack sends "R&amp;D &lt;again&gt;": store what the person typed, its <@U…> mentions and links as sent.
        text = slack_unescape(message.get("text"))
        added = service.apply_reply(
            session, retro=retro, user_id=message.get("user"), message_ts=ts, text=text, kind=kind, version_ts=version
        )
        log.info("R-%s: %s note(s) from %s (%s)", retro.number, added, message.get("user"), kind)


def warn_dropped(event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: Any) -> None:
    """Lazy half of a thread reply: a reply past the per-reply caps is told privately what was left out."""
    message = event.get("message") if event.get("subtype") == "message_changed" else event
    if not isinstance(message, dict) or message.get("bot_id") or not message.get("thread_ts"):
        return
    text = slack_unescape(message.get("text"))
    dropped = service.dropped_lines(text)
    if not dropped or not message.get("user"):
        return
    runtime: Runtime = context["runtime"]
    with runtime.db.session(write=False) as session:
        retro = service.find_by_thread(session, workspace_id=envelope_team(body), channel=event.get("channel") or "",
                                       thread_ts=str(message["thread_ts"]))
        if retro is None or retro.status != "open":
            return
        number = retro.number
    locale = locale_in(context)
    client.chat_postEphemeral(
        channel=event.get("channel"), user=message["user"], thread_ts=message["thread_ts"],
        text=t("retro.reply_capped", locale, ref=f"R-{number}", dropped=dropped,
               actions=service.MAX_ACTIONS_PER_REPLY, notes=service.MAX_NOTES_PER_REPLY),
    )


def register(app: App) -> None:
    app.event("message")(ack=on_message, lazy=[warn_dropped])
