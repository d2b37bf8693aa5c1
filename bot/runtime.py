"""What listeners and jobs share at run time: the database, the clock, the default zone, the user directory,
the cached locales, and the executor of what listeners leave for after their ack."""

from __future__ import annotations

import functools
import gc
import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.directory import UserDirectory
from bot.locale import Locales
from storage.db import Database

log = logging.getLogger(__name__)


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



def wait_for_signal(
    signals: Sequence[signal.Signals] = (signal.SIGTERM, signal.SIGINT), *, until: Callable[[], bool] | None = None
) -> signal.Signals | None:
    """Block the main thread until one of `signals` arrives (returns which) or `until()` is true (None)."""
    received: list[signal.Signals] = []
    stop = threading.Event()

    def handle(signum: int, _frame: Any) -> None:
        received.append(signal.Signals(signum))
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in signals}
    try:
        while not stop.wait(0.2):
            if until is not None and until():
                return None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("%s received: draining", received[0].name)
    return received[0]


def drain(app: Any, *, stop_accepting: Callable[[], None] | None, scheduler: Any = None, timeout: float = 10.0) -> bool:
    """Shut down in order within `timeout` seconds: stop accepting requests (and answer those in flight),
    finish the follow-ups already queued (the after-ack pool and Bolt's lazy listeners), then the scheduler
    (a running tick finishes its posts). Returns False when time ran out; what was left is logged."""
    deadline = time.monotonic() + timeout
    runtime = getattr(app, "runtime", None)
    executors = [getattr(getattr(app, "listener_runner", None), "listener_executor", None),
                 getattr(runtime, "background", None)]
    steps: list[tuple[str, Callable[[], None]]] = []
    if stop_accepting is not None:
        steps.append(("requests in flight", stop_accepting))
    for executor in executors:
        if executor is not None:
            steps.append(("queued follow-ups", functools.partial(executor.shutdown, wait=True)))
    identity = getattr(app, "identity", None)
    if identity is not None:
        steps.append(("auth.test", identity.stopping.set))
    if scheduler is not None:
        steps.append(("the scheduler", lambda: scheduler.shutdown(wait=True)))
    for name, step in steps:
        worker = threading.Thread(target=step, name=f"mktbot-drain-{name}", daemon=True)
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            log.error("shutdown: %s did not finish within %.0f s; exiting anyway", name, timeout)
            return False
    log.info("shutdown complete")
    return True


def shut_down_scheduler(scheduler: Any, *, timeout: float = 10.0) -> bool:
    """The scheduler alone (`mktbot scheduler`): a running tick finishes, within `timeout` seconds."""
    return drain(None, stop_accepting=None, scheduler=scheduler, timeout=timeout)
