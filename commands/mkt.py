"""/mkt: help for the whole bot (scheduling and digests join it with the scheduled posts)."""

from __future__ import annotations

from bot.render import views
from bot.render.reply import Reply
from commands.base import CommandContext, split_verb
from commands.grammar import ParseError

USAGE = """/mkt help
/mkt digest now
/mkt schedule digest <HH:MM> [tz:<IANA zone>] [days:mon-fri]
/mkt schedule report weekly <day> <HH:MM>
/mkt schedule list         /mkt unschedule <id>"""


def handle(text: str, ctx: CommandContext) -> Reply:
    verb, _rest = split_verb(text)
    if verb in ("", "help"):
        return views.bot_help()
    raise ParseError(f"`{verb}` is not a /mkt action.", USAGE)
