"""Prometheus metrics (`/metrics`) and readiness (`/readyz`).

Counters and histograms live in this process; with `serve --workers N` each worker writes them to
PROMETHEUS_MULTIPROC_DIR (set by `serve_processes` before the workers start) and `/metrics` adds up every
worker's. The outbox gauges are read from the database at scrape time, so any process tells the same.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector
from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy import case, func, select, text

from storage.db import Database

log = logging.getLogger(__name__)

ACK_SECONDS = Histogram(
    "mktbot_ack_seconds", "Time from a Slack request's arrival to the bot's answer (the ack), by kind",
    ["kind"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
)
COMMANDS = Counter("mktbot_commands_total", "Slash commands handled, by command and outcome", ["command", "outcome"])
POSTS = Counter("mktbot_posts_total", "Outbox posts delivered (sent, recovered) or failed", ["outcome"])
TICK_LAG = Gauge("mktbot_tick_lag_seconds", "How late the last scheduler tick started", multiprocess_mode="max")
TICK_AT = Gauge("mktbot_tick_last_timestamp_seconds", "When the last scheduler tick started (Unix time)",
                multiprocess_mode="max")


def request_kind(req: BoltRequest) -> str:
    body = req.body or {}
    if "command" in body:
        return "command"
    if body.get("type") == "event_callback":
        return "event"
    return str(body.get("type") or "other")


class InstrumentedApp(App):
    """Bolt's App, timing every request from its arrival to the ack (listeners finish their short work before
    it; process_before_response) and counting commands by outcome. Over HTTP and Socket Mode alike: both
    adapters call dispatch."""

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = time.perf_counter()
        outcome = "error"
        try:
            response = super().dispatch(req)
            outcome = "ok" if response.status < 400 else "error"
            return response
        finally:
            ACK_SECONDS.labels(request_kind(req)).observe(time.perf_counter() - started)
            command = (req.body or {}).get("command")
            if command:
                COMMANDS.labels(str(command), outcome).inc()


class OutboxGauges(Collector):
    """mktbot_outbox_posts{state="pending|retrying|dead"}: read from the database at scrape time."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from storage.models import Outbox

        family = GaugeMetricFamily("mktbot_outbox_posts", "Outbox posts by state", labels=["state"])
        retrying = (Outbox.status == "pending") & (Outbox.attempts > 0)
        state = case((Outbox.status == "dead", "dead"), (retrying | (Outbox.status == "sending"), "retrying"),
                     else_="pending")
        counts = {"pending": 0, "retrying": 0, "dead": 0}
        try:
            with self.db.session(write=False) as session:
                rows = session.execute(
                    select(state, func.count()).where(Outbox.status.in_(("pending", "sending", "dead"))).group_by(state)
                ).all()
            counts.update({str(name): int(n) for name, n in rows})
        except Exception as exc:
            log.warning("outbox gauges unavailable: %s", exc)
            return
        for name, n in counts.items():
            family.add_metric([name], n)
        yield family


def metrics_registry(db: Database | None) -> CollectorRegistry:
    """This process's metrics, or every worker's when PROMETHEUS_MULTIPROC_DIR is set; with the outbox gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_Process())
    if db is not None:
        registry.register(OutboxGauges(db))
    return registry


class _Process(Collector):
    """The default registry's metrics (ours and the process's), seen through another registry."""

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()


def render_metrics(registry: CollectorRegistry) -> tuple[bytes, str]:
    return generate_latest(registry), CONTENT_TYPE_LATEST


def readiness(db: Database, *, heartbeat_max_age: float | None, name: str = "default") -> tuple[bool, str]:
    """(ready, why): the database answers a SELECT 1, and, when this process runs a scheduler, its heartbeat
    is younger than `heartbeat_max_age` seconds."""
    from storage.models import SchedulerHeartbeat

    try:
        with db.session(write=False) as session:
            session.execute(text("SELECT 1"))
            beat = session.get(SchedulerHeartbeat, name) if heartbeat_max_age is not None else None
    except Exception as exc:
        return False, f"database not reachable: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if heartbeat_max_age is None:
        return True, "ready: database ok"
    if beat is None:
        return False, "scheduler has not ticked yet"
    age = (datetime.now(UTC) - beat.beat_at).total_seconds()
    if age > heartbeat_max_age:
        return False, f"scheduler heartbeat is {age:.0f} s old (more than {heartbeat_max_age:.0f} s)"
    return True, f"ready: database ok, scheduler ticked {age:.0f} s ago"
