"""/task: record and move tasks (owner, dates, campaign and goal links); the task form, the buttons and the
overflow menu on task cards (start, done, block with a reason, snooze a day)."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.errors import NotFound, UserError
from bot.i18n import t
from bot.ids import ActionId, BlockId, CallbackId
from bot.render import modals, views
from bot.render.reply import Builder, Reply
from bot.runtime import Runtime
from bot.services import tasks as service
from bot.services.notifications import Actor
from bot.slack_text import esc
from commands.base import (
    JSON,
    M_CHANNEL,
    M_EPHEMERAL,
    M_LOCALE,
    M_ORIGIN,
    M_PERMALINK,
    M_REF,
    M_TS,
    M_URL,
    ORIGIN_HOME,
    CommandContext,
    CommandDoc,
    FieldErrors,
    SlashCommand,
    Submission,
    check_refs,
    date_value,
    field_errors,
    first_action,
    from_home,
    on_action,
    on_submission,
    option_value,
    origin,
    record,
    ref_value,
    shared_locale,
    split_export,
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
    FollowUp,
    OpenModal,
    PublishHome,
    RefreshHomes,
    ReplaceOriginal,
    Respond,
    SendExport,
    UpdateTaskMessage,
    home_refresh,
)
from commands.grammar import ParseError, is_user_token, parse_args, parse_date, parse_ref
from storage.models import Campaign, Goal, Task

log = logging.getLogger(__name__)

DOC = CommandDoc(
    "/task",
    forms=(
        "/task add <title> [@owner] [due:<date>] [start:<date>] [campaign:<C>] [goal:<G>]",
        "/task list [mine | @user | overdue | blocked | all] [campaign:<C>] [export [format:csv|xlsx]]",
        "/task start <T>        /task done <T>        /task block <T> <reason>",
        "/task assign <T> @user /task due <T> <date>",
    ),
    notes=(
        "usage.task.dates",
        "usage.task.form",
    ),
    summary="help.task",
    example="/task add \"Banner for 双十一\" @ana due:fri campaign:C-2",
)

ADD_OPTIONS = {"due": "due", "by": "due", "start": "start", "campaign": "campaign", "goal": "goal", "owner": "owner"}


@dataclass(frozen=True)
class AddTask:
    data: service.TaskCreate


def parse_add(text: str, ctx: CommandContext) -> service.TaskCreate:
    parsed = parse_args(text, options=ADD_OPTIONS, usage=DOC.usage)
    owner = None
    words = []
    for token in parsed.words:
        if not token.quoted and is_user_token(token):
            if owner is not None:
                raise ParseError.of("error.task.one_owner", usage=DOC.usage)
            owner = ctx.resolve_user(token.raw)
        else:
            words.append(token.text)
    if "owner" in parsed.options:
        if owner is not None:
            raise ParseError.of("error.task.one_owner", usage=DOC.usage)
        owner = ctx.resolve_user(parsed.options["owner"])
    title = " ".join(words).strip()
    if not title:
        raise ParseError.of("error.task.title", usage=DOC.usage)
    opts = parsed.options
    return service.TaskCreate(
        title=title,
        owner_id=owner,
        due_on=parse_date(opts["due"], today=ctx.today) if "due" in opts else None,
        start_on=parse_date(opts["start"], today=ctx.today) if "start" in opts else None,
        campaign=ctx.record_number(opts["campaign"], "campaign") if "campaign" in opts else None,
        goal=ctx.record_number(opts["goal"], "goal") if "goal" in opts else None,
        slack_channel_id=ctx.channel_id,
    )


def parse_list(text: str, ctx: CommandContext) -> service.TaskFilter:
    parsed = parse_args(text, options={"campaign"}, usage=DOC.usage)
    owner = None
    overdue = blocked = include_done = False
    for token in parsed.words:
        word = token.text.lower()
        if is_user_token(token):
            owner = ctx.resolve_user(token.raw)
        elif word in ("mine", "me", "my", "我的"):
            owner = ctx.user_id
        elif word == "overdue":
            overdue = True
        elif word == "blocked":
            blocked = True
        elif word == "all":
            include_done = True
        elif word == "open":
            pass
        else:
            raise ParseError.of("error.task.list_filter", usage=DOC.usage, word=token.text)
    campaign = ctx.record_number(parsed.options["campaign"], "campaign") if "campaign" in parsed.options else None
    return service.TaskFilter(owner_id=owner, overdue=overdue, blocked=blocked, include_done=include_done, campaign=campaign)


def _one_ref(rest: str, what: str) -> tuple[int, str]:
    """`what`: start, done, finish, complete, reopen, block, assign or reschedule (one message each)."""
    parts = rest.split(None, 1)
    if not parts:
        raise ParseError.of(f"error.task.which.{what}", usage=DOC.usage)
    return parse_ref(parts[0], "task"), parts[1].strip() if len(parts) > 1 else ""


def _concerns(ctx: CommandContext, reply: Reply, *users: str | None) -> Answer:
    """The reply, and the Home tabs that show this change (refreshed after the ack)."""
    return Answer(reply, home_refresh(ctx.workspace_id, *users))


def handle(text: str, ctx: CommandContext) -> Reply | Answer:
    verb, rest = split_verb(text)
    loc = ctx.locale
    if verb in ("", "list", "ls"):
        rest, fmt = split_export(rest, DOC.usage)
        filters = parse_list(rest, ctx)
        if fmt is not None:  # the file is made and sent by DM after the ack
            return Answer(Builder().section(":hourglass_flowing_sand: " + t("export.preparing", loc)).build(),
                          (SendExport(ctx.workspace_id, ctx.user_id, "task", dataclasses.asdict(filters), fmt, loc),))
        with ctx.db.session(write=False) as session:
            rows = service.list_tasks(session, workspace_id=ctx.workspace_id, filters=filters, today=ctx.today)
            return views.task_list([service.TaskCard.of(r) for r in rows], filters=filters, today=ctx.today, viewer=ctx.user_id, locale=loc)
    if verb in ("add", "new", "create"):
        data = parse_add(rest, ctx)
        with ctx.db.transaction() as connection:
            task = service.add_task(connection, workspace_id=ctx.workspace_id, data=data, user_id=ctx.user_id,
                                    by=Actor(ctx.user_id, ctx.now))
            return _concerns(ctx, views.task_created(task, today=ctx.today, locale=loc), task.owner_id)
    if verb in ("start", "done", "finish", "complete", "reopen"):
        number, extra = _one_ref(rest, verb)
        if extra:
            raise ParseError.of("error.task.extra", usage=DOC.usage, verb=verb, extra=extra)
        status = {"start": "in_progress", "reopen": "todo"}.get(verb, "done")
        with ctx.db.session() as session:
            change = service.set_status(session, workspace_id=ctx.workspace_id, number=number, status=status,
                                        by=Actor(ctx.user_id, ctx.now))
            return _concerns(ctx, views.task_changed(change.shown(), actor=ctx.user_id, today=ctx.today, locale=loc), change.task.owner_id)
    if verb == "block":
        number, reason = _one_ref(rest, "block")
        if not reason:
            raise ParseError.of("error.task.block_reason", usage=DOC.usage)
        with ctx.db.session() as session:
            change = service.set_status(session, workspace_id=ctx.workspace_id, number=number, status="blocked", reason=reason,
                                        by=Actor(ctx.user_id, ctx.now))
            return _concerns(ctx, views.task_changed(change.shown(), actor=ctx.user_id, today=ctx.today, locale=loc), change.task.owner_id)
    if verb == "assign":
        number, who = _one_ref(rest, "assign")
        if not who or len(who.split()) != 1:
            raise ParseError.of("error.task.assign_one", usage=DOC.usage)
        owner = ctx.resolve_user(who)
        with ctx.db.session() as session:
            change = service.assign(session, workspace_id=ctx.workspace_id, number=number, owner_id=owner,
                                    by=Actor(ctx.user_id, ctx.now))
            reply = views.task_changed(change.shown(), actor=ctx.user_id, today=ctx.today, locale=loc, what="assign")
            return _concerns(ctx, reply, change.before or None, change.task.owner_id)
    if verb == "due":
        number, when = _one_ref(rest, "reschedule")
        if not when:
            raise ParseError.of("error.task.due_missing", usage=DOC.usage)
        due = parse_date(when.strip(), today=ctx.today)
        with ctx.db.session() as session:
            change = service.set_due(session, workspace_id=ctx.workspace_id, number=number, due_on=due,
                                     by=Actor(ctx.user_id, ctx.now))
            reply = views.task_changed(change.shown(), actor=ctx.user_id, today=ctx.today, locale=loc, what="due")
            return _concerns(ctx, reply, change.task.owner_id)
    raise ParseError.of("error.command.unknown_action", usage=DOC.usage, verb=verb, command="/task")


def form_modal(*, locale: str, choices: modals.Choices, metadata: JSON, owner: str | None = None,
               prefill: modals.TaskPrefill | None = None) -> JSON:
    return modals.task_modal(locale=locale, choices=choices, metadata=metadata, prefill=prefill or modals.TaskPrefill(owner=owner))


COMMAND = SlashCommand(DOC, handle, form=form_modal)


# ---- the task form ----------------------------------------------------------------------------------

def parse_task_form(values: JSON, *, locale: str, channel_id: str | None, permalink: str | None = None) -> service.TaskCreate:
    errors: dict[str, str] = {}
    title = " ".join(text_value(values, BlockId.TITLE).split())
    if not title:
        errors[BlockId.TITLE] = t("error.task_title", locale)
    start, due = date_value(values, BlockId.START, locale), date_value(values, BlockId.DUE, locale)
    if start and due and due < start:
        errors[BlockId.DUE] = t("error.due_before_start", locale, due=due.isoformat(), start=start.isoformat())
    if errors:
        raise FieldErrors(errors)
    return service.TaskCreate(
        title=title,
        owner_id=user_value(values, BlockId.OWNER),
        due_on=due,
        start_on=start,
        campaign=ref_value(option_value(values, BlockId.CAMPAIGN), "campaign"),
        goal=ref_value(option_value(values, BlockId.GOAL), "goal"),
        source_permalink=permalink,
        slack_channel_id=channel_id,
    )


def submit_task(runtime: Runtime, ack: Ack, sub: Submission) -> list[FollowUp]:
    today = today_of(runtime)
    team, user, locale, meta = sub.team, sub.user, sub.locale, sub.meta

    def write(session: Session) -> tuple[Reply, str, list[str | None]]:
        data = parse_task_form(sub.values, locale=locale, channel_id=meta.get(M_CHANNEL), permalink=meta.get(M_PERMALINK))
        check_refs(session, team, locale, {BlockId.CAMPAIGN: (Campaign, "campaign", data.campaign),
                                           BlockId.GOAL: (Goal, "goal", data.goal)})
        task = service.add_task(session, workspace_id=team, data=data, user_id=user, by=Actor(user, runtime.clock()))
        notice = t("task.added", locale, n=task.number, title=esc(task.title))
        return views.task_created(task, today=today, locale=locale), notice, [task.owner_id]

    return record(runtime, ack, sub, error_block=BlockId.DUE, write=write)


# ---- buttons on task cards ------------------------------------------------------------------------

TASK_ACTIONS = {
    ActionId.TASK_START: "start",
    ActionId.TASK_DONE: "done",
    ActionId.TASK_BLOCK: "block",
    ActionId.TASK_SNOOZE: "snooze",
}


def _locked_task(session: Session, workspace_id: str, number: int) -> Task:
    """The task, row-locked for this transaction (PostgreSQL), so two clicks at once cannot both change it."""
    return service.get_task(session, workspace_id=workspace_id, number=number, for_update=True)


def task_kind(action: JSON) -> tuple[str, str]:
    """A button's or the overflow menu's choice: (start | done | block | snooze, the value it carries)."""
    action_id = str(action.get("action_id") or "")
    if action_id == ActionId.TASK_MENU:
        picked = str((action.get("selected_option") or {}).get("value") or action.get("value") or "")
        action_id, _, value = picked.partition("|")
    else:
        value = str(action.get("value") or "")
    kind = next((k for a, k in TASK_ACTIONS.items() if a.value == action_id), "")
    return kind, value


def on_task_action(runtime: Runtime, body: JSON, client: WebClient) -> list[FollowUp]:
    team, user = team_of(body), user_of(body)
    kind, value = task_kind(first_action(body))
    locale = user_locale(runtime, client, team, user)
    container = body.get("container") or {}
    home = from_home(body)
    try:
        ref, from_due = views.parse_snooze_value(value) if kind == "snooze" else (value, None)
        number = parse_ref(ref, "task")
    except (ParseError, ValueError):
        log.warning("a task button carried %r", value)
        return []
    if kind == "block":
        return open_block_modal(runtime, body, team=team, user=user, number=number, locale=locale)
    today = today_of(runtime)
    shared = not home and not container.get("is_ephemeral") and isinstance(body.get("message"), dict)
    # a shared message is redrawn in the language it was written in (else its channel's), whoever clicked
    shared_loc = (views.written_locale(body["message"].get("blocks"))
                  or shared_locale(runtime, team, container.get("channel_id"))) if shared else locale
    what = "snooze" if kind == "snooze" else None

    def click(session: Session) -> tuple[Any, ...]:
        by = Actor(user, runtime.clock())
        task = _locked_task(session, team, number)
        if task.status == "done":
            change = service.Change(task, False, "done")
        elif kind == "start":
            change = service.set_status(session, workspace_id=team, number=number, status="in_progress", by=by)
        elif kind == "done":
            change = service.set_status(session, workspace_id=team, number=number, status="done", by=by)
        elif task.due_on != from_due:  # snoozed already (or moved by someone else) since this card was drawn
            change = service.Change(task, False, task.status)
        else:
            start_from = max(task.due_on or today, today)
            change = service.set_due(session, workspace_id=team, number=number, due_on=start_from + timedelta(days=1),
                                     by=by, snoozed=True)
        shown = change.shown()
        private = views.task_changed(shown, actor=user, today=today, locale=locale, what=what)
        note, _plain = views.task_change_message(shown, actor=user, today=today, locale=shared_loc, what=what)
        updated_blocks = (
            views.update_task_blocks(body["message"].get("blocks") or [], shown.task, note=note, today=today, locale=shared_loc)
            if shared else None
        )
        home_notice = views.task_change_message(shown, actor=user, today=today, locale=locale, what=what)[0]
        return change, task.owner_id, private, updated_blocks, home_notice

    try:
        change, owner, private, updated_blocks, home_notice = runtime.db.retrying(click)
    except NotFound:
        return [tell(body, team, user, t("error.no_task", locale, ref=f"T-{number}"), home=home)]
    followups: list[FollowUp]
    if home:
        followups = [PublishHome(team, user, locale=locale, notice=home_notice)]
    elif shared and updated_blocks is not None:
        if change.changed:
            followups = [Respond(text=str(body["message"].get("text") or private.text), blocks=updated_blocks,
                                 replace_original=True)]
        else:
            # Nothing changed: the clicked copy may be stale, so leave the shared message as it is.
            followups = [Respond(text=private.text, blocks=private.blocks[:1], response_type="ephemeral",
                                 replace_original=False)]
    else:
        followups = [Respond(text=private.text, blocks=private.blocks, replace_original=True)]
    if change.changed:
        followups.append(RefreshHomes(team, (owner,), skip=user if home else None))
    return followups


def open_block_modal(runtime: Runtime, body: JSON, *, team: str, user: str, number: int, locale: str) -> list[FollowUp]:
    today = today_of(runtime)
    home = from_home(body)
    with runtime.db.session(write=False) as session:
        try:
            task = service.get_task(session, workspace_id=team, number=number)
        except NotFound:
            return [tell(body, team, user, t("error.no_task", locale, ref=f"T-{number}"), home=home)]
        if task.status == "done":
            return [tell(body, team, user, t("task.nothing_changed", locale, n=number, what=t("task.already.done", locale)),
                         home=home)]
        summary = views.task_line(service.TaskCard.of(task), today, locale=locale)
    view = modals.block_reason_modal(locale=locale, ref=f"T-{number}", summary=summary,
                                     metadata={**origin(body), M_REF: f"T-{number}", M_LOCALE: locale})
    return [OpenModal(view, str(body.get("trigger_id") or ""), team, locale, tell_failure=not home)]


def submit_block(runtime: Runtime, ack: Ack, sub: Submission) -> list[FollowUp]:
    team, user, meta, locale = sub.team, sub.user, sub.meta, sub.locale
    today = today_of(runtime)
    reason = " ".join(text_value(sub.values, BlockId.REASON).split())
    if not reason:
        return field_errors(ack, {BlockId.REASON: t("error.block_reason", locale)})
    try:
        number = parse_ref(str(meta.get(M_REF) or ""), "task")

        def block(session: Session) -> tuple[Any, ...]:
            task = _locked_task(session, team, number)
            if task.status == "done":
                change = service.Change(task, False, "done")
            else:
                change = service.set_status(session, workspace_id=team, number=number, status="blocked", reason=reason,
                                            by=Actor(user, runtime.clock()))
            shown = change.shown()
            card = views.task_changed(shown, actor=user, today=today, locale=locale)
            note = views.task_change_message(shown, actor=user, today=today, locale=locale)[0]
            return change, card, note, task.owner_id

        change, card, note, owner = runtime.db.retrying(block)
    except (ParseError, NotFound):
        return field_errors(ack, {BlockId.REASON: t("error.no_task", locale, ref=str(meta.get(M_REF)))})
    except UserError as exc:
        return field_errors(ack, {BlockId.REASON: exc.text(locale)})
    ack()
    homes = (owner,) if change.changed else ()
    if meta.get(M_ORIGIN) == ORIGIN_HOME:
        return [PublishHome(team, user, notice=note), RefreshHomes(team, homes, skip=user)]
    followups: list[FollowUp]
    if meta.get(M_EPHEMERAL):
        url = meta.get(M_URL)
        followups = [ReplaceOriginal(str(url), card.text, card.blocks)] if url else []
    else:
        followups = [UpdateTaskMessage(team, meta.get(M_CHANNEL), meta.get(M_TS), number, user, change.changed)]
        if not change.changed:
            followups.insert(0, Confirm(user, meta.get(M_CHANNEL), meta.get(M_URL), card.text, card.blocks[:1]))
    return [*followups, RefreshHomes(team, homes)]


def register(app: App, runtime: Runtime) -> None:
    for action_id in (ActionId.TASK_START, ActionId.TASK_DONE, ActionId.TASK_BLOCK, ActionId.TASK_SNOOZE, ActionId.TASK_MENU):
        on_action(app, runtime, action_id, lambda body, client: on_task_action(runtime, body, client))
    on_submission(app, runtime, CallbackId.TASK_MODAL, lambda ack, sub: submit_task(runtime, ack, sub))
    on_submission(app, runtime, CallbackId.TASK_BLOCK_MODAL, lambda ack, sub: submit_block(runtime, ack, sub))
