"""/goal: SMART goals with a metric, target, deadline, owner and parent; check-ins and progress; the goal form
and the check-in button and form."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.errors import NotFound, UserError
from bot.i18n import Msg, msg, t
from bot.i18n.fmt import mention
from bot.ids import ActionId, BlockId, CallbackId
from bot.render import modals, views
from bot.render.reply import Builder, Reply
from bot.runtime import Runtime
from bot.services import goals as service
from bot.services import kpis as kpi_service
from bot.services.languages import team_language
from bot.services.notifications import Actor
from bot.slack_text import esc
from commands.base import (
    JSON,
    M_CHANNEL,
    M_LOCALE,
    M_REF,
    CommandContext,
    CommandDoc,
    FieldErrors,
    SlashCommand,
    Submission,
    check_refs,
    confirmation,
    date_value,
    field_errors,
    first_action,
    from_home,
    number_value,
    on_action,
    on_submission,
    option_value,
    origin,
    record,
    ref_value,
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
    FollowUp,
    OpenModal,
    PublishHome,
    RefreshHomes,
    SendExport,
    home_refresh,
)
from commands.grammar import (
    ParseError,
    is_user_token,
    parse_args,
    parse_date,
    parse_number,
    parse_ref,
    tokenize,
)
from commands.kpi import metric_name
from storage.models import Goal

DOC = CommandDoc(
    "/goal",
    forms=(
        "/goal add <title> metric:<kpi> target:<number> by:<date> [baseline:<n>] [start:<date>] [owner:@user] [parent:<G>] [channel:<name>]",
        "/goal list [all] [export [format:csv|xlsx]]      /goal show <G>      /goal close <G>",
        "/goal checkin <G> <value> [confidence:<1-10>] [note…]",
    ),
    notes=(
        "usage.goal.example",
        "usage.goal.form",
    ),
    summary="help.goal",
    example="/goal add \"Q4 GMV\" metric:gmv target:¥2.5m by:eoq",
)

ADD_OPTIONS = {
    "metric": "metric", "kpi": "metric", "target": "target", "by": "by", "due": "by", "deadline": "by",
    "baseline": "baseline", "start": "start", "owner": "owner", "parent": "parent", "channel": "channel",
}


def parse_add(text: str, ctx: CommandContext) -> service.GoalCreate:
    parsed = parse_args(text, options=ADD_OPTIONS, usage=DOC.usage)
    opts = parsed.options
    owner = ctx.resolve_user(opts["owner"]) if "owner" in opts else None
    words = []
    for token in parsed.words:
        if not token.quoted and is_user_token(token) and owner is None:
            owner = ctx.resolve_user(token.raw)
        else:
            words.append(token.text)
    title = " ".join(words).strip()
    missing: list[str | Msg] = [f"`{k}:`" for k in ("metric", "target", "by") if k not in opts]
    if not title:
        missing.insert(0, msg("error.goal.a_title"))
    if missing:
        raise ParseError.of("error.goal.missing", usage=DOC.usage, missing=missing)
    target = parse_number(opts["target"])
    baseline = parse_number(opts["baseline"]) if "baseline" in opts else None
    start = parse_date(opts["start"], today=ctx.today) if "start" in opts else ctx.today
    due = parse_date(opts["by"], today=ctx.today)
    if due < ctx.today and "start" not in opts:
        raise ParseError.of("error.deadline_past", usage=DOC.usage, due=due)
    return service.GoalCreate(
        title=title,
        metric=opts["metric"],
        target=target.value,
        target_percent=target.percent,
        currency=target.currency,
        due_on=due,
        start_on=start,
        baseline=baseline.value if baseline else None,
        baseline_percent=baseline.percent if baseline else False,
        owner_id=owner,
        parent=ctx.record_number(opts["parent"], "goal") if "parent" in opts else None,
        channel=opts.get("channel"),
        slack_channel_id=ctx.channel_id,
    )


def handle(text: str, ctx: CommandContext) -> Reply | Answer:
    verb, rest = split_verb(text)
    today: date = ctx.today
    loc = ctx.locale
    if verb in ("", "list", "ls"):
        rest, fmt = split_export(rest, DOC.usage)
        include_closed = rest.lower() == "all"
        if rest and not include_closed:
            raise ParseError.of("error.command.takes_only_all", usage=DOC.usage, command="/goal list", rest=rest)
        if fmt is not None:  # the file is made and sent by DM after the ack
            return Answer(Builder().section(":hourglass_flowing_sand: " + t("export.preparing", loc)).build(),
                          (SendExport(ctx.workspace_id, ctx.user_id, "goal", {"include_closed": include_closed}, fmt, loc),))
        with ctx.db.session(write=False) as session:
            rows = service.list_goals(session, workspace_id=ctx.workspace_id, include_closed=include_closed)
            return views.goal_list([(service.GoalCard.of(g), service.progress(session, goal=g, today=today)) for g in rows], today=today, locale=loc)
    if verb in ("add", "new", "create"):
        data = parse_add(rest, ctx)
        data = dataclasses.replace(data, metric=metric_name(ctx, data.metric))  # metric:K-2 is that metric
        with ctx.db.session() as session:
            goal = service.create_goal(session, workspace_id=ctx.workspace_id, data=data, user_id=ctx.user_id)
            # announced in the channel: in its team language, not the typist's
            team_loc = team_language(session, workspace_id=ctx.workspace_id, channel=ctx.channel_id)
            return _concerns(ctx, views.goal_created(service.GoalCard.of(goal), today=today, actor=ctx.user_id,
                                                     locale=team_loc), goal.owner_id)
    if verb in ("show", "view"):
        number = _single_ref(rest, "show", ctx)
        with ctx.db.session(write=False) as session:
            goal = service.get_goal(session, workspace_id=ctx.workspace_id, number=number)
            children = [(service.GoalCard.of(g), service.progress(session, goal=g, today=today)) for g in service.child_goals(session, goal=goal)]
            return views.goal_show(service.GoalCard.of(goal), service.progress(session, goal=goal, today=today), children, today=today, locale=loc)
    if verb == "close":
        number = _single_ref(rest, "close", ctx)
        with ctx.db.session() as session:
            goal, changed = service.close_goal(session, workspace_id=ctx.workspace_id, number=number,
                                               by=Actor(ctx.user_id, ctx.now))
            progress = service.progress(session, goal=goal, today=today)
            reply = views.goal_closed(service.GoalCard.of(goal), progress, changed=changed, today=today, actor=ctx.user_id, locale=loc)
            return _concerns(ctx, reply, goal.owner_id)
    if verb in ("checkin", "check-in", "update"):
        parsed = parse_args(rest, options={"confidence"}, usage=DOC.usage)
        if len(parsed.words) < 2:
            raise ParseError.of("error.goal.checkin_args", usage=DOC.usage)
        number = ctx.record_number(parsed.words[0].text, "goal")
        value = parse_number(parsed.words[1].text)
        confidence = None
        if "confidence" in parsed.options:
            raw = parsed.options["confidence"]
            if not raw.isdigit() or not 1 <= int(raw) <= 10:
                raise ParseError.of("error.goal.confidence", usage=DOC.usage, value=raw)
            confidence = int(raw)
        note = " ".join(t.text for t in parsed.words[2:]) or None
        with ctx.db.session() as session:
            goal, _row = service.checkin(
                session, workspace_id=ctx.workspace_id, number=number, value=value.value, percent=value.percent,
                confidence=confidence, note=note, user_id=ctx.user_id, currency=value.currency,
                by=Actor(ctx.user_id, ctx.now),
            )
            progress = service.progress(session, goal=goal, today=today)
            reply = views.goal_checked_in(service.GoalCard.of(goal), progress, today=today, actor=ctx.user_id, locale=loc)
            return _concerns(ctx, reply, goal.owner_id)
    raise ParseError.of("error.command.unknown_action", usage=DOC.usage, verb=verb, command="/goal")


def _concerns(ctx: CommandContext, reply: Reply, *users: str | None) -> Answer:
    """The reply, and the Home tabs that show this goal (refreshed after the ack)."""
    return Answer(reply, home_refresh(ctx.workspace_id, *users))


def _single_ref(rest: str, what: str, ctx: CommandContext) -> int:
    """`what`: show or close (one message each). The goal by reference or by (quoted) name."""
    try:
        words = tokenize(rest)
    except ParseError as exc:
        raise exc.with_usage(DOC.usage) from None
    if len(words) != 1:
        raise ParseError.of(f"error.goal.which.{what}", usage=DOC.usage)
    return ctx.record_number(words[0].text, "goal")


def form_modal(*, locale: str, choices: modals.Choices, metadata: JSON, owner: str | None = None) -> JSON:
    return modals.goal_modal(locale=locale, choices=choices, metadata=metadata, owner=owner)


COMMAND = SlashCommand(DOC, handle, form=form_modal)


# ---- the goal form ----------------------------------------------------------------------------------

def parse_goal_form(values: JSON, *, locale: str, today: date, channel_id: str | None) -> service.GoalCreate:
    errors: dict[str, str] = {}
    title = " ".join(text_value(values, BlockId.TITLE).split())
    if not title:
        errors[BlockId.TITLE] = t("error.goal_title", locale)
    picked, typed = option_value(values, BlockId.METRIC), text_value(values, BlockId.NEW_METRIC)
    has_select = BlockId.METRIC in values
    metric = typed or picked
    if picked and typed and kpi_service.metric_key(picked) != kpi_service.metric_key(typed):
        errors[BlockId.NEW_METRIC] = t("error.metric_both", locale)
    elif not metric:
        errors[BlockId.METRIC if has_select else BlockId.NEW_METRIC] = t("error.metric_missing", locale)
    target = number_value(values, BlockId.TARGET, errors, locale, required=True)
    baseline = number_value(values, BlockId.BASELINE, errors, locale, required=False)
    due = date_value(values, BlockId.DUE, locale)
    start = date_value(values, BlockId.START, locale)
    if due is None:
        errors[BlockId.DUE] = t("error.required", locale)
    elif start is not None and due < start:
        errors[BlockId.DUE] = t("error.deadline_before_start", locale, due=due.isoformat(), start=start.isoformat())
    elif start is None and due < today:
        errors[BlockId.DUE] = t("error.deadline_past", locale, due=due.isoformat())
    if errors:
        raise FieldErrors(errors)
    assert due is not None and metric
    return service.GoalCreate(
        title=title,
        metric=metric,
        target=target.value,
        target_percent=target.percent,
        currency=target.currency,
        due_on=due,
        start_on=start or today,
        baseline=baseline.value if baseline is not None else None,
        baseline_percent=baseline.percent if baseline is not None else False,
        owner_id=user_value(values, BlockId.OWNER),
        parent=ref_value(option_value(values, BlockId.PARENT), "goal"),
        channel=text_value(values, BlockId.CHANNEL) or None,
        slack_channel_id=channel_id,
    )


def submit_goal(runtime: Runtime, ack: Ack, sub: Submission) -> list[FollowUp]:
    team, user, locale = sub.team, sub.user, sub.locale
    today = today_of(runtime)

    def write(session: Session) -> tuple[Reply, str, list[str | None]]:
        data = parse_goal_form(sub.values, locale=locale, today=today, channel_id=sub.meta.get(M_CHANNEL))
        check_refs(session, team, locale, {BlockId.PARENT: (Goal, "goal", data.parent)})
        goal = service.create_goal(session, workspace_id=team, data=data, user_id=user)
        reply = views.goal_created(service.GoalCard.of(goal), today=today, actor=user, locale=locale)
        reply.in_channel = False
        notice = t("goal.set", locale, actor=mention(user, locale), n=goal.number, title=esc(goal.title))
        return reply, notice, [goal.owner_id]

    return record(runtime, ack, sub, error_block=BlockId.DUE, write=write)


# ---- the check-in button and form -------------------------------------------------------------------

@dataclass(frozen=True)
class CheckinForm:
    value: Any  # grammar.Number
    confidence: int | None
    note: str | None


def parse_checkin_form(values: JSON, *, locale: str) -> CheckinForm:
    errors: dict[str, str] = {}
    value = number_value(values, BlockId.VALUE, errors, locale, required=True)
    raw_confidence = option_value(values, BlockId.CONFIDENCE)
    confidence = None
    if raw_confidence is not None:
        if not raw_confidence.isdigit() or not 1 <= int(raw_confidence) <= 10:
            errors[BlockId.CONFIDENCE] = t("error.confidence", locale)
        else:
            confidence = int(raw_confidence)
    if errors:
        raise FieldErrors(errors)
    return CheckinForm(value=value, confidence=confidence, note=text_value(values, BlockId.NOTE) or None)


def open_checkin_modal(runtime: Runtime, body: JSON, client: WebClient) -> list[FollowUp]:
    team, user = team_of(body), user_of(body)
    locale = user_locale(runtime, client, team, user)
    home = from_home(body)
    try:
        number = parse_ref(str(first_action(body).get("value") or ""), "goal")
    except ParseError:
        return []
    today = today_of(runtime)
    with runtime.db.session(write=False) as session:
        try:
            goal = service.get_goal(session, workspace_id=team, number=number)
        except NotFound:
            return [tell(body, team, user, t("error.no_goal", locale, ref=f"G-{number}"), home=home)]
        if goal.status == "closed":
            return [tell(body, team, user, t("error.goal_closed", locale, ref=f"G-{number}"), home=home)]
        summary = views.goal_progress_line(service.GoalCard.of(goal), service.progress(session, goal=goal, today=today), today, locale=locale)
    view = modals.checkin_modal(locale=locale, ref=f"G-{number}", summary=summary,
                                metadata={**origin(body), M_REF: f"G-{number}", M_LOCALE: locale})
    return [OpenModal(view, str(body.get("trigger_id") or ""), team, locale, tell_failure=not home)]


def submit_checkin(runtime: Runtime, ack: Ack, sub: Submission) -> list[FollowUp]:
    team, user, meta, locale = sub.team, sub.user, sub.meta, sub.locale
    today = today_of(runtime)
    try:
        form = parse_checkin_form(sub.values, locale=locale)
        number = parse_ref(str(meta.get(M_REF) or ""), "goal")

        def checkin(session: Session) -> tuple[Any, ...]:
            goal, _row = service.checkin(
                session, workspace_id=team, number=number, value=form.value.value, percent=form.value.percent,
                confidence=form.confidence, note=form.note, user_id=user, by=Actor(user, runtime.clock()),
            )
            progress = service.progress(session, goal=goal, today=today)
            reply = views.goal_checked_in(service.GoalCard.of(goal), progress, today=today, actor=user, locale=locale)
            notice = ":white_check_mark: " + t("goal.checked_in", locale, n=goal.number, actor=mention(user, locale))
            return reply, goal.owner_id, notice

        reply, owner, notice = runtime.db.retrying(checkin)
    except FieldErrors as exc:
        return field_errors(ack, exc.errors)
    except (ParseError, NotFound):
        return field_errors(ack, {BlockId.VALUE: t("error.no_goal", locale, ref=str(meta.get(M_REF)))})
    except UserError as exc:
        return field_errors(ack, {BlockId.VALUE: exc.text(locale)})
    ack()
    told = confirmation(sub, reply, notice)
    return [told, RefreshHomes(team, (owner,), skip=user if isinstance(told, PublishHome) else None)]


def register(app: App, runtime: Runtime) -> None:
    on_action(app, runtime, ActionId.GOAL_CHECKIN, lambda body, client: open_checkin_modal(runtime, body, client))
    on_submission(app, runtime, CallbackId.GOAL_MODAL, lambda ack, sub: submit_goal(runtime, ack, sub))
    on_submission(app, runtime, CallbackId.GOAL_CHECKIN_MODAL, lambda ack, sub: submit_checkin(runtime, ack, sub))
