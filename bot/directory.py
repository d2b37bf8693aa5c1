"""Resolving `@name` to a Slack user id, through users.list, cached per workspace."""

from __future__ import annotations

import logging
import time
from threading import Lock
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


class UserDirectory:
    """Resolves `@name` to a user id through users.list, cached per workspace for a few minutes."""

    def __init__(self, ttl: float = 600.0) -> None:
        self.ttl = ttl
        self._cache: dict[str, tuple[float, dict[str, str]]] = {}
        self._lock = Lock()

    def find(self, client: WebClient, workspace_id: str, name: str) -> str | None:
        key = name.lstrip("@").casefold()
        with self._lock:
            cached = self._cache.get(workspace_id)
        if cached is None or time.monotonic() - cached[0] > self.ttl or key not in cached[1]:
            cached = (time.monotonic(), self._load(client))
            with self._lock:
                self._cache[workspace_id] = cached
        return cached[1].get(key)

    @staticmethod
    def _load(client: WebClient) -> dict[str, str]:
        names: dict[str, str] = {}
        cursor: str | None = None
        try:
            for _ in range(50):
                response = client.users_list(limit=200, cursor=cursor) if cursor else client.users_list(limit=200)
                members: list[dict[str, Any]] = response.get("members") or []
                for member in members:
                    if member.get("deleted"):
                        continue
                    profile = member.get("profile", {})
                    for candidate in (member.get("name"), profile.get("display_name"), profile.get("real_name")):
                        if candidate:
                            names.setdefault(str(candidate).casefold(), member["id"])
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except SlackApiError as exc:
            log.warning("users.list failed: %s", exc.response.get("error"))
        return names
