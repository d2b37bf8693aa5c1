"""What listeners and jobs share at run time: the database, the clock, the default zone, the user directory,
the cached locales, and the executor of what listeners leave for after their ack."""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.directory import UserDirectory
from bot.locale import Locales
from storage.db import Database


def system_clock() -> datetime:
    return datetime.now(UTC)


class FollowUpRunner(Protocol):
    """bot.after_ack.AfterAck: runs what a listener left for after its ack (commands.followups)."""

    def run(self, followups: Sequence[Any], *, client: Any, respond: Any = None) -> None: ...


@dataclass
class Runtime:
    db: Database
    zone: ZoneInfo
    clock: Callable[[], datetime] = system_clock
    directory: UserDirectory = field(default_factory=UserDirectory)
    jobs: Any = None  # jobs.context.JobContext: how follow-ups hand slow or outbound work to the delivery path
    background: Any = None  # concurrent.futures.Executor: follow-up work after a command's or a form's ack
    after_ack: FollowUpRunner = None  # type: ignore[assignment]  # set by build_app
    locales: Locales = field(default_factory=Locales)  # each person's language, cached
    seal_key: bytes = b"mktbot"  # binds a modal's private_metadata to its workspace (derived from the app's secrets)

    def __deepcopy__(self, memo: dict[int, Any]) -> Runtime:
        # Bolt deep-copies the context for lazy listeners; the runtime is shared, never copied.
        return self

    def __copy__(self) -> Runtime:
        return self


YOUNG_GENERATION_THRESHOLD = 10_000  # net allocations between collections of the youngest generation (default 700)


def freeze_startup_heap() -> None:
    """Ready the cycle collector for serving; call once, when the process has loaded everything it needs.

    - What startup loaded (modules, the ORM's metadata, Bolt, the Slack clients) is frozen out of the
      collector's reach. A full collection otherwise walks all of it: about 70 ms here, during which no
      command is acked and no post goes out. Startup objects live as long as the process anyway.
    - The youngest generation is collected after 10,000 net allocations instead of 700. A fan-out keeps
      thousands of requests in flight; at 700 they were scanned and promoted again and again, which cost
      a tenth of the run. Cycles are still collected, only in larger steps (a few ms each)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, older, oldest)

