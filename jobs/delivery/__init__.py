"""Delivering outbox posts to Slack: one stream, paced per channel, retried with backoff, never posted twice.

A `deliver_due` run:
  1. claims the due posts (up to `limit`) with `outbox.claim_due`: the first FIRST_CLAIM at once, the rest
     when the first wave is out, so the first posts never wait for thousands of later ones to be claimed;
  2. splits them into one lane per channel, each in claim order. A lane is a coroutine: it sends its posts one
     after the other, each at least `per_channel_interval` after the previous post to that channel completed
     (Slack allows about one message per second per channel). Waiting lanes cost a timer, not a thread;
  3. sends through slack_sdk's AsyncWebClient on one aiohttp session (keep-alive) with at most `ctx.delivery_senders` requests in flight,
     granted first come, first served, so the senders always work on whichever channel became ready first;
  4. hands each outcome to a recorder thread that writes them in small batches while the run goes on, so a
     crash leaves at most a batch of posts in doubt (those are found again in Slack's history, see below).

Never twice: a post whose fate is unknown (HTTP 5xx, timeout, dropped connection, a lease that ran out while
'sending') is marked ambiguous, and before it is posted again the channel's history is searched for the
outbox id delivery writes into every post's message metadata. Only a 429 is retried in the run itself,
after its Retry-After, because Slack did not take the post; everything else goes back to the outbox's backoff.

The modules, by job: `claims` (claiming due posts), `transport` (the Slack client and its retry handlers),
`lanes` (one lane per channel, paced), `history` (finding a post whose answer was lost), `recording` (writing
the outcomes). A post's kind (bot.posts) may add hooks run once Slack has the post; delivery knows no kind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING

from jobs.delivery.claims import Item, claim
from jobs.delivery.lanes import Run
from jobs.delivery.recording import RECORD_EVERY, DeliveryStats, Recorder
from jobs.delivery.transport import open_sender

if TYPE_CHECKING:
    from jobs.context import JobContext

log = logging.getLogger(__name__)

BATCH = 5000  # deliver_due's default limit: a whole fan-out in one run
FIRST_CLAIM = 1000  # posts claimed before the first send; the rest when the first wave is out


def deliver_due(ctx: JobContext, *, now: datetime | None = None, limit: int = BATCH, only: list[int] | None = None) -> DeliveryStats:
    """Claim due posts, send them (channels in parallel, each channel in order and paced), record the outcomes.

    A large fan-out is claimed in two steps: the first FIRST_CLAIM posts before the first send, the rest (up to
    `limit`) once the first wave is out and the senders wait for the channels' pacing, so the first posts
    do not wait for thousands of later ones to be claimed."""
    now = now or ctx.clock()
    claimed_at = time.monotonic()
    first_limit = limit if only is not None else min(limit, FIRST_CLAIM)
    items = claim(ctx, now, first_limit, only)
    stats = DeliveryStats()
    if not items:
        return stats
    more = limit - len(items) if only is None and len(items) == first_limit else 0
    recorder = Recorder(ctx)
    try:
        _run_loop(lambda: _deliver(ctx, items, recorder, stats, claimed_at, now=now, more=more))
    finally:
        recorder.close()
    return stats


async def _deliver(
    ctx: JobContext, items: list[Item], recorder: Recorder, stats: DeliveryStats, claimed_at: float, *,
    now: datetime, more: int,
) -> None:
    async with open_sender(ctx) as sender:
        run = Run(ctx, sender, recorder, stats, claimed_at=claimed_at)
        flusher = asyncio.create_task(run.flush_every(RECORD_EVERY))
        try:
            run.add(items)
            if more:
                await _claim_rest(ctx, run, now, more)
            results = await asyncio.gather(*run.tasks, return_exceptions=True)
        finally:
            flusher.cancel()
            run.flush()
    for result in results:
        if isinstance(result, BaseException):  # a bug: the lane's unsettled posts wait for their lease to run out
            log.error("a delivery lane failed", exc_info=result)


async def _claim_rest(ctx: JobContext, run: Run, now: datetime, limit: int) -> None:
    """Claim the rest of a fan-out once the first wave is out (no request waiting or in flight), or after one
    pacing interval when lanes keep the senders busy that long. Its lease deadline stays the first claim's
    (earlier, so safe). If it fails, those posts stay pending for the next run."""
    await asyncio.sleep(0)  # the lanes take their first turn at the gate
    if run.sender.busy:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.sender.quiet.wait(), timeout=max(ctx.per_channel_interval, 0.1))
    try:
        items = claim(ctx, now, limit, None)
    except Exception:
        log.exception("could not claim the rest of the due posts; the next run will")
        return
    run.add(items)


def _run_loop(main: Callable[[], Awaitable[None]]) -> None:
    """Run a coroutine to completion on a fresh event loop: here, or in a helper thread when this thread
    already runs one."""

    def run() -> None:
        async def wrapped() -> None:
            await main()

        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(wrapped())

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        in_loop = False  # (not run in this handler: every error logged in the run would carry this one)
    else:
        in_loop = True
    if not in_loop:
        run()
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mktbot-deliver") as pool:
        pool.submit(run).result()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop  # type: ignore[no-any-return]
