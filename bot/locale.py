"""Which language to answer a user in: their Slack locale (users.info include_locale, cached), else the workspace's.

The ack path only reads the cache (`for_user`); a miss answers in the workspace default and a lazy
listener calls `warm`, so a slow users.info never delays an acknowledgement. The workspace's own Slack
language (team.info `team.locale`) is looked up the same way, off the ack path, at most once per
TEAM_TTL per process, and kept in workspaces.locale: it is what `auto` means for the team's posts, and the
language a person is answered in before their own is known.
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
from bot.services.languages import team_language
from bot.services.refs import ensure_workspace
from storage.db import Database
from storage.models import Workspace

log = logging.getLogger(__name__)

USER_TTL = 6 * 3600.0  # people rarely switch language; a day-old answer is fine
MISS_TTL = 300.0  # after a failed lookup, try again in a few minutes
TEAM_LANGUAGE_TTL = 30.0  # `/mkt language` is seen by someone not looked up yet within half a minute
TEAM_TTL = 6 * 3600.0  # team.info: a workspace's language changes about never


class Locales:
    """A per-process TTL cache of user and workspace locales (one of bot.i18n.LOCALES)."""

    def __init__(self, *, ttl: float = USER_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._users: dict[tuple[str, str], tuple[float, str | None]] = {}
        self._workspaces: dict[tuple[str, str], tuple[float, str]] = {}  # (workspace, channel) -> team language
        self._teams_asked: dict[str, float] = {}  # workspace -> when team.info may be asked again
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

    def workspace_default(self, db: Database | None, workspace_id: str, channel: str | None = None) -> str:
        """The team language where someone writes (bot.services.languages.team_language: the channel's setting,
        the workspace's, else its Slack language), English when none is known; cached for TEAM_LANGUAGE_TTL."""
        key = (workspace_id, channel or "")
        with self._lock:
            entry = self._workspaces.get(key)
        if entry is not None and entry[0] >= self.clock():
            return entry[1]
        locale = DEFAULT_LOCALE
        if db is not None and workspace_id:
            try:
                with db.session(write=False) as session:
                    locale = team_language(session, workspace_id=workspace_id, channel=channel)
            except Exception:  # a missing table in a half-migrated test database must not break a reply
                log.exception("could not read the team language of %s", workspace_id)
        with self._lock:
            self._workspaces[key] = (self.clock() + TEAM_LANGUAGE_TTL, locale)
        return locale

    # ---- what callers use ----------------------------------------------------------------------

    def for_user(self, db: Database | None, workspace_id: str, user_id: str, channel: str | None = None) -> str:
        """Cache only (safe on the ack path): the user's locale, else the team language where they write."""
        return self.cached(workspace_id, user_id) or self.workspace_default(db, workspace_id, channel)

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

    def warm(self, client: WebClient, workspace_id: str, user_id: str, *, db: Database | None = None) -> None:
        """Off the ack path: make sure the next reply to this user is in their language (and, with a database,
        that the workspace's own language is known)."""
        if db is not None:
            self.warm_workspace(client, db, workspace_id)
        if workspace_id and user_id and not self.is_cached(workspace_id, user_id):
            self.fetch(client, workspace_id, user_id)

    def needs_warming(self, workspace_id: str, user_id: str) -> bool:
        """Whether `warm` has something to ask Slack (the person's language, or the workspace's)."""
        with self._lock:
            team_due = self._teams_asked.get(workspace_id, 0.0) <= self.clock()
        return team_due or not self.is_cached(workspace_id, user_id)

    def warm_workspace(self, client: WebClient, db: Database, workspace_id: str) -> None:
        """Off the ack path: team.info's locale into workspaces.locale (once per TEAM_TTL per process).

        A failed or empty answer keeps what is stored; a language the bot does not speak is stored as Slack says
        it and read as English, so a workspace switched from Chinese to Japanese stops getting Chinese."""
        if not workspace_id:
            return
        now = self.clock()
        with self._lock:
            if self._teams_asked.get(workspace_id, 0.0) > now:
                return
            self._teams_asked[workspace_id] = now + TEAM_TTL
        try:
            response: Any = client.team_info()
        except Exception as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
            log.warning("team.info for %s failed: %s", workspace_id, error)
            with self._lock:
                self._teams_asked[workspace_id] = now + MISS_TTL
            return
        raw = (response.get("team") or {}).get("locale")
        if not raw:
            return
        tag = str(raw)[:16]  # as Slack says it (zh-CN, ja-JP): read through normalize, like every locale
        try:
            with db.session() as session:
                ensure_workspace(session, workspace_id)
                row = session.get(Workspace, workspace_id)
                if row is not None and row.locale != tag:
                    row.locale = tag
        except Exception:
            log.exception("could not store the workspace locale of %s", workspace_id)
            return
        with self._lock:
            for key in [k for k in self._workspaces if k[0] == workspace_id]:
                del self._workspaces[key]  # read again with the workspace's language now known

    def resolve(self, client: WebClient, db: Database | None, workspace_id: str, user_id: str) -> str:
        """Off the ack path (lazy listeners): warm the cache if needed, then answer."""
        self.warm(client, workspace_id, user_id, db=db)
        return self.for_user(db, workspace_id, user_id)

