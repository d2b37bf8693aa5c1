"""/feedback: customer and team feedback, tagged and tied to a campaign or goal; the feedback form."""

from __future__ import annotations

import re

from slack_bolt import Ack, App
from sqlalchemy.orm import Session

from bot.i18n import t
from bot.ids import BlockId, CallbackId
from bot.render import modals, views
from bot.render.reply import Reply
from bot.runtime import Runtime
from bot.services import feedback as service
from commands.base import (
    JSON,
    M_PERMALINK,
    CommandContext,
    CommandDoc,
    FieldErrors,
    SlashCommand,
    Submission,
    check_refs,
    on_submission,
    option_value,
    record,
    ref_value,
    split_verb,
    text_value,
)
from commands.followups import FollowUp
from commands.grammar import ParseError, parse_args, parse_choice, parse_tags
from storage.models import Campaign, Goal

DOC = CommandDoc(
    "/feedback",
    forms=(
        "/feedback <text> [campaign:<C>] [goal:<G>] [from:customer|team] [#tag …]",
        "/feedback list [campaign:<C>] [#tag]",
    ),
    notes=(
        "usage.feedback.example",
        "usage.feedback.form",
    ),
    summary="help.feedback",
    example="/feedback \"Coupon unclear\" from:customer campaign:C-2 #coupon",
)

OPTIONS = {"campaign": "campaign", "goal": "goal", "from": "from", "source": "from"}


def parse_create(text: str, ctx: CommandContext) -> service.FeedbackCreate:
    parsed = parse_args(text, options=OPTIONS, usage=DOC.usage)
    words, tags = parse_tags(parsed.words)
    body = " ".join(t.text for t in words).strip()
    if not body:
        raise ParseError.of("error.feedback.text", usage=DOC.usage)
    opts = parsed.options
    source = parse_choice(opts["from"], ["customer", "team"], name="from") if "from" in opts else "team"
    return service.FeedbackCreate(
        text=body,
        source=source,
        tags=tags,
        campaign=ctx.record_number(opts["campaign"], "campaign") if "campaign" in opts else None,
        goal=ctx.record_number(opts["goal"], "goal") if "goal" in opts else None,
    )


def handle(text: str, ctx: CommandContext) -> Reply:
    verb, rest = split_verb(text)
    loc = ctx.locale
    if verb == "":
        raise ParseError.of("error.feedback.after_command", usage=DOC.usage)
    if verb in ("list", "ls"):
        parsed = parse_args(rest, options={"campaign"}, usage=DOC.usage)
        words, tags = parse_tags(parsed.words)
        if words or len(tags) > 1:
            raise ParseError.of("error.feedback.list_args", usage=DOC.usage)
        campaign = ctx.record_number(parsed.options["campaign"], "campaign") if "campaign" in parsed.options else None
        with ctx.db.session(write=False) as session:
            rows = service.list_feedback(session, workspace_id=ctx.workspace_id, campaign=campaign, tag=tags[0] if tags else None)
            return views.feedback_list([service.FeedbackItem.of(r) for r in rows], today=ctx.today, tag=tags[0] if tags else None, locale=loc)
    data = parse_create(text, ctx)
    with ctx.db.session() as session:
        row = service.create_feedback(session, workspace_id=ctx.workspace_id, data=data, user_id=ctx.user_id)
        return views.feedback_created(service.FeedbackItem.of(row), locale=loc)


def form_modal(*, locale: str, choices: modals.Choices, metadata: JSON,
               prefill: modals.FeedbackPrefill | None = None) -> JSON:
    return modals.feedback_modal(locale=locale, choices=choices, metadata=metadata, prefill=prefill)


COMMAND = SlashCommand(DOC, handle, form=form_modal)


def parse_tags_text(text: str) -> list[str]:
    """"#checkout #移动端", "checkout, mobile" → ["checkout", "移动端"] (as typed, without the #)."""
    return [tag.lstrip("#＃") for tag in re.split(r"[\s,，、]+", text) if tag.lstrip("#＃")]


def parse_feedback_form(values: JSON, *, locale: str, permalink: str | None = None) -> service.FeedbackCreate:
    body = text_value(values, BlockId.TEXT)
    if not body:
        raise FieldErrors({BlockId.TEXT: t("error.feedback_text", locale)})
    source = option_value(values, BlockId.SOURCE) or "team"
    if source not in ("customer", "team"):
        raise FieldErrors({BlockId.SOURCE: t("error.required", locale)})
    return service.FeedbackCreate(
        text=body,
        source=source,
        tags=parse_tags_text(text_value(values, BlockId.TAGS)),
        campaign=ref_value(option_value(values, BlockId.CAMPAIGN), "campaign"),
        goal=ref_value(option_value(values, BlockId.GOAL), "goal"),
        permalink=permalink,
    )


def submit_feedback(runtime: Runtime, ack: Ack, sub: Submission) -> list[FollowUp]:
    team, user, locale = sub.team, sub.user, sub.locale

    def write(session: Session) -> tuple[Reply, str, list[str | None]]:
        data = parse_feedback_form(sub.values, locale=locale, permalink=sub.meta.get(M_PERMALINK))
        check_refs(session, team, locale, {BlockId.CAMPAIGN: (Campaign, "campaign", data.campaign),
                                           BlockId.GOAL: (Goal, "goal", data.goal)})
        row = service.create_feedback(session, workspace_id=team, data=data, user_id=user)
        return views.feedback_created(service.FeedbackItem.of(row), locale=locale), t("feedback.recorded", locale, n=row.number), []

    return record(runtime, ack, sub, error_block=BlockId.TEXT, write=write)


def register(app: App, runtime: Runtime) -> None:
    on_submission(app, runtime, CallbackId.FEEDBACK_MODAL, lambda ack, sub: submit_feedback(runtime, ack, sub))
