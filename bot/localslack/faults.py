"""Fault injection for tests: canned answers (errors, rate limits, delays) and answers lost after the work
was done. A slow Slack for every answer is `LocalSlack.api_delay`.
"""

from __future__ import annotations

from collections import deque

from bot.localslack.records import Canned, JSONDict
from bot.localslack.workspace import Workspace


class Faults(Workspace):
    """Canned and lost Web API answers."""

    # ---- canned answers and lost answers -------------------------------------------------------------

    def add_response(
        self,
        method: str,
        *,
        status: int = 200,
        body: JSONDict | None = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """Queue a canned answer for the next `times` calls of `method` (FIFO). It replaces the normal
        behaviour entirely: nothing is stored. Defaults: 429 → ratelimited + Retry-After: 1."""
        hdrs = dict(headers or {})
        if body is None:
            if status == 429:
                body = {"ok": False, "error": "ratelimited"}
            elif status >= 400:
                body = {"ok": False, "error": "fatal_error"}
            else:
                body = {"ok": True}
        if status == 429 and not any(k.lower() == "retry-after" for k in hdrs):
            hdrs["Retry-After"] = "1"
        with self._lock:
            queue = self._canned.setdefault(method, deque())
            for _ in range(times):
                queue.append(Canned(status=status, body=body, headers=hdrs, delay=delay))

    def drop_answer(self, method: str, *, times: int = 1) -> None:
        """Do the next `times` calls of `method` for real, then close the connection without answering: the
        caller cannot tell whether Slack did it (a timeout or a dropped connection after the work was done)."""
        with self._lock:
            self._drops[method] = self._drops.get(method, 0) + times

    def fail_response_urls(self, *, times: int = 1) -> None:
        """Answer the next `times` posts to any response_url with a 500 and apply nothing (Slack's hooks
        endpoint having a bad moment)."""
        with self._lock:
            self._response_url_failures += times
