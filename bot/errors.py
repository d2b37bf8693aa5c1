"""Errors that reach users: each becomes a clear private reply, never a stack trace.

An error names a catalog key and its parameters (`UserError.of("error.no_task", ref="T-9")`), so the reply
can be rendered in the reader's language with `.text(locale)`; `.message` is always the English text.
"""

from __future__ import annotations

from typing import Any, Self

from bot.i18n import EN, Msg


class LocalizedError(Exception):
    """An error whose message is a `Msg` (shown in the reader's language) or, for older callers, a plain text."""

    def __init__(self, message: str | Msg, usage: str | None = None) -> None:
        english = message.render(EN) if isinstance(message, Msg) else message
        super().__init__(english)
        self.message = english
        self.usage = usage
        self.msg = message if isinstance(message, Msg) else None

    @classmethod
    def of(cls, key: str, /, *, usage: str | None = None, **params: Any) -> Self:
        """The error for catalog `key` formatted with `params` (which may be `Msg`s or lists themselves)."""
        return cls(Msg(key, params), usage)

    def text(self, locale: str | None = None) -> str:
        """The message in `locale` (English when it is unknown, or when the error carries a plain text)."""
        return self.msg.render(locale) if self.msg is not None else self.message

    def with_usage(self, usage: str | None) -> Self:
        """The same error with `usage` filled in when it has none yet."""
        if self.usage or not usage:
            return self
        return type(self)(self.msg if self.msg is not None else self.message, usage)


class UserError(LocalizedError):
    """Something the user can fix: an unknown reference, a conflicting value, a missing record."""


class NotFound(UserError):
    pass


#: The longest title or name a record takes (the modals' `max_length` says the same), and free text.
TITLE_MAX = 500
TEXT_MAX = 3000


def check_length(value: str, *, field: str, limit: int = TITLE_MAX) -> str:
    """`value` unchanged, or a UserError naming the field and the limit: nothing longer is ever stored."""
    if len(value) > limit:
        raise UserError.of("error.too_long", field=field, limit=f"{limit:,}", length=f"{len(value):,}")
    return value
