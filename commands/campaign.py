"""/campaign: promotions with dates, channels, budget, spend and ROI, risks, linked goals and documents; the
campaign form."""

from __future__ import annotations

import re

from slack_bolt import Ack, App
from sqlalchemy.orm import Session

from bot.i18n import Msg, msg, t
from bot.i18n.fmt import mention
from bot.ids import BlockId, CallbackId
from bot.render import modals, views
from bot.render.reply import Reply
from bot.runtime import Runtime
from bot.services import campaigns as service
from bot.services.languages import team_language
from bot.services.notifications import Actor
from bot.slack_text import SAFE_URL, esc, link
from commands.base import (
    JSON,
    M_CHANNEL,
    CommandContext,
    CommandDoc,
    FieldErrors,
    SlashCommand,
    Submission,
    check_refs,
    date_value,
    number_value,
    on_submission,
    option_value,
    record,
    ref_value,
    split_verb,
    text_value,
    today_of,
)
from commands.followups import FollowUp
from commands.grammar import ParseError, first_word, parse_args, parse_date, parse_number
from storage.models import Goal

DOC = CommandDoc(
    "/campaign",
    forms=(
        "/campaign add <name> start:<date> end:<date> [channels:a,b] [budget:<amount>] [goal:<G>] [audience:\"…\"] [theme:\"…\"]",
        "/campaign list [all]   /campaign show <C>   /campaign close <C>",
        "/campaign spend <C> <amount> [channel:<name>] [date:<date>]",
        "/campaign risk <C> <text>          /campaign doc <C> <url> [title]",
    ),
    notes=(
        "usage.campaign.example",
        "usage.campaign.form",
    ),
    summary="help.campaign",
    example="/campaign add \"双十一\" start:11-01 end:11-11 budget:¥200k",
)

ADD_OPTIONS = {
    "start": "start", "from": "start", "end": "end", "to": "end", "until": "end", "channels": "channels",
    "channel": "channels", "budget": "budget", "goal": "goal", "audience": "audience", "theme": "theme",
}


def parse_add(text: str, ctx: CommandContext) -> service.CampaignCreate:
    parsed = parse_args(text, options=ADD_OPTIONS, usage=DOC.usage)
    opts = parsed.options
    name = parsed.text().strip()
    missing: list[str | Msg] = [] if name else [msg("error.campaign.a_name")]
    missing += [f"`{k}:`" for k in ("start", "end") if k not in opts]
    if missing:
        raise ParseError.of("error.campaign.missing", usage=DOC.usage, missing=missing)
    budget = parse_number(opts["budget"]) if "budget" in opts else None
    if budget is not None and budget.percent:
        raise ParseError.of("error.budget_percent", usage=DOC.usage)
    channels = [c.strip() for c in re.split(r"[,，、]", opts.get("channels", "")) if c.strip()]
    return service.CampaignCreate(
        name=name,
        start_on=parse_date(opts["start"], today=ctx.today),
        end_on=parse_date(opts["end"], today=ctx.today),
        channels=channels,
        budget=budget.value if budget else None,
        currency=budget.currency if budget else None,
        goal=ctx.record_number(opts["goal"], "goal") if "goal" in opts else None,
        audience=opts.get("audience"),
        theme=opts.get("theme"),
        slack_channel_id=ctx.channel_id,
    )


def _ref_and_rest(rest: str, which: Msg, ctx: CommandContext) -> tuple[int, str]:
    """The campaign first, by reference or by (quoted) name, and the rest of the text; `which` asks for the campaign
    when there is none."""
    try:
        first, tail = first_word(rest)
    except ParseError as exc:
        raise exc.with_usage(DOC.usage) from None
    if not first:
        raise ParseError(which, DOC.usage)
    return ctx.record_number(first, "campaign"), tail


def handle(text: str, ctx: CommandContext) -> Reply:
    verb, rest = split_verb(text)
    loc = ctx.locale
    if verb in ("", "list", "ls"):
        include_closed = rest.lower() == "all"
        if rest and not include_closed:
            raise ParseError.of("error.command.takes_only_all", usage=DOC.usage, command="/campaign list", rest=rest)
        with ctx.db.session(write=False) as session:
            rows = service.list_campaigns(session, workspace_id=ctx.workspace_id, include_closed=include_closed)
            return views.campaign_list([service.card(session, campaign=c, today=ctx.today) for c in rows], today=ctx.today, locale=loc)
    if verb in ("add", "new", "create"):
        data = parse_add(rest, ctx)
        with ctx.db.session() as session:
            campaign = service.create_campaign(session, workspace_id=ctx.workspace_id, data=data, user_id=ctx.user_id)
            # announced in the channel: in its team language, not the typist's
            team_loc = team_language(session, workspace_id=ctx.workspace_id, channel=ctx.channel_id)
            return views.campaign_created(service.card(session, campaign=campaign, today=ctx.today), today=ctx.today,
                                          actor=ctx.user_id, locale=team_loc)
    if verb in ("show", "view"):
        number, extra = _ref_and_rest(rest, msg("error.campaign.which.show"), ctx)
        if extra:
            raise ParseError.of("error.campaign.extra", usage=DOC.usage, verb="show", extra=extra)
        with ctx.db.session(write=False) as session:
            campaign = service.get_campaign(session, workspace_id=ctx.workspace_id, number=number)
            return views.campaign_show(service.card(session, campaign=campaign, today=ctx.today), today=ctx.today, locale=loc)
    if verb == "close":
        number, extra = _ref_and_rest(rest, msg("error.campaign.which.close"), ctx)
        if extra:
            raise ParseError.of("error.campaign.extra", usage=DOC.usage, verb="close", extra=extra)
        with ctx.db.session() as session:
            campaign, changed = service.close_campaign(session, workspace_id=ctx.workspace_id, number=number,
                                                       by=Actor(ctx.user_id, ctx.now))
            return views.campaign_closed(
                service.card(session, campaign=campaign, today=ctx.today), changed=changed, today=ctx.today, actor=ctx.user_id, locale=loc
            )
    if verb == "spend":
        number, tail = _ref_and_rest(rest, msg("error.campaign.which.spend"), ctx)
        parsed = parse_args(tail, options={"channel": "channel", "date": "date", "day": "date"}, usage=DOC.usage)
        if len(parsed.words) != 1:
            raise ParseError.of("error.campaign.one_amount", usage=DOC.usage)
        amount = parse_number(parsed.words[0].text)
        if amount.percent:
            raise ParseError.of("error.campaign.spend_percent", usage=DOC.usage)
        day = parse_date(parsed.options["date"], today=ctx.today) if "date" in parsed.options else ctx.today
        if day > ctx.today:
            raise ParseError.of("error.campaign.spend_future", usage=DOC.usage, day=day)
        with ctx.db.session() as session:
            campaign, row = service.add_spend(
                session, workspace_id=ctx.workspace_id, number=number, amount=amount.value,
                channel=parsed.options.get("channel", ""), day=day, user_id=ctx.user_id, currency=amount.currency,
            )
            return views.campaign_spent(service.card(session, campaign=campaign, today=ctx.today), service.SpendEntry.of(row), today=ctx.today, locale=loc)
    if verb == "risk":
        number, risk = _ref_and_rest(rest, msg("error.campaign.which.risk"), ctx)
        if not risk:
            raise ParseError.of("error.campaign.risk_text", usage=DOC.usage)
        risk = _unquote(risk)
        with ctx.db.session() as session:
            campaign, _row = service.add_risk(session, workspace_id=ctx.workspace_id, number=number, text=risk, user_id=ctx.user_id)
            return views.campaign_noted(campaign.number, campaign.name, t("campaign.risk_noted", loc, risk=risk), locale=loc)
    if verb in ("doc", "docs", "document"):
        number, tail = _ref_and_rest(rest, msg("error.campaign.which.doc"), ctx)
        parts = tail.split(None, 1)
        if not parts:
            raise ParseError.of("error.campaign.doc_link", usage=DOC.usage)
        url = parts[0]
        label = None
        if url.startswith("<") and url.endswith(">"):
            url, _, label = url[1:-1].partition("|")
        if not re.match(r"^https?://", url):
            raise ParseError.of("error.campaign.not_link", usage=DOC.usage, value=esc(parts[0]))
        if not SAFE_URL.match(url):  # a typed `<`, `>` or `|` inside it could carry markup such as <!channel>
            raise ParseError.of("error.campaign.unsafe_link", usage=DOC.usage, value=esc(parts[0]))
        title = _unquote(parts[1]) if len(parts) > 1 else (label or None)
        with ctx.db.session() as session:
            campaign, _doc = service.add_document(
                session, workspace_id=ctx.workspace_id, number=number, url=url, title=title, user_id=ctx.user_id
            )
            return views.campaign_noted(campaign.number, campaign.name, t("campaign.doc_linked", loc, link=link(url, title)), raw=True,
                                       locale=loc)
    raise ParseError.of("error.command.unknown_action", usage=DOC.usage, verb=verb, command="/campaign")


def _unquote(text: str) -> str:
    text = text.strip()
    for open_, close in (('"', '"'), ("“", "”"), ("「", "」")):
        if len(text) >= 2 and text.startswith(open_) and text.endswith(close):
            return text[1:-1]
    return text


def form_modal(*, locale: str, choices: modals.Choices, metadata: JSON) -> JSON:
    return modals.campaign_modal(locale=locale, choices=choices, metadata=metadata)


COMMAND = SlashCommand(DOC, handle, form=form_modal)


def parse_campaign_form(values: JSON, *, locale: str, channel_id: str | None) -> service.CampaignCreate:
    errors: dict[str, str] = {}
    name = " ".join(text_value(values, BlockId.NAME).split())
    if not name:
        errors[BlockId.NAME] = t("error.campaign_name", locale)
    start, end = date_value(values, BlockId.START, locale), date_value(values, BlockId.END, locale)
    if start is None:
        errors[BlockId.START] = t("error.required", locale)
    if end is None:
        errors[BlockId.END] = t("error.required", locale)
    elif start is not None and end < start:
        errors[BlockId.END] = t("error.end_before_start", locale, end=end.isoformat(), start=start.isoformat())
    budget = number_value(values, BlockId.BUDGET, errors, locale, required=False)
    if budget is not None and budget.percent:
        errors[BlockId.BUDGET] = t("error.budget_percent", locale)
    elif budget is not None and budget.value < 0:
        errors[BlockId.BUDGET] = t("error.budget_negative", locale)
    if errors:
        raise FieldErrors(errors)
    assert start is not None and end is not None
    channels = [c.strip() for c in re.split(r"[,，、]", text_value(values, BlockId.CHANNELS)) if c.strip()]
    return service.CampaignCreate(
        name=name,
        start_on=start,
        end_on=end,
        channels=channels,
        budget=budget.value if budget is not None else None,
        currency=budget.currency if budget is not None else None,
        goal=ref_value(option_value(values, BlockId.GOAL), "goal"),
        audience=text_value(values, BlockId.AUDIENCE) or None,
        theme=text_value(values, BlockId.THEME) or None,
        slack_channel_id=channel_id,
    )


def submit_campaign(runtime: Runtime, ack: Ack, sub: Submission) -> list[FollowUp]:
    team, user, locale = sub.team, sub.user, sub.locale
    today = today_of(runtime)

    def write(session: Session) -> tuple[Reply, str, list[str | None]]:
        data = parse_campaign_form(sub.values, locale=locale, channel_id=sub.meta.get(M_CHANNEL))
        check_refs(session, team, locale, {BlockId.GOAL: (Goal, "goal", data.goal)})
        campaign = service.create_campaign(session, workspace_id=team, data=data, user_id=user)
        summary = service.card(session, campaign=campaign, today=today)
        notice = t("campaign.added", locale, actor=mention(user, locale), n=campaign.number, name=esc(campaign.name))
        return views.campaign_created(summary, today=today, actor=user, locale=locale), notice, []

    return record(runtime, ack, sub, error_block=BlockId.END, write=write)


def register(app: App, runtime: Runtime) -> None:
    on_submission(app, runtime, CallbackId.CAMPAIGN_MODAL, lambda ack, sub: submit_campaign(runtime, ack, sub))
