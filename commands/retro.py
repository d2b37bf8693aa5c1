"""/retro: start a retrospective thread, collect its replies, close it into a summary and tasks; the thread
parent's buttons (add a note through a form, close the retro)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.errors import NotFound
from bot.i18n import EN, ZH_CN, t, tn
from bot.i18n.fmt import fmt_date, mention
from bot.ids import ActionId, BlockId, CallbackId, record_block
from bot.posts import retro as retro_posts
from bot.render import modals, views
from bot.render.reply import Builder, Reply
from bot.render.retro import retro_title
from bot.runtime import Runtime
from bot.services import languages, outbox
from bot.services import retros as service
from bot.services.notifications import Actor
from bot.slack_text import esc, esc_keep_mentions, slack_unescape, truncate, user_mention
from commands.base import (
    JSON,
    M_CHANNEL,
    M_LOCALE,
    M_REF,
    M_URL,
    CommandContext,
    CommandDoc,
    FieldErrors,
    SlashCommand,
    Submission,
    date_value,
    field_errors,
    first_action,
    on_action,
    on_submission,
    option_value,
    origin,
    split_verb,
    team_of,
    tell,
    text_value,
    today_of,
    user_locale,
    user_of,
    user_value,
)
from commands.followups import (
    Answer,
    Confirm,
    DeliverPost,
    FollowUp,
    OpenModal,
    QueuePost,
    RefreshHomes,
    Respond,
)
from commands.grammar import ParseError, parse_args, parse_choice, parse_date, parse_ref

log = logging.getLogger(__name__)

DOC = CommandDoc(
    "/retro",
    forms=(
        "/retro start [campaign:<C> | period:month|quarter]",
        "/retro close <R>",
        "/retro list",
    ),
    notes=(
        "usage.retro.thread",
    ),
    summary="help.retro",
    example="/retro start campaign:C-2",
)


def _title(retro: Any, locale: str) -> str:
    """A retro's title in the reader's language (a month's or quarter's name in Chinese: 2026年11月)."""
    return retro_title(retro.kind, retro.title, retro.period_start, locale)


def _delivered(reply: Reply, outbox_id: int | None) -> Reply | Answer:
    """The reply, and the post the handler queued (the thread parent or the summary) delivered right after the ack."""
    return Answer(reply, (DeliverPost(outbox_id),)) if outbox_id is not None else reply


def handle(text: str, ctx: CommandContext) -> Reply | Answer:
    verb, rest = split_verb(text)
    loc = ctx.locale
    if verb in ("", "list", "ls"):
        if rest:
            raise ParseError.of("error.command.takes_nothing", usage=DOC.usage, command="/retro list", rest=rest)
        with ctx.db.session(write=False) as session:
            rows = service.list_open(session, workspace_id=ctx.workspace_id)
            if not rows:
                return Builder().section(t("retro.list.empty", loc)).build()
            lines = [
                t("retro.list.line", loc, ref=f"R-{r.number}", title=esc(_title(r, loc)), channel=f"<#{r.slack_channel_id}>",
                  notes=service.note_count(session, retro_id=r.id))
                for r in rows
            ]
            return Builder().section(t("retro.list.title", loc)).lines_section(lines).build()
    if verb == "start":
        parsed = parse_args(rest, options={"campaign", "period"}, usage=DOC.usage)
        if parsed.words:
            raise ParseError.of("error.retro.start_args", usage=DOC.usage, text=parsed.text())
        if "campaign" in parsed.options and "period" in parsed.options:
            raise ParseError.of("error.retro.pick_one", usage=DOC.usage)
        campaign = ctx.record_number(parsed.options["campaign"], "campaign") if "campaign" in parsed.options else None
        kind = parse_choice(parsed.options.get("period", "month"), ["month", "quarter"], name="period")
        with ctx.db.session() as session:
            retro = service.start_retro(
                session, workspace_id=ctx.workspace_id, channel=ctx.channel_id, kind=kind, today=ctx.today,
                user_id=ctx.user_id, campaign_number=campaign,
            )
            outbox_id = retro_posts.enqueue_parent(session, retro=retro, today=ctx.today, now=ctx.now)
            ref = f"R-{retro.number}"
            return _delivered(Builder().section(
                ":speech_balloon: " + t("retro.started", loc, ref=ref, title=esc(_title(retro, loc)))
            ).build(text=t("retro.started_plain", loc, ref=ref)), outbox_id)
    if verb in ("close", "end", "finish"):
        parts = rest.split()
        if len(parts) != 1:
            raise ParseError.of("error.retro.which", usage=DOC.usage)
        number = parse_ref(parts[0], "retro")
        today: date = ctx.today

        def parse_due(value: str) -> date | None:
            try:
                return parse_date(value, today=today)
            except ParseError:
                return None

        with ctx.db.session() as session:
            closed = service.close_retro(session, workspace_id=ctx.workspace_id, number=number, user_id=ctx.user_id, parse_due=parse_due,
                                         by=Actor(ctx.user_id, ctx.now))
            if not closed.changed:
                return Builder().section(":information_source: " + t("retro.already_closed", loc, ref=f"R-{number}")).build()
            outbox_id = retro_posts.enqueue_summary(session, closed, today=today, now=ctx.now)
            task_lines = [
                t("retro.closed_task", loc, ref=f"T-{task.number}", title=esc_keep_mentions(task.title),
                  owner=mention(task.owner_id, loc))
                + (t("retro.closed_task_due", loc, date=fmt_date(task.due_on, today, loc)) if task.due_on else "")
                for task in closed.tasks
            ]
            b = Builder().section(":checkered_flag: " + tn(
                "retro.closed_reply", len(closed.tasks), loc, ref=f"R-{number}", title=esc(_title(closed.retro, loc)),
                notes=len(closed.notes),
            ))
            if task_lines:
                b.lines_section(task_lines)
            return _delivered(b.build(text=t("retro.closed_plain", loc, ref=f"R-{number}", n=len(closed.tasks))), outbox_id)
    raise ParseError.of("error.command.unknown_action", usage=DOC.usage, verb=verb, command="/retro")


COMMAND = SlashCommand(DOC, handle)


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
    locale = user_locale(runtime, client, envelope_team(body), str(message["user"]))  # told privately: their language
    client.chat_postEphemeral(
        channel=event.get("channel"), user=message["user"], thread_ts=message["thread_ts"],
        text=t("retro.reply_capped", locale, ref=f"R-{number}", dropped=dropped,
               actions=service.MAX_ACTIONS_PER_REPLY, notes=service.MAX_NOTES_PER_REPLY),
    )


# ---- the thread parent's buttons and the note form -------------------------------------------------

#: The prefix a note from the form is written with, in the thread's team language: the line reads as if typed
#: there, and either language's prefixes are read back (bot.services.retros.CATEGORIES).
RETRO_PREFIX = {
    EN: {"well": "went well:", "not": "didn't:", "try": "try:", "action": "action:"},
    ZH_CN: {"well": "做得好：", "not": "问题：", "try": "改进：", "action": "行动："},
}


def parse_retro_note_form(values: JSON, *, locale: str, written_in: str = EN) -> str:
    """The note as the line a person would have typed in the thread ("went well: …", "action: <@U…> … due:…"),
    its prefix in `written_in` (the thread's language); `locale` is the language of any error."""
    category = option_value(values, BlockId.CATEGORY) or "note"
    text = text_value(values, BlockId.TEXT)
    if not text:
        raise FieldErrors({BlockId.TEXT: t("error.required", locale)})
    if category != "note":
        text = " ".join(text.split())  # one line: the category prefix applies to all of it
    prefix = RETRO_PREFIX.get(written_in, RETRO_PREFIX[EN]).get(category, "")
    owner = user_value(values, BlockId.OWNER)
    due = date_value(values, BlockId.DUE, locale)
    if category == "action":
        if owner:
            text += f" <@{owner}>"
        if due:
            text += f" due:{due.isoformat()}"
    if not prefix:
        return text
    return f"{prefix}{text}" if prefix.endswith("：") else f"{prefix} {text}"


def open_note_modal(runtime: Runtime, body: JSON, client: WebClient) -> list[FollowUp]:
    team, user = team_of(body), user_of(body)
    locale = user_locale(runtime, client, team, user)
    try:
        number = parse_ref(str(first_action(body).get("value") or ""), "retro")
    except ParseError:
        return []
    with runtime.db.session(write=False) as session:
        try:
            retro = service.get_retro(session, workspace_id=team, number=number)
        except NotFound:
            return [tell(body, team, user, t("error.no_retro", locale, ref=f"R-{number}"), home=False)]
        if retro.status != "open":
            return [tell(body, team, user, t("retro.closed_no_notes", locale, ref=f"R-{number}"), home=False)]
        summary = f"*R-{retro.number}* {esc(_title(retro, locale))}"
    view = modals.retro_note_modal(locale=locale, ref=f"R-{number}", summary=summary,
                                   metadata={**origin(body), M_REF: f"R-{number}", M_LOCALE: locale})
    return [OpenModal(view, str(body.get("trigger_id") or ""), team, locale)]


def on_close(runtime: Runtime, body: JSON, client: WebClient) -> list[FollowUp]:
    team, user = team_of(body), user_of(body)
    locale = user_locale(runtime, client, team, user)
    try:
        number = parse_ref(str(first_action(body).get("value") or ""), "retro")
    except ParseError:
        return []
    today = today_of(runtime)

    def parse_due(value: str) -> date | None:
        try:
            return parse_date(value, today=today)
        except ParseError:
            return None

    def close(session: Session) -> tuple[Any, int | None, str]:
        closed = service.close_retro(session, workspace_id=team, number=number, user_id=user, parse_due=parse_due,
                                     by=Actor(user, runtime.clock()))
        outbox_id = retro_posts.enqueue_summary(session, closed, today=today, now=runtime.clock()) if closed.changed else None
        # the parent is redrawn in the language it was posted in: its channel's team language, whoever clicked
        posted_in = languages.team_language(session, workspace_id=team, channel=closed.retro.slack_channel_id)
        return closed, outbox_id, posted_in

    try:
        closed, outbox_id, shared = runtime.db.retrying(close)
        notes, created = len(closed.notes), len(closed.tasks)
        owners = tuple(task.owner_id for task in closed.tasks)
    except NotFound:
        return [tell(body, team, user, t("error.no_retro", locale, ref=f"R-{number}"), home=False)]
    if closed.changed:
        note = ":checkered_flag: " + t("retro.closed_by", shared, ref=f"R-{number}", actor=user_mention(user), notes=notes, tasks=created)
    else:
        note = ":checkered_flag: " + t("retro.closed", shared, ref=f"R-{number}")
    followups: list[FollowUp] = []
    message = body.get("message")
    if isinstance(message, dict):
        blocks = views.close_record_blocks(message.get("blocks") or [], record_block(BlockId.RETRO_ACTIONS, f"R-{number}"), note)
        followups.append(Respond(text=str(message.get("text") or note), blocks=blocks, replace_original=True))
    if not closed.changed:
        followups.append(Respond(text=":information_source: " + t("retro.already_closed", locale, ref=f"R-{number}"),
                                 response_type="ephemeral", replace_original=False))
        return followups
    if outbox_id is not None:
        followups.append(DeliverPost(outbox_id))
    followups.append(RefreshHomes(team, owners))
    return followups


def submit_note(runtime: Runtime, ack: Ack, sub: Submission) -> list[FollowUp]:
    team, user, meta, locale, view = sub.team, sub.user, sub.meta, sub.locale, sub.view
    try:
        parse_retro_note_form(sub.values, locale=locale)  # its errors before anything is read
        number = parse_ref(str(meta.get(M_REF) or ""), "retro")

        def note(session: Session) -> tuple[Any, ...]:
            retro = service.get_retro(session, workspace_id=team, number=number)
            if retro.status != "open":
                raise FieldErrors({BlockId.TEXT: t("retro.closed_no_notes", locale, ref=f"R-{number}")})
            thread_language = languages.team_language(session, workspace_id=team, channel=retro.slack_channel_id)
            line = parse_retro_note_form(sub.values, locale=locale, written_in=thread_language)
            # The view id makes a re-sent submission harmless, as a thread reply's ts does.
            key = f"modal.{view.get('id') or ''}"[:32]
            service.record_reply(session, retro=retro, user_id=user, message_ts=key, text=line)
            return retro.slack_channel_id, retro.thread_ts, line

        channel, thread, line = runtime.db.retrying(note)
    except FieldErrors as exc:
        return field_errors(ack, exc.errors)
    except (ParseError, NotFound):
        return field_errors(ack, {BlockId.TEXT: t("error.no_retro", locale, ref=str(meta.get(M_REF)))})
    ack()
    shown = f":memo: {user_mention(user)}: {esc_keep_mentions(line)}"  # an action's owner stays a mention
    if thread:
        # keyed by the view, as the note is: a re-sent submission or a lost answer never echoes it twice
        return [QueuePost(team, outbox.Post(
            dedupe_key=f"retro-note:{view.get('id') or ''}", kind="retro_note", text=truncate(shown, 3000),
            slack_channel_id=str(channel), thread_ts=str(thread)))]
    text = t("retro.note_added", locale, ref=f"R-{number}")
    return [Confirm(user, meta.get(M_CHANNEL) or channel, meta.get(M_URL), text, views.notice(text).blocks)]


def register(app: App, runtime: Runtime) -> None:
    on_action(app, runtime, ActionId.RETRO_NOTE, lambda body, client: open_note_modal(runtime, body, client))
    on_action(app, runtime, ActionId.RETRO_CLOSE, lambda body, client: on_close(runtime, body, client))
    on_submission(app, runtime, CallbackId.RETRO_NOTE_MODAL, lambda ack, sub: submit_note(runtime, ack, sub))
    app.event("message")(ack=on_message, lazy=[warn_dropped])
