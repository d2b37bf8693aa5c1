"""The playground's clock: real time plus an offset the clock panel moves forward."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class ShiftableClock:
    """Callable like `bot.runtime.system_clock` (an aware UTC datetime); `timestamp()` serves LocalSlack."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            offset = self._offset
        return datetime.now(UTC) + offset

    def timestamp(self) -> float:
        return self().timestamp()

    @property
    def offset(self) -> timedelta:
        with self._lock:
            return self._offset

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the playground clock only moves forward")
        with self._lock:
            self._offset += delta
        return self()
