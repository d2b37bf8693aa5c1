"""/campaign: promotions with dates, channels, budget, spend and ROI, risks, linked goals and documents."""

from __future__ import annotations

import re

from bot.i18n import Msg, msg, t
from bot.locale import locale_in
from bot.render import views
from bot.render.reply import Reply
from bot.render.text import esc
from bot.services import campaigns as service
from commands.base import CommandContext, split_verb
from commands.grammar import ParseError, parse_args, parse_date, parse_number, parse_ref

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
    loc = locale_in(ctx.extra)
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
            return views.campaign_created(service.summary(session, campaign=campaign), today=ctx.today, actor=ctx.user_id, locale=loc)
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
