"""/goal: SMART goals with a metric, target, deadline, owner and parent; check-ins and progress."""

from __future__ import annotations

import dataclasses
from datetime import date

from bot.i18n import Msg, msg
from bot.locale import locale_in
from bot.render import views
from bot.render.reply import Reply
from bot.services import goals as service
from commands.base import CommandContext, split_verb
from commands.grammar import ParseError, is_user_token, parse_args, parse_date, parse_number, parse_ref
from commands.kpi import metric_name

USAGE = """/goal add <title> metric:<kpi> target:<number> by:<date> [baseline:<n>] [start:<date>] [owner:@user] [parent:<G>] [channel:<name>]
/goal list [all]      /goal show <G>      /goal close <G>
/goal checkin <G> <value> [confidence:<1-10>] [note…]
Example: /goal add "Q4 天猫 GMV" metric:gmv target:¥2.5m by:eoq channel:天猫 owner:@ana
Type /goal alone to fill in a form."""

ADD_OPTIONS = {
    "metric": "metric", "kpi": "metric", "target": "target", "by": "by", "due": "by", "deadline": "by",
    "baseline": "baseline", "start": "start", "owner": "owner", "parent": "parent", "channel": "channel",
}


def parse_add(text: str, ctx: CommandContext) -> service.GoalCreate:
    parsed = parse_args(text, options=ADD_OPTIONS, usage=USAGE)
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
        raise ParseError.of("error.goal.missing", usage=USAGE, missing=missing)
    target = parse_number(opts["target"])
    baseline = parse_number(opts["baseline"]) if "baseline" in opts else None
    start = parse_date(opts["start"], today=ctx.today) if "start" in opts else ctx.today
    due = parse_date(opts["by"], today=ctx.today)
    if due < ctx.today and "start" not in opts:
        raise ParseError.of("error.deadline_past", usage=USAGE, due=due)
    return service.GoalCreate(
        title=title,
        metric=opts["metric"],
        target=target.value,
        target_percent=target.percent,
        currency=target.currency,
        due_on=due,
        start_on=start,
        baseline=baseline.value if baseline else None,
        owner_id=owner,
        parent=parse_ref(opts["parent"], "goal") if "parent" in opts else None,
        channel=opts.get("channel"),
        slack_channel_id=ctx.channel_id,
    )


def handle(text: str, ctx: CommandContext) -> Reply:
    verb, rest = split_verb(text)
    today: date = ctx.today
    loc = locale_in(ctx.extra)
    if verb in ("", "list", "ls"):
        include_closed = rest.lower() == "all"
        if rest and not include_closed:
            raise ParseError.of("error.command.takes_only_all", usage=USAGE, command="/goal list", rest=rest)
        with ctx.db.session(write=False) as session:
            rows = service.list_goals(session, workspace_id=ctx.workspace_id, include_closed=include_closed)
            return views.goal_list([(g, service.progress(session, goal=g, today=today)) for g in rows], today=today, locale=loc)
    if verb in ("add", "new", "create"):
        data = parse_add(rest, ctx)
        data = dataclasses.replace(data, metric=metric_name(ctx, data.metric))  # metric:K-2 is that metric
        with ctx.db.session() as session:
            goal = service.create_goal(session, workspace_id=ctx.workspace_id, data=data, user_id=ctx.user_id)
            _concerns(ctx, goal.owner_id)
            return views.goal_created(goal, today=today, actor=ctx.user_id, locale=loc)
    if verb in ("show", "view"):
        number = _single_ref(rest, "show")
        with ctx.db.session(write=False) as session:
            goal = service.get_goal(session, workspace_id=ctx.workspace_id, number=number)
            children = [(g, service.progress(session, goal=g, today=today)) for g in service.child_goals(session, goal=goal)]
            return views.goal_show(goal, service.progress(session, goal=goal, today=today), children, today=today, locale=loc)
    if verb == "close":
        number = _single_ref(rest, "close")
        with ctx.db.session() as session:
            goal, changed = service.close_goal(session, workspace_id=ctx.workspace_id, number=number)
            progress = service.progress(session, goal=goal, today=today)
            _concerns(ctx, goal.owner_id)
            return views.goal_closed(goal, progress, changed=changed, today=today, actor=ctx.user_id, locale=loc)
    if verb in ("checkin", "check-in", "update"):
        parsed = parse_args(rest, options={"confidence"}, usage=USAGE)
        if len(parsed.words) < 2:
            raise ParseError.of("error.goal.checkin_args", usage=USAGE)
        number = parse_ref(parsed.words[0].text, "goal")
        value = parse_number(parsed.words[1].text)
        confidence = None
        if "confidence" in parsed.options:
            raw = parsed.options["confidence"]
            if not raw.isdigit() or not 1 <= int(raw) <= 10:
                raise ParseError.of("error.goal.confidence", usage=USAGE, value=raw)
            confidence = int(raw)
        note = " ".join(t.text for t in parsed.words[2:]) or None
        with ctx.db.session() as session:
            goal, _row = service.checkin(
                session, workspace_id=ctx.workspace_id, number=number, value=value.value, percent=value.percent,
                confidence=confidence, note=note, user_id=ctx.user_id, currency=value.currency,
            )
            progress = service.progress(session, goal=goal, today=today)
            _concerns(ctx, goal.owner_id)
            return views.goal_checked_in(goal, progress, today=today, actor=ctx.user_id, locale=loc)
    raise ParseError.of("error.command.unknown_action", usage=USAGE, verb=verb, command="/goal")


def _concerns(ctx: CommandContext, *users: str | None) -> None:
    """Whose Home tab shows this goal (the listener refreshes them after the ack)."""
    ctx.extra.setdefault("home_users", [])
    ctx.extra["home_users"].extend(u for u in users if u)


def _single_ref(rest: str, what: str) -> int:
    """`what`: show or close (one message each)."""
    parts = rest.split()
    if len(parts) != 1:
        raise ParseError.of(f"error.goal.which.{what}", usage=USAGE)
    return parse_ref(parts[0], "goal")
