"""Recording delivery outcomes: statistics for the run, and a recorder thread that writes outcomes in small
batches while the run goes on, each batch with its schedules' last status and the kinds' record-sent hooks."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from bot.posts import RecordSent, Sent
from bot.services import outbox as service
from jobs.delivery.claims import Item
from storage.models import Schedule
from storage.prepared import Prepared

if TYPE_CHECKING:
    from jobs.context import JobContext

log = logging.getLogger(__name__)

RECORD_BATCH = 200  # outcomes per write; what has settled is also written every RECORD_EVERY seconds
RECORD_EVERY = 0.2


@dataclass
class DeliveryStats:
    sent: int = 0
    failed: int = 0
    recovered: int = 0  # found already posted after an ambiguous failure
    deferred: int = 0  # claimed but handed back untried (the lease would have run out before their turn)
    errors: list[str] = field(default_factory=list)  # one line per failed post, for the log
    failure_codes: list[str] = field(default_factory=list)  # each failed post's error (Slack's code, when it gave one)

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.recovered + self.deferred


@dataclass(frozen=True)
class Outcome:
    kind: str  # sent | recovered | failed | deferred
    ts: str | None = None
    error: str | None = None
    retry_after: float | None = None


class Recorder:
    """Writes batches of outcomes from its own thread while the run goes on.

    A batch is one transaction: statuses (the sent ones in one statement), record-sent hooks, schedules' last
    status. If it cannot be written, its rows stay 'sending' until their lease runs out; the next claim marks
    them ambiguous and the history check finds what was posted, so nothing is lost or doubled."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self._queue: queue.SimpleQueue[list[tuple[Item, Outcome]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="mktbot-record", daemon=True)
        self._thread.start()

    def put(self, batch: list[tuple[Item, Outcome]]) -> None:
        self._queue.put(batch)

    def close(self) -> None:
        """Write what is left and stop."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            self._write_with_retries(batch)

    def _write_with_retries(self, batch: list[tuple[Item, Outcome]]) -> None:
        for attempt in range(3):
            try:
                record(self.ctx, batch)
                return
            except Exception:
                if attempt == 2:
                    log.exception("could not record %d delivery outcomes; their leases will run out and the "
                                  "posts be checked against Slack's history", len(batch))
                else:
                    time.sleep(0.2 * (attempt + 1))


_schedules = cast(Table, Schedule.__table__)
_SCHEDULE_STATUS = Prepared(
    update(_schedules)
    .where(_schedules.c.id == bindparam("b_id"))
    .values(last_status=bindparam("b_status"), last_error=bindparam("b_error"))
)


def record(ctx: JobContext, batch: Sequence[tuple[Item, Outcome]]) -> None:
    """Write a batch of outcomes in one transaction."""
    now = ctx.clock()
    sent = [(item, outcome) for item, outcome in batch if outcome.kind in ("sent", "recovered")]
    failures = [
        service.Failure(item.id, item.attempts, outcome.error or "unknown", outcome.retry_after)
        for item, outcome in batch
        if outcome.kind == "failed"
    ]
    deferred = [item.id for item, outcome in batch if outcome.kind == "deferred"]
    schedules: dict[int, dict[str, Any]] = {}
    for item, outcome in batch:
        schedule_id = item.payload.get("schedule_id")
        if schedule_id and outcome.kind != "deferred":
            ok = outcome.kind in ("sent", "recovered")
            if ok:
                status = "delivered"
            else:  # given up (a permanent error, or out of attempts) or to be retried
                failure = service.Failure(item.id, item.attempts, outcome.error or "unknown")
                status = "failed" if failure.next_status() == "dead" else "retrying"
            schedules[int(schedule_id)] = {
                "b_id": int(schedule_id), "b_status": status, "b_error": None if ok else outcome.error,
            }
    hooked = [(item, outcome) for item, outcome in sent if _record_sent_hook(ctx, item) is not None]
    # Record-sent hooks change records through the ORM; a plain fan-out batch is written on the driver.
    with ctx.db.session() if hooked else ctx.db.transaction() as unit:
        service.mark_sent_many(unit, [(item.id, outcome.ts) for item, outcome in sent], worker=ctx.worker, now=now)
        service.mark_failed_many(unit, failures, worker=ctx.worker, now=now)
        service.release(unit, deferred, worker=ctx.worker)
        if schedules:
            _SCHEDULE_STATUS.many(unit, list(schedules.values()))
        if isinstance(unit, Session):
            for item, outcome in hooked:
                _record_sent(ctx, unit, item, outcome.ts, now)


def _record_sent_hook(ctx: JobContext, item: Item) -> RecordSent | None:
    post = ctx.posts.get(item.kind)
    return post.record_sent if post is not None else None


def _record_sent(ctx: JobContext, session: Session, item: Item, ts: str | None, now: datetime) -> None:
    hook = _record_sent_hook(ctx, item)
    if hook is None or not ts:
        return
    try:
        with session.begin_nested():  # a failing hook must not undo the batch's statuses
            hook(session, Sent(outbox_id=item.id, workspace_id=item.workspace_id, channel=item.channel or "",
                               ts=ts, payload=item.payload, at=now))
    except Exception:
        log.exception("record-sent hook of %s post %s failed", item.kind, item.id)
