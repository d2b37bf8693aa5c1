"""/campaign: promotions with dates, channels, budget, spend and ROI, risks, linked goals and documents."""

from __future__ import annotations

import re

from bot.i18n import t
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
    missing = [] if name else ["a name"]
    missing += [f"`{k}:`" for k in ("start", "end") if k not in opts]
    if missing:
        raise ParseError("A campaign needs " + ", ".join(missing) + ".", USAGE)
    budget = parse_number(opts["budget"]) if "budget" in opts else None
    if budget is not None and budget.percent:
        raise ParseError("A budget is an amount like ¥200k or 50000, not a percentage.", USAGE)
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


def _ref_and_rest(rest: str, what: str, example: str) -> tuple[int, str]:
    parts = rest.split(None, 1)
    if not parts:
        raise ParseError(f"Say which campaign to {what}: `{example}`.", USAGE)
    return parse_ref(parts[0], "campaign"), parts[1].strip() if len(parts) > 1 else ""


def handle(text: str, ctx: CommandContext) -> Reply:
    verb, rest = split_verb(text)
    loc = locale_in(ctx.extra)
    if verb in ("", "list", "ls"):
        include_closed = rest.lower() == "all"
        if rest and not include_closed:
            raise ParseError(f"`/campaign list` takes only `all`; got `{rest}`.", USAGE)
        with ctx.db.session(write=False) as session:
            rows = service.list_campaigns(session, workspace_id=ctx.workspace_id, include_closed=include_closed)
            return views.campaign_list([service.summary(session, campaign=c) for c in rows], today=ctx.today, locale=loc)
    if verb in ("add", "new", "create"):
        data = parse_add(rest, ctx)
        with ctx.db.session() as session:
            campaign = service.create_campaign(session, workspace_id=ctx.workspace_id, data=data, user_id=ctx.user_id)
            return views.campaign_created(service.summary(session, campaign=campaign), today=ctx.today, actor=ctx.user_id, locale=loc)
    if verb in ("show", "view"):
        number, extra = _ref_and_rest(rest, "show", "/campaign show C-2")
        if extra:
            raise ParseError(f"`/campaign show` takes one reference; got extra `{extra}`.", USAGE)
        with ctx.db.session(write=False) as session:
            campaign = service.get_campaign(session, workspace_id=ctx.workspace_id, number=number)
            return views.campaign_show(service.summary(session, campaign=campaign), today=ctx.today, locale=loc)
    if verb == "close":
        number, extra = _ref_and_rest(rest, "close", "/campaign close C-2")
        if extra:
            raise ParseError(f"`/campaign close` takes one reference; got extra `{extra}`.", USAGE)
        with ctx.db.session() as session:
            campaign, changed = service.close_campaign(session, workspace_id=ctx.workspace_id, number=number)
            return views.campaign_closed(
                service.summary(session, campaign=campaign), changed=changed, today=ctx.today, actor=ctx.user_id, locale=loc
            )
    if verb == "spend":
        number, tail = _ref_and_rest(rest, "record spend on", "/campaign spend C-2 ¥5,000 channel:天猫")
        parsed = parse_args(tail, options={"channel": "channel", "date": "date", "day": "date"}, usage=USAGE)
        if len(parsed.words) != 1:
            raise ParseError("Give one amount: `/campaign spend C-2 ¥5,000 channel:天猫`.", USAGE)
        amount = parse_number(parsed.words[0].text)
        if amount.percent:
            raise ParseError("Spend is an amount like ¥5,000, not a percentage.", USAGE)
        day = parse_date(parsed.options["date"], today=ctx.today) if "date" in parsed.options else ctx.today
        with ctx.db.session() as session:
            campaign, row = service.add_spend(
                session, workspace_id=ctx.workspace_id, number=number, amount=amount.value,
                channel=parsed.options.get("channel", ""), day=day, user_id=ctx.user_id,
            )
            return views.campaign_spent(service.summary(session, campaign=campaign), row, today=ctx.today, locale=loc)
    if verb == "risk":
        number, risk = _ref_and_rest(rest, "add a risk to", "/campaign risk C-2 stock-out of the gift box")
        if not risk:
            raise ParseError("Describe the risk: `/campaign risk C-2 stock-out of the gift box; plan: pre-order`.", USAGE)
        risk = _unquote(risk)
        with ctx.db.session() as session:
            campaign, _row = service.add_risk(session, workspace_id=ctx.workspace_id, number=number, text=risk, user_id=ctx.user_id)
            return views.campaign_noted(campaign, t("campaign.risk_noted", loc, risk=risk))
    if verb in ("doc", "docs", "document"):
        number, tail = _ref_and_rest(rest, "attach a document to", "/campaign doc C-2 https://… Plan")
        parts = tail.split(None, 1)
        if not parts:
            raise ParseError("Give the document's link: `/campaign doc C-2 https://docs.example.com/plan Plan`.", USAGE)
        url = parts[0]
        label = None
        if url.startswith("<") and url.endswith(">"):
            url, _, label = url[1:-1].partition("|")
        if not re.match(r"^https?://\S+$", url):
            raise ParseError(f"`{parts[0]}` is not a link; it must start with http:// or https://.", USAGE)
        title = _unquote(parts[1]) if len(parts) > 1 else (label or None)
        with ctx.db.session() as session:
            campaign, _doc = service.add_document(
                session, workspace_id=ctx.workspace_id, number=number, url=url, title=title, user_id=ctx.user_id
            )
            return views.campaign_noted(campaign, t("campaign.doc_linked", loc, link=f"<{url}|{esc(title or url)}>"), raw=True)
    raise ParseError(f"`{verb}` is not a /campaign action.", USAGE)


def _unquote(text: str) -> str:
    text = text.strip()
    for open_, close in (('"', '"'), ("“", "”"), ("「", "」")):
        if len(text) >= 2 and text.startswith(open_) and text.endswith(close):
            return text[1:-1]
    return text
