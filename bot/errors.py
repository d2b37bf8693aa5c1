"""Errors that reach users: each becomes a clear private reply, never a stack trace."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix: an unknown reference, a conflicting value, a missing record."""

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage


class NotFound(UserError):
    pass
