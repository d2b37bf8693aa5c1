"""Resolving `@name` to a Slack user id, through users.list, cached per workspace.

users.list is never called on the ack path: loads run in a background thread, at most one per workspace
at a time and at most one per `min_interval` seconds (after a 429, not before Slack's Retry-After), and a
failed load keeps the directory already held.
A name that cannot be answered from memory yet is PENDING: the caller finishes after the ack (`wait`)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Final

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


class _Pending:
    def __repr__(self) -> str:
        return "PENDING"


#: `lookup` answer: the name may exist, but the directory is still loading
PENDING: Final = _Pending()


class _Workspace:
    def __init__(self) -> None:
        self.names: dict[str, str] | None = None  # None: never loaded
        self.loaded_at = 0.0
        self.next_load_at = float("-inf")  # rate limit: no load starts before this (monotonic)
        self.failures = 0
        self.loading: threading.Event | None = None  # set when the load in flight ends


class UserDirectory:
    """Resolves `@name` to a user id; reloaded after `ttl` seconds, in the background."""

    def __init__(self, ttl: float = 600.0, min_interval: float = 10.0) -> None:
        self.ttl = ttl
        self.min_interval = min_interval
        self._workspaces: dict[str, _Workspace] = {}
        self._lock = threading.Lock()

    def warm(self, client: WebClient, workspace_id: str) -> None:
        """Start a load in the background (unless one ran less than `min_interval` ago)."""
        with self._lock:
            self._start_load(client, workspace_id, self._workspace(workspace_id))

    def lookup(self, client: WebClient, workspace_id: str, name: str, *, grace: float = 0.15) -> str | _Pending | None:
        """From memory: the user id, None when the name is unknown, or PENDING while a load that may know
        it is under way (a reload is started for a stale directory or an unknown name). A load that started
        is given `grace` seconds (a healthy users.list answers in far less), never more."""
        found = self._lookup(client, workspace_id, name)
        if found is PENDING and grace > 0:
            with self._lock:
                loading = self._workspace(workspace_id).loading
            if loading is not None and loading.wait(grace):
                found = self._lookup(client, workspace_id, name, reload=False)
        return found

    def _lookup(self, client: WebClient, workspace_id: str, name: str, *, reload: bool = True) -> str | _Pending | None:
        key = name.lstrip("@").casefold()
        with self._lock:
            ws = self._workspace(workspace_id)
            now = time.monotonic()
            if ws.names is not None and now - ws.loaded_at > self.ttl:
                self._start_load(client, workspace_id, ws)
            if ws.names is not None and key in ws.names:
                return ws.names[key]
            if reload:
                self._start_load(client, workspace_id, ws)
            return PENDING if ws.loading is not None or ws.names is None else None

    def wait(self, client: WebClient, workspace_id: str, name: str, timeout: float = 30.0) -> str | None:
        """Off the ack path: wait for the load in flight (starting one if allowed), then answer."""
        key = name.lstrip("@").casefold()
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                ws = self._workspace(workspace_id)
                if ws.names is not None and key in ws.names:
                    return ws.names[key]
                self._start_load(client, workspace_id, ws)
                loading = ws.loading
            remaining = deadline - time.monotonic()
            if loading is not None and remaining > 0:
                loading.wait(remaining)
                with self._lock:
                    if ws.names is not None:
                        return ws.names.get(key)
            elif ws.names is not None or remaining <= 0:
                return None
            else:
                time.sleep(min(remaining, 0.5))  # the last load failed; the next may start soon

    def is_loaded(self, workspace_id: str) -> bool:
        with self._lock:
            ws = self._workspaces.get(workspace_id)
            return ws is not None and ws.names is not None

    def _workspace(self, workspace_id: str) -> _Workspace:
        return self._workspaces.setdefault(workspace_id, _Workspace())

    def _start_load(self, client: WebClient, workspace_id: str, ws: _Workspace) -> None:
        """Under the lock: start one load unless one is in flight or one started under `min_interval` ago."""
        now = time.monotonic()
        if ws.loading is not None or now < ws.next_load_at:
            return
        ws.next_load_at = now + self.min_interval
        done = ws.loading = threading.Event()

        def run() -> None:
            try:
                names, retry_after = self._load(client)
                with self._lock:
                    if names is not None:
                        ws.names, ws.loaded_at, ws.failures = names, time.monotonic(), 0
                    else:  # keep what we had; try again soon, backing off, never before Slack's Retry-After
                        ws.failures += 1
                        backoff = max(min(self.min_interval, 0.5 * 2 ** ws.failures), retry_after)
                        ws.next_load_at = time.monotonic() + backoff
            finally:
                with self._lock:
                    ws.loading = None
                done.set()

        threading.Thread(target=run, name=f"mktbot-directory-{workspace_id}", daemon=True).start()

    @staticmethod
    def _load(client: WebClient) -> tuple[dict[str, str] | None, float]:
        """Every member by name, display name and real name, or None when Slack did not answer in full; and
        the seconds Slack asked to wait before the next call (its Retry-After on a 429, else 0)."""
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
            return None, _retry_after(exc) if exc.response.status_code == 429 else 0.0
        except Exception:
            log.exception("users.list failed")
            return None, 0.0
        return names, 0.0


def _retry_after(exc: SlackApiError, ceiling: float = 600.0) -> float:
    """Slack's Retry-After (seconds) on a 429, bounded; 1 s when it is missing or unreadable."""
    headers = exc.response.headers or {}
    raw = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    try:
        return min(max(float(raw), 0.0), ceiling) if raw is not None else 1.0
    except (TypeError, ValueError):
        return 1.0
