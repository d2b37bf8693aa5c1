"""What every slash command shares: its context, user resolution, and the ack wrapper that maps errors to private replies."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot.directory import PENDING, UserDirectory
from bot.errors import LocalizedError
from bot.i18n import t
from bot.locale import locale_in
from bot.render.reply import Builder, Reply
from commands.grammar import ParseError, UserRef, parse_user
from storage.db import CommitOutcomeUnknown, Database

log = logging.getLogger(__name__)


@dataclass
class CommandContext:
    db: Database
    workspace_id: str
    user_id: str
    channel_id: str
    now: datetime
    zone: ZoneInfo
    client: WebClient | None = None
    directory: UserDirectory | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    def resolve_user(self, value: str) -> str:
        ref = parse_user(value)
        return self.resolve(ref, value)

    def resolve(self, ref: UserRef, typed: str) -> str:
        if ref.user_id:
            return ref.user_id
        if self.directory is None or self.client is None or not ref.name:
            raise ParseError.of("error.command.cannot_look_up", typed=typed)
        if self.extra.get("after_ack"):
            user_id = self.directory.wait(self.client, self.workspace_id, ref.name)
            if user_id is None and not self.directory.is_loaded(self.workspace_id):
                raise ParseError.of("error.command.cannot_look_up", typed=typed)
        else:
            found = self.directory.lookup(self.client, self.workspace_id, ref.name)
            if found is PENDING:
                raise NameNotReady(ref.name)
            user_id = found  # type: ignore[assignment]
        if user_id is None:
            raise ParseError.of("error.command.unknown_person", typed=typed)
        return user_id


class NameNotReady(Exception):
    """A `@name` the directory cannot answer from memory yet: the command finishes after the ack."""


Handler = Callable[[str, CommandContext], Reply]


HELP_WORDS = ("help", "-h", "--help", "?", "帮助")


def run_handler(
    handler: Handler, text: str, ctx: CommandContext, usage: str, help_reply: Callable[[], Reply] | None = None
) -> Reply:
    """Run one command; bad input and unknown records become a private reply with the usage, and nothing is written.

    The reply is in the language the listener put in `ctx.extra` (read from the cache before the handler ran).
    """
    # PostgreSQL text cannot hold NUL; nobody types one on purpose.
    stripped = text.replace("\x00", "").strip()
    if stripped.lower() in HELP_WORDS:
        return help_reply() if help_reply else error_reply_usage(usage)
    locale = locale_in(ctx.extra)
    try:
        # One unit of work, run again from the start if the database connection is lost (a restart).
        return ctx.db.run(lambda: _attempt(handler, stripped, ctx))
    except NameNotReady:
        raise
    except LocalizedError as exc:  # ParseError, UserError, NotFound
        return localized_error_reply(exc.text(locale), exc.usage or usage, locale)
    except CommitOutcomeUnknown:
        error_id = uuid.uuid4().hex[:8]
        log.exception("commit outcome unknown (error id %s): %r", error_id, text)
        return localized_error_reply(t("error.commit_unknown", locale, error_id=error_id), None, locale)
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("command failed (error id %s): %r", error_id, text)
        return localized_error_reply(t("error.internal", locale, error_id=error_id), None, locale)


def _attempt(handler: Handler, text: str, ctx: CommandContext) -> Reply:
    ctx.extra.pop("home_users", None)  # what an attempt that was rolled back noted
    return handler(text, ctx)


def localized_error_reply(message: str, usage: str | None, locale: str | None) -> Reply:
    """`bot.render.reply.error_reply` with its "Usage" heading in `locale` (the usage itself is command syntax)."""
    b = Builder().section(f":warning: {message}")
    if usage:
        b.section(f"*{t('error.usage', locale)}*\n```{usage}```")
    return b.build(text=message + (f"\n{t('error.usage_plain', locale)}\n{usage}" if usage else ""))


def error_reply_usage(usage: str) -> Reply:
    return Builder().section(f"```{usage}```").build(text=usage)


def split_verb(text: str) -> tuple[str, str]:
    parts = text.split(None, 1)
    if not parts:
        return "", ""
    return parts[0].lower(), parts[1].strip() if len(parts) > 1 else ""
