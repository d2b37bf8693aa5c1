"""Lanes and pacing: one lane per channel, each sending its posts in claim order, each post at least
`per_channel_interval` after the previous one to that channel completed; 429s waited out within the run."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.posts import Sent
from bot.services import outbox as service
from bot.telemetry import POSTS
from jobs.delivery.claims import AMBIGUOUS, Item
from jobs.delivery.history import HistoryUnavailable, find_posted, metadata
from jobs.delivery.recording import RECORD_BATCH, DeliveryStats, Outcome, Recorder
from jobs.delivery.transport import Sender, answer_of, retry_after_of

if TYPE_CHECKING:
    from jobs.context import JobContext

log = logging.getLogger(__name__)

RATE_LIMIT_RETRIES = 3  # 429s retried within the run (after Retry-After); then the outbox's backoff takes over
LEASE_MARGIN = 30.0  # seconds before the lease runs out when no new send starts (plus the client timeout)


class ChannelPacer:
    """When each channel may get its next post, across this process's runs and threads.

    Slack measures the gap between arrivals, so the clock restarts when a post completes (`done`), not when
    it is sent: a slow or retried request must not let the next one follow it too closely. `start` stamps
    too, so two runs that reach the same channel at once still keep their distance."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._guard = threading.Lock()

    def delay(self, channel: str) -> float:
        """Seconds until the channel may get a post (0 when it may now)."""
        with self._guard:
            return max(0.0, self._next.get(channel, 0.0) - time.monotonic())

    def start(self, channel: str, interval: float) -> float:
        """Take the channel's turn and return 0, or return how long to wait for it."""
        with self._guard:
            now = time.monotonic()
            ready = self._next.get(channel, 0.0)
            if now < ready:
                return ready - now
            self._next[channel] = now + interval
            return 0.0

    def done(self, channel: str, interval: float, *, hold: float = 0.0) -> None:
        """The post completed now: the next one waits `interval` (or `hold`, e.g. Retry-After, if longer)."""
        with self._guard:
            self._next[channel] = max(self._next.get(channel, 0.0), time.monotonic() + max(interval, hold))

    def wait(self, channel: str, interval: float) -> None:
        """Blocking form, for a caller outside the delivery loop."""
        while (pause := self.start(channel, interval)) > 0:
            time.sleep(pause)


PACER = ChannelPacer()


class Run:
    """One deliver_due run: its sender, recorder, statistics and the time by which no new send may start."""

    def __init__(
        self, ctx: JobContext, sender: Sender, recorder: Recorder, stats: DeliveryStats, *, claimed_at: float
    ) -> None:
        self.ctx = ctx
        self.sender = sender
        self.recorder = recorder
        self.stats = stats
        timeout = float(getattr(ctx.client, "timeout", 30) or 30)
        # After this, a send could still be running when the lease ends and another worker takes the post over.
        self.last_start = claimed_at + service.LEASE.total_seconds() - LEASE_MARGIN - timeout
        self.dm_channels: dict[str, str] = {}
        self.settled: list[tuple[Item, Outcome]] = []
        self.lanes: dict[str, deque[Item]] = {}  # channel (or user:ID) -> its running lane's queue
        self.tasks: list[asyncio.Task[None]] = []

    async def channel_for(self, item: Item) -> str:
        if item.channel:
            return item.channel
        assert item.user_id, "a post needs a channel or a user"
        if item.user_id not in self.dm_channels:
            user = item.user_id
            response = await self.sender.call(lambda: self.sender.client.conversations_open(users=user))
            self.dm_channels[user] = str(response["channel"]["id"])
        return self.dm_channels[item.user_id]

    async def send_one(self, item: Item) -> tuple[Outcome, str | None]:
        """Post one item, paced. Returns the outcome and the channel it went to."""
        channel: str | None = None
        interval = self.ctx.per_channel_interval
        try:
            channel = await self.channel_for(item)
            if item.ambiguous:
                try:
                    ts = await find_posted(self.sender, item, channel)
                except HistoryUnavailable as exc:
                    return Outcome("failed", error=AMBIGUOUS + f"history not checked ({exc})"), channel
                if ts:
                    return Outcome("recovered", ts=ts), channel
            kwargs: dict[str, Any] = {
                "channel": channel,
                "text": item.text,
                "metadata": metadata(item),
                "unfurl_links": False,
                "unfurl_media": False,
            }
            if item.blocks:
                kwargs["blocks"] = item.blocks
            if item.thread_ts:
                kwargs["thread_ts"] = item.thread_ts
            rate_limited = 0
            while True:
                while (pause := PACER.delay(channel)) > 0:
                    await asyncio.sleep(pause)
                if time.monotonic() > self.last_start:
                    return Outcome("deferred"), channel
                if PACER.start(channel, interval) > 0:
                    continue  # another run took the channel's turn meanwhile
                hold = 0.0
                try:
                    response = await self.sender.post_message(kwargs)
                    break
                except SlackApiError as exc:
                    if answer_of(exc)[0] != 429:
                        raise
                    hold = retry_after_of(exc.response.headers)
                    rate_limited += 1
                    if rate_limited > RATE_LIMIT_RETRIES or time.monotonic() + hold > self.last_start:
                        return Outcome("failed", error=f"ratelimited (retry after {hold:g}s)", retry_after=hold), channel
                    log.info("post %s to %s: 429, retrying after %gs", item.id, channel, hold)
                finally:
                    PACER.done(channel, interval, hold=hold)
            return Outcome("sent", ts=str(response.get("ts"))), channel
        except SlackApiError as exc:
            status, code = answer_of(exc)
            if status >= 500 or code is None:  # a 5xx, or an answer nobody could read: it may have posted
                return Outcome("failed", error=AMBIGUOUS + f"HTTP {status} {code or 'unreadable answer'}"), channel
            return Outcome("failed", error=code), channel
        except aiohttp.ClientConnectorError as exc:  # never reached Slack
            return Outcome("failed", error=f"could not connect: {exc}"), channel
        except Exception as exc:  # timeouts and dropped connections: Slack may or may not have posted
            return Outcome("failed", error=AMBIGUOUS + f"{type(exc).__name__}: {exc}"), channel

    def add(self, items: Sequence[Item]) -> None:
        """Queue claimed posts on their channel's lane, starting a lane for a channel that has none running."""
        for item in items:
            key = item.channel or f"user:{item.user_id}"
            queue = self.lanes.get(key)
            if queue is None:
                queue = self.lanes[key] = deque()
                self.tasks.append(asyncio.create_task(self.lane(key, queue)))
            queue.append(item)

    async def lane(self, key: str, queue: deque[Item]) -> None:
        """One channel's posts, in order; the lane ends (and a later claim starts a new one) when none are left."""
        try:
            while queue:
                await self.send_next(queue)
        finally:
            if self.lanes.get(key) is queue:
                del self.lanes[key]

    async def send_next(self, queue: deque[Item]) -> None:
        """Send the lane's next post, or hand back all it has left once it is too late in the lease to start."""
        if time.monotonic() > self.last_start:
            while queue:
                self.settle(queue.popleft(), Outcome("deferred"))
            return
        item = queue.popleft()
        outcome, channel = await self.send_one(item)
        self.settle(item, outcome)
        post = self.ctx.posts.get(item.kind)
        if outcome.kind == "sent" and post is not None and post.after_sent is not None and channel and outcome.ts:
            # Rare and slow (a report's charts: render, upload): on the sync client in a worker thread, after the
            # post is settled.
            sent = Sent(outbox_id=item.id, workspace_id=item.workspace_id, channel=channel, ts=outcome.ts,
                        payload=item.payload)
            try:
                await asyncio.to_thread(post.after_sent, self.ctx, sent)
            except Exception:
                log.exception("after-sent hook of %s post %s failed", item.kind, item.id)

    def settle(self, item: Item, outcome: Outcome) -> None:
        stats = self.stats
        if outcome.kind != "deferred":
            POSTS.labels(outcome.kind).inc()
        if outcome.kind == "sent":
            stats.sent += 1
        elif outcome.kind == "recovered":
            stats.recovered += 1
        elif outcome.kind == "deferred":
            stats.deferred += 1
        else:
            stats.failed += 1
            status = service.Failure(item.id, item.attempts, outcome.error or "unknown").next_status()
            stats.errors.append(f"{item.kind} {item.id}: {outcome.error} ({status})")
            stats.failure_codes.append(outcome.error or "unknown")
            if outcome.error in service.TOKEN_ERRORS:
                log.error("post %s (%s) failed: Slack refused the bot token (%s); now %s. Check it with "
                          "`mktbot check`", item.id, item.kind, outcome.error, status)
            else:
                log.warning("post %s (%s) failed: %s; now %s", item.id, item.kind, outcome.error, status)
        self.settled.append((item, outcome))
        if len(self.settled) >= RECORD_BATCH:
            self.flush()

    def flush(self) -> None:
        """Hand the settled outcomes to the recorder (one hand-over per batch, not per post)."""
        if self.settled:
            self.recorder.put(self.settled)
            self.settled = []

    async def flush_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            self.flush()
