"""What listeners and jobs share at run time: the database, the clock, the default zone, the user directory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.directory import UserDirectory
from storage.db import Database


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    db: Database
    zone: ZoneInfo
    clock: Callable[[], datetime] = system_clock
    directory: UserDirectory = field(default_factory=UserDirectory)
    jobs: Any = None  # jobs.context.JobContext: how listeners hand slow or outbound work to the delivery path
    background: Any = None  # concurrent.futures.Executor: follow-up work after a command's ack

    def __deepcopy__(self, memo: dict[int, Any]) -> Runtime:
        # Bolt deep-copies the context for lazy listeners; the runtime is shared, never copied.
        return self

    def __copy__(self) -> Runtime:
        return self
