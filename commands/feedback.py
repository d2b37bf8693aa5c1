"""/feedback: customer and team feedback, tagged and tied to a campaign or goal."""

from __future__ import annotations

from bot.locale import locale_in
from bot.render import views
from bot.render.reply import Reply
from bot.services import feedback as service
from commands.base import CommandContext, split_verb
from commands.grammar import ParseError, parse_args, parse_choice, parse_ref, parse_tags

USAGE = """/feedback <text> [campaign:<C>] [goal:<G>] [from:customer|team] [#tag …]
/feedback list [campaign:<C>] [#tag]
Example: /feedback "Coupon rules were confusing on mobile" campaign:C-2 from:customer #checkout #mobile
Type /feedback alone to fill in a form."""

OPTIONS = {"campaign": "campaign", "goal": "goal", "from": "from", "source": "from"}


def parse_create(text: str) -> service.FeedbackCreate:
    parsed = parse_args(text, options=OPTIONS, usage=USAGE)
    words, tags = parse_tags(parsed.words)
    body = " ".join(t.text for t in words).strip()
    if not body:
        raise ParseError.of("error.feedback.text", usage=USAGE)
    opts = parsed.options
    source = parse_choice(opts["from"], ["customer", "team"], name="from") if "from" in opts else "team"
    return service.FeedbackCreate(
        text=body,
        source=source,
        tags=tags,
        campaign=parse_ref(opts["campaign"], "campaign") if "campaign" in opts else None,
        goal=parse_ref(opts["goal"], "goal") if "goal" in opts else None,
    )


def handle(text: str, ctx: CommandContext) -> Reply:
    verb, rest = split_verb(text)
    loc = locale_in(ctx.extra)
    if verb == "":
        raise ParseError.of("error.feedback.after_command", usage=USAGE)
    if verb in ("list", "ls"):
        parsed = parse_args(rest, options={"campaign"}, usage=USAGE)
        words, tags = parse_tags(parsed.words)
        if words or len(tags) > 1:
            raise ParseError.of("error.feedback.list_args", usage=USAGE)
        campaign = parse_ref(parsed.options["campaign"], "campaign") if "campaign" in parsed.options else None
        with ctx.db.session(write=False) as session:
            rows = service.list_feedback(session, workspace_id=ctx.workspace_id, campaign=campaign, tag=tags[0] if tags else None)
            return views.feedback_list(rows, today=ctx.today, tag=tags[0] if tags else None, locale=loc)
    data = parse_create(text)
    with ctx.db.session() as session:
        row = service.create_feedback(session, workspace_id=ctx.workspace_id, data=data, user_id=ctx.user_id)
        return views.feedback_created(row, locale=loc)
