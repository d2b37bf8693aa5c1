"""/task: record and move tasks (owner, dates, campaign and goal links)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.locale import locale_in
from bot.render import views
from bot.render.reply import Reply
from bot.services import tasks as service
from commands.base import CommandContext, split_verb
from commands.grammar import ParseError, is_user_token, parse_args, parse_date, parse_ref

USAGE = """/task add <title> [@owner] [due:<date>] [start:<date>] [campaign:<C>] [goal:<G>]
/task list [mine | @user | overdue | blocked | all] [campaign:<C>]
/task start <T>        /task done <T>        /task block <T> <reason>
/task assign <T> @user /task due <T> <date>
Dates: 2026-12-01, 12-01, today, tomorrow, fri, +3d, +2w, eow, eom, eoq, 今天, 明天
Type /task alone to fill in a form."""

ADD_OPTIONS = {"due": "due", "by": "due", "start": "start", "campaign": "campaign", "goal": "goal", "owner": "owner"}


@dataclass(frozen=True)
class AddTask:
    data: service.TaskCreate


def parse_add(text: str, ctx: CommandContext) -> service.TaskCreate:
    parsed = parse_args(text, options=ADD_OPTIONS, usage=USAGE)
    owner = None
    words = []
    for token in parsed.words:
        if not token.quoted and is_user_token(token):
            if owner is not None:
                raise ParseError.of("error.task.one_owner", usage=USAGE)
            owner = ctx.resolve_user(token.raw)
        else:
            words.append(token.text)
    if "owner" in parsed.options:
        if owner is not None:
            raise ParseError.of("error.task.one_owner", usage=USAGE)
        owner = ctx.resolve_user(parsed.options["owner"])
    title = " ".join(words).strip()
    if not title:
        raise ParseError.of("error.task.title", usage=USAGE)
    opts = parsed.options
    return service.TaskCreate(
        title=title,
        owner_id=owner,
        due_on=parse_date(opts["due"], today=ctx.today) if "due" in opts else None,
        start_on=parse_date(opts["start"], today=ctx.today) if "start" in opts else None,
        campaign=parse_ref(opts["campaign"], "campaign") if "campaign" in opts else None,
        goal=parse_ref(opts["goal"], "goal") if "goal" in opts else None,
        slack_channel_id=ctx.channel_id,
    )


def parse_list(text: str, ctx: CommandContext) -> service.TaskFilter:
    parsed = parse_args(text, options={"campaign"}, usage=USAGE)
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
            raise ParseError.of("error.task.list_filter", usage=USAGE, word=token.text)
    campaign = parse_ref(parsed.options["campaign"], "campaign") if "campaign" in parsed.options else None
    return service.TaskFilter(owner_id=owner, overdue=overdue, blocked=blocked, include_done=include_done, campaign=campaign)


def _one_ref(rest: str, what: str) -> tuple[int, str]:
    """`what`: start, done, finish, complete, reopen, block, assign or reschedule (one message each)."""
    parts = rest.split(None, 1)
    if not parts:
        raise ParseError.of(f"error.task.which.{what}", usage=USAGE)
    return parse_ref(parts[0], "task"), parts[1].strip() if len(parts) > 1 else ""


def _concerns(ctx: CommandContext, *users: str | None) -> None:
    """Whose Home tab shows this change (the listener refreshes them after the ack)."""
    ctx.extra.setdefault("home_users", [])
    ctx.extra["home_users"].extend(u for u in users if u)


def handle(text: str, ctx: CommandContext) -> Reply:
    verb, rest = split_verb(text)
    loc = locale_in(ctx.extra)
    if verb in ("", "list", "ls"):
        filters = parse_list(rest, ctx)
        with ctx.db.session(write=False) as session:
            rows = service.list_tasks(session, workspace_id=ctx.workspace_id, filters=filters, today=ctx.today)
            return views.task_list(rows, filters=filters, today=ctx.today, viewer=ctx.user_id, locale=loc)
    if verb in ("add", "new", "create"):
        data = parse_add(rest, ctx)
        with ctx.db.transaction() as connection:
            task = service.add_task(connection, workspace_id=ctx.workspace_id, data=data, user_id=ctx.user_id)
            _concerns(ctx, task.owner_id)
            return views.task_created(task, today=ctx.today, locale=loc)
    if verb in ("start", "done", "finish", "complete", "reopen"):
        number, extra = _one_ref(rest, verb)
        if extra:
            raise ParseError.of("error.task.extra", usage=USAGE, verb=verb, extra=extra)
        status = {"start": "in_progress", "reopen": "todo"}.get(verb, "done")
        with ctx.db.session() as session:
            change = service.set_status(session, workspace_id=ctx.workspace_id, number=number, status=status)
            _concerns(ctx, change.task.owner_id)
            return views.task_changed(change, actor=ctx.user_id, today=ctx.today, locale=loc)
    if verb == "block":
        number, reason = _one_ref(rest, "block")
        if not reason:
            raise ParseError.of("error.task.block_reason", usage=USAGE)
        with ctx.db.session() as session:
            change = service.set_status(session, workspace_id=ctx.workspace_id, number=number, status="blocked", reason=reason)
            _concerns(ctx, change.task.owner_id)
            return views.task_changed(change, actor=ctx.user_id, today=ctx.today, locale=loc)
    if verb == "assign":
        number, who = _one_ref(rest, "assign")
        if not who or len(who.split()) != 1:
            raise ParseError.of("error.task.assign_one", usage=USAGE)
        owner = ctx.resolve_user(who)
        with ctx.db.session() as session:
            change = service.assign(session, workspace_id=ctx.workspace_id, number=number, owner_id=owner)
            _concerns(ctx, change.before or None, change.task.owner_id)
            return views.task_changed(change, actor=ctx.user_id, today=ctx.today, locale=loc, what="assign")
    if verb == "due":
        number, when = _one_ref(rest, "reschedule")
        if not when:
            raise ParseError.of("error.task.due_missing", usage=USAGE)
        due = parse_date(when.strip(), today=ctx.today)
        with ctx.db.session() as session:
            change = service.set_due(session, workspace_id=ctx.workspace_id, number=number, due_on=due)
            _concerns(ctx, change.task.owner_id)
            return views.task_changed(change, actor=ctx.user_id, today=ctx.today, locale=loc, what="due")
    raise ParseError.of("error.command.unknown_action", usage=USAGE, verb=verb, command="/task")
