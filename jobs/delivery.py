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
outbox id this module writes into every post's message metadata. Only a 429 is retried in the run itself,
after its Retry-After, because Slack did not take the post; everything else goes back to the outbox's backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, TypeVar, cast

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.web.slack_response import SlackResponse
from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from bot import uploads
from bot.i18n import t
from bot.render.text import esc
from bot.services import chart_files
from bot.services import outbox as service
from jobs.context import JobContext
from storage.models import Outbox, Schedule
from storage.prepared import Prepared

log = logging.getLogger(__name__)

METADATA_EVENT = "mktbot_post"
AMBIGUOUS = service.AMBIGUOUS
BATCH = 5000  # deliver_due's default limit: a whole fan-out in one run
FIRST_CLAIM = 1000  # posts claimed before the first send; the rest when the first wave is out
RECORD_BATCH = 200  # outcomes per write; what has settled is also written every RECORD_EVERY seconds
RECORD_EVERY = 0.2
RATE_LIMIT_RETRIES = 3  # 429s retried within the run (after Retry-After); then the outbox's backoff takes over
HISTORY_PAGES = 10  # pages of history searched for an ambiguous post
LEASE_MARGIN = 30.0  # seconds before the lease runs out when no new send starts (plus the client timeout)


T = TypeVar("T")


@dataclass(frozen=True)
class Item:
    id: int
    workspace_id: str
    kind: str
    channel: str | None
    user_id: str | None
    thread_ts: str | None
    text: str
    blocks: list[dict[str, Any]] | None
    payload: dict[str, Any]
    attempts: int
    last_error: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: Any) -> Item:
        """From an Outbox row or a claimed row (anything with the outbox columns as attributes)."""
        return cls(
            id=row.id,
            workspace_id=row.workspace_id,
            kind=row.kind,
            channel=row.slack_channel_id,
            user_id=row.user_id,
            thread_ts=row.thread_ts,
            text=row.text,
            blocks=json.loads(row.blocks) if row.blocks else None,
            payload=json.loads(row.payload) if row.payload else {},
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
        )

    @property
    def ambiguous(self) -> bool:
        return bool(self.last_error and self.last_error.startswith(AMBIGUOUS))


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

# Hooks run after a post is confirmed (e.g. a retro remembers its thread): payload["after"] -> function.
AfterSent = Callable[[Session, dict[str, Any], str], None]
AFTER_SENT: dict[str, AfterSent] = {}


def _metadata(item: Item) -> dict[str, Any]:
    return {"event_type": METADATA_EVENT, "event_payload": {"outbox_id": str(item.id)}}


# --------------------------------------------------------------------------------------------------
# The Slack client for a run
# --------------------------------------------------------------------------------------------------


class _NotForPosts:
    """Retry only calls that cannot post: a repeated chat.postMessage after a 5xx or a dropped connection
    could post twice, and its 429s are paced by the lane itself."""

    async def _can_retry_async(
        self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if request.url.endswith("/chat.postMessage"):
            return False
        return await super()._can_retry_async(  # type: ignore[misc, no-any-return]
            state=state, request=request, response=response, error=error
        )


class _ReadRateLimitRetry(_NotForPosts, AsyncRateLimitErrorRetryHandler):
    pass


class _ReadServerErrorRetry(_NotForPosts, AsyncServerErrorRetryHandler):
    pass


class _ReadConnectionRetry(_NotForPosts, AsyncConnectionErrorRetryHandler):
    pass


def retry_handlers() -> list[AsyncRetryHandler]:
    return [
        # A refused connection never reached Slack: safe to retry for every method.
        AsyncConnectionErrorRetryHandler(max_retry_count=2, error_types=[aiohttp.ClientConnectorError]),
        _ReadRateLimitRetry(max_retry_count=3),
        _ReadServerErrorRetry(max_retry_count=2),
        _ReadConnectionRetry(max_retry_count=2),
    ]


def _sdk_logger() -> logging.Logger:
    # slack_sdk formats a debug line per request whenever its logger's own level is NOTSET; give it the
    # effective level so that it only does so when debug logging is on.
    logger = logging.getLogger("slack_sdk.web.async_client.mktbot")
    logger.setLevel(logging.getLogger("slack_sdk").getEffectiveLevel())
    return logger


@dataclass
class Sender:
    """An AsyncWebClient on one keep-alive aiohttp session, and the gate that bounds requests in flight."""

    client: AsyncWebClient
    gate: asyncio.Semaphore
    session: aiohttp.ClientSession
    busy: int = 0  # requests waiting for the gate or in flight
    quiet: asyncio.Event = field(default_factory=asyncio.Event)  # set while busy == 0

    async def call(self, request: Callable[[], Awaitable[T]]) -> T:
        self.busy += 1
        self.quiet.clear()
        try:
            async with self.gate:
                return await request()
        finally:
            self.busy -= 1
            if not self.busy:
                self.quiet.set()

    async def post_message(self, args: dict[str, Any]) -> AsyncSlackResponse:
        """chat.postMessage through slack_sdk's client; the retry handlers never repeat a post (see _NotForPosts).

        `args` are what `send_one` builds: JSON-ready, no None values, always a text. That is what
        `chat_postMessage` would make of them, so the call goes to `api_call` as it would, without the
        per-call rebuilding of twenty keyword arguments (about 5 % of a post's CPU in a fan-out)."""
        return await self.call(partial(self.client.api_call, "chat.postMessage", json=args))


@contextlib.asynccontextmanager
async def open_sender(ctx: JobContext) -> AsyncIterator[Sender]:
    """The job client's token, base URL (SLACK_API_URL), headers, proxy and timeout, on an async session.

    The connector allows exactly `delivery_senders` connections and the gate lets no more requests than that
    in flight, so no request ever waits for a connection inside its own timeout."""
    sync = ctx.client
    senders = max(1, ctx.delivery_senders)
    timeout = float(getattr(sync, "timeout", 30) or 30)
    connector = aiohttp.TCPConnector(limit=senders, limit_per_host=senders, ssl=getattr(sync, "ssl", None) or True)
    # Slack's Web API sets no cookies worth keeping: skip the jar's work on every request.
    session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout),
                                    cookie_jar=aiohttp.DummyCookieJar())
    try:
        client = AsyncWebClient(
            token=sync.token,
            base_url=sync.base_url,
            timeout=int(timeout),
            ssl=getattr(sync, "ssl", None),
            proxy=getattr(sync, "proxy", None),
            headers=dict(getattr(sync, "headers", None) or {}),
            session=session,
            logger=_sdk_logger(),
            retry_handlers=retry_handlers(),
        )
        yield Sender(client=client, gate=asyncio.Semaphore(senders), session=session)
    finally:
        await session.close()


# --------------------------------------------------------------------------------------------------
# Sending one post
# --------------------------------------------------------------------------------------------------


class HistoryUnavailable(Exception):
    """The history could not be read for now; whether the post is in Slack is still unknown."""


async def find_posted(sender: Sender, item: Item, channel: str) -> str | None:
    """After an ambiguous failure, look for the post by the outbox id in its message metadata.

    Returns its ts, or None when it is not there (or the history cannot ever be read, e.g. missing_scope).
    Raises HistoryUnavailable for a passing failure (rate limit, 5xx, network): then nothing may be posted."""
    oldest = f"{item.created_at.timestamp() - 120:.6f}"
    cursor: str | None = None
    for _ in range(HISTORY_PAGES):
        args: dict[str, Any] = {"channel": channel, "include_all_metadata": True, "oldest": oldest, "limit": 200}
        if cursor:
            args["cursor"] = cursor
        try:
            if item.thread_ts:
                response = await sender.call(partial(sender.client.conversations_replies, ts=item.thread_ts, **args))
            else:
                response = await sender.call(partial(sender.client.conversations_history, **args))
        except SlackApiError as exc:
            if exc.response.status_code == 429 or exc.response.status_code >= 500:
                raise HistoryUnavailable(f"HTTP {exc.response.status_code}") from exc
            log.warning("could not check history of %s: %s", channel, exc.response.get("error"))
            return None
        except Exception as exc:
            raise HistoryUnavailable(f"{type(exc).__name__}: {exc}") from exc
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_EVENT and str(payload.get("outbox_id")) == str(item.id):
                return str(message.get("ts"))
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
    raise HistoryUnavailable(f"more than {HISTORY_PAGES} pages of history to search")


def _answer(exc: SlackApiError) -> tuple[int, str | None]:
    """(HTTP status, Slack's error code) of a failed call; no code when Slack's answer was not JSON."""
    response = exc.response
    if isinstance(response, AsyncSlackResponse | SlackResponse):
        return response.status_code, str(response.get("error") or response.status_code)
    return int(getattr(response, "status", 0) or 0), None  # the raw HTTP response of an unreadable answer


def _retry_after(headers: Any) -> float:
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                break
    return 1.0


class _Run:
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
                "metadata": _metadata(item),
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
                    if _answer(exc)[0] != 429:
                        raise
                    hold = _retry_after(exc.response.headers)
                    rate_limited += 1
                    if rate_limited > RATE_LIMIT_RETRIES or time.monotonic() + hold > self.last_start:
                        return Outcome("failed", error=f"ratelimited (retry after {hold:g}s)", retry_after=hold), channel
                    log.info("post %s to %s: 429, retrying after %gs", item.id, channel, hold)
                finally:
                    PACER.done(channel, interval, hold=hold)
            return Outcome("sent", ts=str(response.get("ts"))), channel
        except SlackApiError as exc:
            status, code = _answer(exc)
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
        charts = item.payload.get("charts")
        if outcome.kind == "sent" and charts and channel and outcome.ts:
            # Rare and slow (render, upload): on the sync client in a worker thread, after the post is settled.
            try:
                await asyncio.to_thread(_upload_charts, self.ctx, item, channel, outcome.ts, charts)
            except Exception:
                log.exception("charts of post %s failed", item.id)

    def settle(self, item: Item, outcome: Outcome) -> None:
        stats = self.stats
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


def _upload_charts(ctx: JobContext, item: Item, channel: str, ts: str, specs: list[dict[str, Any]]) -> None:
    """Charts go into the post's thread; a chart that cannot be drawn or uploaded becomes a text table, never a blank."""
    from bot.render import charts
    from jobs.report import build_chart

    uploaded: list[chart_files.ChartFile] = []
    for spec in specs:
        try:
            chart = build_chart(ctx, item.workspace_id, spec)
        except charts.NoChartData:
            continue
        except Exception:
            log.exception("chart %s for post %s could not be built", spec, item.id)
            continue
        try:
            png = charts.render(chart)
        except charts.NoChartData:
            try:
                ctx.client.chat_postMessage(
                    channel=channel, thread_ts=ts, text=t("chart.no_values", None, title=esc(chart.title)), unfurl_links=False
                )
            except Exception:
                log.warning("could not say that %s has no values for post %s", spec, item.id, exc_info=True)
            continue
        except Exception:
            png = b""
        filename = f"{spec.get('name', 'chart')}.png"
        try:
            if not png:
                raise charts.ChartError("the chart could not be drawn")
            file_id = uploads.share_file(
                ctx.client, channel=channel, thread_ts=ts, content=png, filename=filename, title=chart.title
            )
            uploaded.append(chart_files.remember(item.workspace_id, file_id, chart.title, ctx.clock()))
        except uploads.ShareUnknown as exc:  # it may be in the thread: a table as well could show it twice
            log.error("chart %s for post %s: cannot tell whether file %s was shared", spec, item.id, exc.file_id)
        except Exception:
            log.exception("chart %s for post %s failed; posting its numbers instead", spec, item.id)
            try:
                table = charts.text_table(chart)
                ctx.client.chat_postMessage(
                    channel=channel, thread_ts=ts, text=f"{esc(chart.title)}\n```{esc(table)}```", unfurl_links=False
                )
            except Exception:
                log.exception("text fallback for chart %s failed", spec)
    if uploaded:
        _record_chart_files(ctx, item, uploaded)


def _record_chart_files(ctx: JobContext, item: Item, uploaded: list[chart_files.ChartFile]) -> None:
    """Write the uploaded charts' file ids into the outbox row's payload, for the App Home after a restart.

    The post is already in Slack: a failure here is logged, never turned into a retry (which would post twice)."""
    try:
        with ctx.db.session() as session:
            row = session.get(Outbox, item.id)
            if row is None:
                return
            payload = json.loads(row.payload) if row.payload else {}
            payload[chart_files.PAYLOAD_KEY] = [c.to_json() for c in uploaded]
            row.payload = json.dumps(payload, ensure_ascii=False)
    except Exception:
        log.exception("could not record the charts of post %s", item.id)


# --------------------------------------------------------------------------------------------------
# Recording outcomes
# --------------------------------------------------------------------------------------------------


class Recorder:
    """Writes batches of outcomes from its own thread while the run goes on.

    A batch is one transaction: statuses (the sent ones in one statement), after-sent hooks, schedules' last
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
    hooked = [(item, outcome) for item, outcome in sent if item.payload.get("after")]
    # After-sent hooks change records through the ORM; a plain fan-out batch is written on the driver.
    with ctx.db.session() if hooked else ctx.db.transaction() as unit:
        service.mark_sent_many(unit, [(item.id, outcome.ts) for item, outcome in sent], worker=ctx.worker, now=now)
        service.mark_failed_many(unit, failures, worker=ctx.worker, now=now)
        service.release(unit, deferred, worker=ctx.worker)
        if schedules:
            _SCHEDULE_STATUS.many(unit, list(schedules.values()))
        if isinstance(unit, Session):
            for item, outcome in hooked:
                _after_sent(unit, item, outcome.ts)


def _after_sent(session: Session, item: Item, ts: str | None) -> None:
    hook = item.payload.get("after")
    if not (hook and hook in AFTER_SENT and ts):
        return
    try:
        with session.begin_nested():  # a failing hook must not undo the batch's statuses
            AFTER_SENT[hook](session, item.payload, ts)
    except Exception:
        log.exception("after-sent hook %s for post %s failed", hook, item.id)


# --------------------------------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------------------------------


def deliver_due(ctx: JobContext, *, now: datetime | None = None, limit: int = BATCH, only: list[int] | None = None) -> DeliveryStats:
    """Claim due posts, send them (channels in parallel, each channel in order and paced), record the outcomes.

    A large fan-out is claimed in two steps: the first FIRST_CLAIM posts before the first send, the rest (up to
    `limit`) once the first wave is out and the senders wait for the channels' pacing, so the first posts
    do not wait for thousands of later ones to be claimed."""
    now = now or ctx.clock()
    claimed_at = time.monotonic()
    first_limit = limit if only is not None else min(limit, FIRST_CLAIM)
    items = _claim(ctx, now, first_limit, only)
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


def _claim(ctx: JobContext, now: datetime, limit: int, only: list[int] | None) -> list[Item]:
    with ctx.db.session() if only is not None else ctx.db.transaction() as unit:
        return [Item.of(row) for row in service.claim_due(unit, now=now, worker=ctx.worker, limit=limit, ids=only)]


async def _deliver(
    ctx: JobContext, items: list[Item], recorder: Recorder, stats: DeliveryStats, claimed_at: float, *,
    now: datetime, more: int,
) -> None:
    async with open_sender(ctx) as sender:
        run = _Run(ctx, sender, recorder, stats, claimed_at=claimed_at)
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


async def _claim_rest(ctx: JobContext, run: _Run, now: datetime, limit: int) -> None:
    """Claim the rest of a fan-out once the first wave is out (no request waiting or in flight), or after one
    pacing interval when lanes keep the senders busy that long. Its lease deadline stays the first claim's
    (earlier, so safe). If it fails, those posts stay pending for the next run."""
    await asyncio.sleep(0)  # the lanes take their first turn at the gate
    if run.sender.busy:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.sender.quiet.wait(), timeout=max(ctx.per_channel_interval, 0.1))
    try:
        items = _claim(ctx, now, limit, None)
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
