"""Delivering outbox posts to Slack: paced per channel, retried with backoff, never posted twice."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.services import chart_files
from bot.services import outbox as service
from jobs.context import JobContext
from storage.models import Outbox

log = logging.getLogger(__name__)

METADATA_EVENT = "mktbot_post"
AMBIGUOUS = "ambiguous: "


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
    def of(cls, row: Outbox) -> Item:
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


@dataclass
class DeliveryStats:
    sent: int = 0
    failed: int = 0
    recovered: int = 0  # found already posted after an ambiguous failure
    errors: list[str] = field(default_factory=list)


class ChannelPacer:
    """At most one post per channel per interval, across this process's delivery threads.

    Slack measures the gap between arrivals, so the clock restarts when a post completes (`done`), not
    when it is sent: a slow or retried request must not let the next one follow it too closely."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    def wait(self, channel: str, interval: float) -> None:
        with self._guard:
            lock = self._locks[channel]
        with lock:
            last = self._last.get(channel)
            now = time.monotonic()
            if last is not None and now - last < interval:
                time.sleep(interval - (now - last))
            self._last[channel] = time.monotonic()

    def done(self, channel: str) -> None:
        with self._guard:
            self._last[channel] = time.monotonic()


PACER = ChannelPacer()

# Hooks run after a post is confirmed (e.g. a retro remembers its thread): payload["after"] -> function.
AfterSent = Any
AFTER_SENT: dict[str, AfterSent] = {}


def _metadata(item: Item) -> dict[str, Any]:
    return {"event_type": METADATA_EVENT, "event_payload": {"outbox_id": str(item.id)}}


def find_posted(ctx: JobContext, item: Item, channel: str) -> str | None:
    """After an ambiguous failure, look for the post by the outbox id in its message metadata."""
    oldest = f"{item.created_at.timestamp() - 120:.6f}"
    try:
        if item.thread_ts:
            response = ctx.client.conversations_replies(
                channel=channel, ts=item.thread_ts, include_all_metadata=True, oldest=oldest, limit=200
            )
        else:
            response = ctx.client.conversations_history(
                channel=channel, include_all_metadata=True, oldest=oldest, limit=200
            )
    except SlackApiError as exc:
        log.warning("could not check history of %s: %s", channel, exc.response.get("error"))
        return None
    for message in response.get("messages") or []:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == METADATA_EVENT and str(payload.get("outbox_id")) == str(item.id):
            return str(message.get("ts"))
    return None


def _channel_for(ctx: JobContext, item: Item) -> str:
    if item.channel:
        return item.channel
    assert item.user_id, "a post needs a channel or a user"
    response = ctx.client.conversations_open(users=item.user_id)
    return str(response["channel"]["id"])


def send_one(ctx: JobContext, item: Item) -> tuple[str, str | None, str | None, float | None]:
    """Post one item. Returns (outcome, ts, error, retry_after) with outcome sent|recovered|failed."""
    try:
        channel = _channel_for(ctx, item)
        if item.last_error and item.last_error.startswith(AMBIGUOUS):
            ts = find_posted(ctx, item, channel)
            if ts:
                return "recovered", ts, None, None
        PACER.wait(channel, ctx.per_channel_interval)
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
        try:
            response = ctx.client.chat_postMessage(**kwargs)
        finally:
            PACER.done(channel)
        ts = str(response.get("ts"))
        charts = item.payload.get("charts")
        if charts:
            _upload_charts(ctx, item, channel, ts, charts)
        return "sent", ts, None, None
    except SlackApiError as exc:
        status = exc.response.status_code
        error = str(exc.response.get("error") or status)
        if status == 429:
            retry_after = float(exc.response.headers.get("Retry-After", exc.response.headers.get("retry-after", 1)) or 1)
            return "failed", None, f"ratelimited (retry after {retry_after:g}s)", retry_after
        if status >= 500:
            return "failed", None, AMBIGUOUS + f"HTTP {status} {error}", None
        return "failed", None, error, None
    except Exception as exc:  # timeouts and connection errors: Slack may or may not have posted
        return "failed", None, AMBIGUOUS + f"{type(exc).__name__}: {exc}", None


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
            response = ctx.client.files_upload_v2(
                channel=channel, thread_ts=ts, content=png, filename=f"{spec.get('name', 'chart')}.png", title=chart.title
            )
            file_id = chart_files.file_id_of(response)
            if file_id:
                uploaded.append(chart_files.remember(item.workspace_id, file_id, chart.title, ctx.clock()))
        except Exception:
            log.exception("chart %s for post %s failed; posting its numbers instead", spec, item.id)
            try:
                table = charts.text_table(chart)
                ctx.client.chat_postMessage(
                    channel=channel, thread_ts=ts, text=f"{chart.title}\n```{table}```", unfurl_links=False
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


def deliver_due(ctx: JobContext, *, now: datetime | None = None, limit: int = 500, only: list[int] | None = None) -> DeliveryStats:
    """Claim due posts, send them (channels in parallel, each channel in order), record the outcome."""
    now = now or ctx.clock()
    with ctx.db.session() as session:
        rows = service.claim_due(session, now=now, worker=ctx.worker, limit=limit, ids=only)
        items = [Item.of(r) for r in rows]
    stats = DeliveryStats()
    if not items:
        return stats
    by_channel: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_channel[item.channel or f"user:{item.user_id}"].append(item)

    def run_channel(batch: list[Item]) -> list[tuple[Item, tuple[str, str | None, str | None, float | None]]]:
        return [(item, send_one(ctx, item)) for item in batch]

    workers = max(1, min(ctx.delivery_threads, len(by_channel)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mktbot-deliver") as pool:
        results = [r for batch in pool.map(run_channel, by_channel.values()) for r in batch]
    finished = ctx.clock()
    with ctx.db.session() as session:
        for item, (outcome, ts, error, retry_after) in results:
            if outcome in ("sent", "recovered"):
                service.mark_sent(session, outbox_id=item.id, message_ts=ts, now=finished)
                _after_sent(session, item, ts)
                if outcome == "sent":
                    stats.sent += 1
                else:
                    stats.recovered += 1
            else:
                status = service.mark_failed(session, outbox_id=item.id, error=error or "unknown", now=finished, retry_after=retry_after)
                stats.failed += 1
                stats.errors.append(f"{item.kind} {item.id}: {error} ({status})")
                log.warning("post %s (%s) failed: %s; now %s", item.id, item.kind, error, status)
            _record_schedule_outcome(session, item, outcome, error)
    return stats


def _after_sent(session: Any, item: Item, ts: str | None) -> None:
    hook = item.payload.get("after")
    if hook and hook in AFTER_SENT and ts:
        AFTER_SENT[hook](session, item.payload, ts)


def _record_schedule_outcome(session: Any, item: Item, outcome: str, error: str | None) -> None:
    schedule_id = item.payload.get("schedule_id")
    if not schedule_id:
        return
    from storage.models import Schedule

    schedule = session.get(Schedule, int(schedule_id))
    if schedule is None:
        return
    schedule.last_status = "delivered" if outcome in ("sent", "recovered") else "retrying"
    schedule.last_error = None if outcome in ("sent", "recovered") else error
