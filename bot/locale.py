"""Which language to answer a user in: their Slack locale (users.info include_locale, cached), else the workspace's.

The ack path only reads the cache (`for_user`); a miss answers in the workspace default and a lazy
listener calls `warm`, so a slow users.info never delays an acknowledgement.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from threading import Lock
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.i18n import DEFAULT_LOCALE, normalize
from storage.db import Database
from storage.models import Workspace

log = logging.getLogger(__name__)

USER_TTL = 6 * 3600.0  # people rarely switch language; a day-old answer is fine
MISS_TTL = 300.0  # after a failed lookup, try again in a few minutes
WORKSPACE_TTL = 600.0


class Locales:
    """A per-process TTL cache of user and workspace locales (one of bot.i18n.LOCALES)."""

    def __init__(self, *, ttl: float = USER_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._users: dict[tuple[str, str], tuple[float, str | None]] = {}
        self._workspaces: dict[str, tuple[float, str]] = {}
        self._lock = Lock()

    # ---- the cache -----------------------------------------------------------------------------

    def cached(self, workspace_id: str, user_id: str) -> str | None:
        """The user's own locale if we know it (and speak it); None when unknown or not cached."""
        with self._lock:
            entry = self._users.get((workspace_id, user_id))
        if entry is None or entry[0] < self.clock():
            return None
        return entry[1]

    def is_cached(self, workspace_id: str, user_id: str) -> bool:
        with self._lock:
            entry = self._users.get((workspace_id, user_id))
        return entry is not None and entry[0] >= self.clock()

    def remember(self, workspace_id: str, user_id: str, locale: str | None, *, ttl: float | None = None) -> None:
        with self._lock:
            self._users[(workspace_id, user_id)] = (self.clock() + (self.ttl if ttl is None else ttl), locale)

    def forget(self, workspace_id: str, user_id: str) -> None:
        with self._lock:
            self._users.pop((workspace_id, user_id), None)

    # ---- workspace default ---------------------------------------------------------------------

    def workspace_default(self, db: Database | None, workspace_id: str) -> str:
        """The workspace's language (workspaces.locale), English when unset."""
        with self._lock:
            entry = self._workspaces.get(workspace_id)
        if entry is not None and entry[0] >= self.clock():
            return entry[1]
        locale = DEFAULT_LOCALE
        if db is not None and workspace_id:
            try:
                with db.session(write=False) as session:
                    row = session.get(Workspace, workspace_id)
                    locale = normalize(row.locale if row is not None else None) or DEFAULT_LOCALE
            except Exception:  # a missing table in a half-migrated test database must not break a reply
                log.exception("could not read the workspace locale of %s", workspace_id)
        with self._lock:
            self._workspaces[workspace_id] = (self.clock() + WORKSPACE_TTL, locale)
        return locale

    # ---- what callers use ----------------------------------------------------------------------

    def for_user(self, db: Database | None, workspace_id: str, user_id: str) -> str:
        """Cache only (safe on the ack path): the user's locale, else the workspace default."""
        return self.cached(workspace_id, user_id) or self.workspace_default(db, workspace_id)

    def fetch(self, client: WebClient, workspace_id: str, user_id: str) -> str | None:
        """Ask Slack (users.info with include_locale) and remember the answer."""
        try:
            response: Any = client.users_info(user=user_id, include_locale=True)
        except SlackApiError as exc:
            log.warning("users.info for %s failed: %s", user_id, exc.response.get("error"))
            self.remember(workspace_id, user_id, None, ttl=MISS_TTL)
            return None
        except Exception:
            log.warning("users.info for %s failed", user_id, exc_info=True)
            self.remember(workspace_id, user_id, None, ttl=MISS_TTL)
            return None
        locale = normalize((response.get("user") or {}).get("locale"))
        self.remember(workspace_id, user_id, locale)
        return locale

    def warm(self, client: WebClient, workspace_id: str, user_id: str) -> None:
        """Off the ack path: make sure the next reply to this user is in their language."""
        if workspace_id and user_id and not self.is_cached(workspace_id, user_id):
            self.fetch(client, workspace_id, user_id)

    def resolve(self, client: WebClient, db: Database | None, workspace_id: str, user_id: str) -> str:
        """Off the ack path (lazy listeners): warm the cache if needed, then answer."""
        self.warm(client, workspace_id, user_id)
        return self.for_user(db, workspace_id, user_id)

