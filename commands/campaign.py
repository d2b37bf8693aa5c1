"""/campaign: promotions with dates, channels, budget, spend and ROI, risks, linked goals and documents; the
campaign form."""

from __future__ import annotations

import re

from slack_bolt import Ack, App
from sqlalchemy.orm import Session

from bot.i18n import Msg, mention, msg, t
from bot.ids import BlockId, CallbackId
from bot.render import modals, views
from bot.render.reply import Reply
from bot.render.text import esc
from bot.runtime import Runtime
from bot.services import campaigns as service
from bot.services.languages import team_language
from commands.base import (
    JSON,
    M_CHANNEL,
    CommandContext,
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
from commands.grammar import ParseError, parse_args, parse_date, parse_number, parse_ref
from storage.models import Goal

USAGE = """/campaign add <name> start:<date> end:<date> [channels:a,b] [budget:<amount>] [goal:<G>] [audience:"…"] [theme:"…"]
/campaign list [all]   /campaign show <C>   /campaign close <C>
/campaign spend <C> <amount> [channel:<name>] [date:<date>]
/campaign risk <C> <text>          /campaign doc <C> <url> [title]
Example: /campaign add "双十一 预售" start:11-01 end:11-11 channels:天猫,JD budget:¥200k goal:G-2
Type /campaign alone to fill in a form."""

ADD_OPTIONS = {
    "start": "start", "from": "start", "end": "end", "to": "end", "until": "end", "channels": "channels",
    "channel": "channels", "budget": "budget", "goal": "goal", "audience": "audience", "theme": "theme",
}


def parse_add(text: str, ctx: CommandContext) -> service.CampaignCreate:
    parsed = parse_args(text, options=ADD_OPTIONS, usage=USAGE)
    opts = parsed.options
    name = parsed.text().strip()
    missing: list[str | Msg] = [] if name else [msg("error.campaign.a_name")]
    missing += [f"`{k}:`" for k in ("start", "end") if k not in opts]
    if missing:
        raise ParseError.of("error.campaign.missing", usage=USAGE, missing=missing)
    budget = parse_number(opts["budget"]) if "budget" in opts else None
    if budget is not None and budget.percent:
        raise ParseError.of("error.budget_percent", usage=USAGE)
    channels = [c.strip() for c in re.split(r"[,，、]", opts.get("channels", "")) if c.strip()]
    return service.CampaignCreate(
        name=name,
        start_on=parse_date(opts["start"], today=ctx.today),
        end_on=parse_date(opts["end"], today=ctx.today),
        channels=channels,
        budget=budget.value if budget else None,
        currency=budget.currency if budget else None,
        goal=parse_ref(opts["goal"], "goal") if "goal" in opts else None,
        audience=opts.get("audience"),
        theme=opts.get("theme"),
        slack_channel_id=ctx.channel_id,
    )


def _ref_and_rest(rest: str, which: Msg) -> tuple[int, str]:
    """The campaign reference first and the rest of the text; `which` asks for the reference when there is none."""
    parts = rest.split(None, 1)
    if not parts:
        raise ParseError(which, USAGE)
    return parse_ref(parts[0], "campaign"), parts[1].strip() if len(parts) > 1 else ""


def handle(text: str, ctx: CommandContext) -> Reply:
    verb, rest = split_verb(text)
    loc = ctx.locale
    if verb in ("", "list", "ls"):
        include_closed = rest.lower() == "all"
        if rest and not include_closed:
            raise ParseError.of("error.command.takes_only_all", usage=USAGE, command="/campaign list", rest=rest)
        with ctx.db.session(write=False) as session:
            rows = service.list_campaigns(session, workspace_id=ctx.workspace_id, include_closed=include_closed)
            return views.campaign_list([service.summary(session, campaign=c) for c in rows], today=ctx.today, locale=loc)
    if verb in ("add", "new", "create"):
        data = parse_add(rest, ctx)
        with ctx.db.session() as session:
            campaign = service.create_campaign(session, workspace_id=ctx.workspace_id, data=data, user_id=ctx.user_id)
            # announced in the channel: in its team language, not the typist's
            team_loc = team_language(session, workspace_id=ctx.workspace_id, channel=ctx.channel_id)
            return views.campaign_created(service.summary(session, campaign=campaign), today=ctx.today, actor=ctx.user_id,
                                          locale=team_loc)
    if verb in ("show", "view"):
        number, extra = _ref_and_rest(rest, msg("error.campaign.which.show"))
        if extra:
            raise ParseError.of("error.campaign.extra", usage=USAGE, verb="show", extra=extra)
        with ctx.db.session(write=False) as session:
            campaign = service.get_campaign(session, workspace_id=ctx.workspace_id, number=number)
            return views.campaign_show(service.summary(session, campaign=campaign), today=ctx.today, locale=loc)
    if verb == "close":
        number, extra = _ref_and_rest(rest, msg("error.campaign.which.close"))
        if extra:
            raise ParseError.of("error.campaign.extra", usage=USAGE, verb="close", extra=extra)
        with ctx.db.session() as session:
            campaign, changed = service.close_campaign(session, workspace_id=ctx.workspace_id, number=number)
            return views.campaign_closed(
                service.summary(session, campaign=campaign), changed=changed, today=ctx.today, actor=ctx.user_id, locale=loc
            )
    if verb == "spend":
        number, tail = _ref_and_rest(rest, msg("error.campaign.which.spend"))
        parsed = parse_args(tail, options={"channel": "channel", "date": "date", "day": "date"}, usage=USAGE)
        if len(parsed.words) != 1:
            raise ParseError.of("error.campaign.one_amount", usage=USAGE)
        amount = parse_number(parsed.words[0].text)
        if amount.percent:
            raise ParseError.of("error.campaign.spend_percent", usage=USAGE)
        day = parse_date(parsed.options["date"], today=ctx.today) if "date" in parsed.options else ctx.today
        if day > ctx.today:
            raise ParseError.of("error.campaign.spend_future", usage=USAGE, day=day)
        with ctx.db.session() as session:
            campaign, row = service.add_spend(
                session, workspace_id=ctx.workspace_id, number=number, amount=amount.value,
                channel=parsed.options.get("channel", ""), day=day, user_id=ctx.user_id, currency=amount.currency,
            )
            return views.campaign_spent(service.summary(session, campaign=campaign), row, today=ctx.today, locale=loc)
    if verb == "risk":
        number, risk = _ref_and_rest(rest, msg("error.campaign.which.risk"))
        if not risk:
            raise ParseError.of("error.campaign.risk_text", usage=USAGE)
        risk = _unquote(risk)
        with ctx.db.session() as session:
            campaign, _row = service.add_risk(session, workspace_id=ctx.workspace_id, number=number, text=risk, user_id=ctx.user_id)
            return views.campaign_noted(campaign, t("campaign.risk_noted", loc, risk=risk))
    if verb in ("doc", "docs", "document"):
        number, tail = _ref_and_rest(rest, msg("error.campaign.which.doc"))
        parts = tail.split(None, 1)
        if not parts:
            raise ParseError.of("error.campaign.doc_link", usage=USAGE)
        url = parts[0]
        label = None
        if url.startswith("<") and url.endswith(">"):
            url, _, label = url[1:-1].partition("|")
        if not re.match(r"^https?://\S+$", url):
            raise ParseError.of("error.campaign.not_link", usage=USAGE, value=parts[0])
        title = _unquote(parts[1]) if len(parts) > 1 else (label or None)
        with ctx.db.session() as session:
            campaign, _doc = service.add_document(
                session, workspace_id=ctx.workspace_id, number=number, url=url, title=title, user_id=ctx.user_id
            )
            return views.campaign_noted(campaign, t("campaign.doc_linked", loc, link=f"<{url}|{esc(title or url)}>"), raw=True)
    raise ParseError.of("error.command.unknown_action", usage=USAGE, verb=verb, command="/campaign")


def _unquote(text: str) -> str:
    text = text.strip()
    for open_, close in (('"', '"'), ("“", "”"), ("「", "」")):
        if len(text) >= 2 and text.startswith(open_) and text.endswith(close):
            return text[1:-1]
    return text


def form_modal(*, locale: str, choices: modals.Choices, metadata: JSON) -> JSON:
    return modals.campaign_modal(locale=locale, choices=choices, metadata=metadata)


COMMAND = SlashCommand("/campaign", handle, USAGE, form=form_modal)


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
        summary = service.summary(session, campaign=campaign)
        notice = t("campaign.added", locale, actor=mention(user, locale), n=campaign.number, name=esc(campaign.name))
        return views.campaign_created(summary, today=today, actor=user, locale=locale), notice, []

    return record(runtime, ack, sub, error_block=BlockId.END, write=write)


def register(app: App, runtime: Runtime) -> None:
    on_submission(app, runtime, CallbackId.CAMPAIGN_MODAL, lambda ack, sub: submit_campaign(runtime, ack, sub))
