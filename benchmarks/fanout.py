#!/usr/bin/env python
"""Digest-like fan-out through the outbox: 1,000 channels x K posts, delivered by jobs.delivery.deliver_due.

    .venv/bin/python benchmarks/fanout.py                         # delivery_threads 16, 64, 256, 1000
    .venv/bin/python benchmarks/fanout.py --threads 1000 --no-fail
    .venv/bin/python benchmarks/fanout.py --what-if-bulk-claim    # isolate the pacer from claim_due's cost

What runs
  * A LocalSlack in its own process, subclassed to enforce Slack's chat.postMessage limit of one message per
    second per channel: a post that arrives less than `--slack-interval` after the previous accepted post to
    that channel gets HTTP 429 {"ok": false, "error": "ratelimited"} with `Retry-After: <ceil(wait)>`.
    By default it is served by a small asyncio HTTP front end that calls LocalSlack.handle_api (the stock
    http.server front end tops out at a few hundred posts/s and would measure itself; `--slack-server stock`
    uses it anyway, with a larger listen backlog).
  * In this process: a SQLite file database, 50 workspaces x 20 channels, K posts per channel queued with
    bot.services.outbox.enqueue (unique keys; digests for every channel first, then reports, then reminders,
    the order the scheduler's tick claims them), then deliver_due(ctx, limit=--limit) called back to back
    until the outbox is empty, with the production job client (bot.app.make_client(retries=True):
    RateLimitErrorRetryHandler(3) + ConnectionErrorRetryHandler(2)) and the real ctx.per_channel_interval=1.0.

Floor
  The rate limit alone forces (K-1) x interval: every channel's first post can go at t=0 and its k-th at
  (k-1) s, all channels in parallel. With K=3 that is 2.0 s; the target is total <= 1.2 x floor = 2.4 s. The
  floor counts send time as negligible; the harness's own unpaced capacity (posts/s through this WebClient
  and this fake Slack, measured first) is printed so you can see how far from negligible it is.

Correctness
  lost = queued outbox ids never posted; duplicates = posts beyond the first carrying the same outbox id in
  their message metadata (deliver_due stamps every post with {"event_type": "mktbot_post", ...}).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing as mp
import shutil
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from _common import Verdict, machine_note, md_table, percentile

TARGET_RATIO = 1.2
KINDS = ["digest", "report", "reminder", "extra4", "extra5", "extra6"]


def channel_ids(workspaces: int, per_workspace: int) -> list[tuple[str, str]]:
    """(workspace id, channel id) pairs."""
    return [(f"T{w:04d}BENCH", f"C{w:04d}X{c:03d}") for w in range(workspaces) for c in range(per_workspace)]


# --------------------------------------------------------------------------------------------------
# The rate-limited Slack (its own process)
# --------------------------------------------------------------------------------------------------


def slack_main(conn: Connection, channels: list[str], interval: float, tolerance: float, server_kind: str) -> None:
    from bot.localslack import LocalSlack
    from bot.localslack.server import Call

    class RateLimitedSlack(LocalSlack):
        """LocalSlack plus Slack's per-channel chat.postMessage limit (429 + Retry-After)."""

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.limit_lock = threading.Lock()
            self.last_post: dict[str, float] = {}
            self.rejected: Counter[str] = Counter()
            self.accepted_at: list[float] = []
            self.reject_gaps: list[float] = []  # how long after the previous accepted post a rejected one came

        def reset_limits(self) -> None:
            with self.limit_lock:
                self.last_post.clear()
                self.rejected.clear()
                self.accepted_at.clear()
                self.reject_gaps.clear()
            self.reset()

        def handle_api(
            self, method: str, args: dict[str, Any], headers: dict[str, str], *, decode_error: Any = None
        ) -> tuple[int, dict[str, Any], dict[str, str], float]:
            if method == "chat.postMessage" and decode_error is None:
                channel = str(args.get("channel") or "")
                now = time.monotonic()
                with self.limit_lock:
                    last = self.last_post.get(channel)
                    if last is not None and now - last < interval - tolerance:
                        self.rejected[channel] += 1
                        self.reject_gaps.append(now - last)
                        with self._lock:
                            self.calls.append(Call(method=method, args=args, headers=headers, at=time.time()))
                        wait = interval - (now - last)
                        return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(max(1, math.ceil(wait)))}, 0.0
                    self.last_post[channel] = now
                    self.accepted_at.append(time.time())
            return super().handle_api(method, args, headers, decode_error=decode_error)

    slack = RateLimitedSlack(team_id="T0FANOUT")
    for cid in channels:
        slack.add_channel(cid, cid.lower())
    if server_kind == "stock":
        from bot.localslack import server as localslack_server

        # socketserver listens with a backlog of 5: hundreds of concurrent connects get reset (not Slack's doing)
        localslack_server._Server.request_queue_size = 4096  # type: ignore[attr-defined]
        slack.start()
        api_url = slack.api_url
        loop = None
    else:
        loop = asyncio.new_event_loop()
        started = threading.Event()
        holder: dict[str, Any] = {}

        def run_loop() -> None:
            asyncio.set_event_loop(loop)
            server = loop.run_until_complete(asyncio.start_server(
                lambda r, w: serve_api(slack, r, w), "127.0.0.1", 0, backlog=4096))
            holder["port"] = server.sockets[0].getsockname()[1]
            started.set()
            loop.run_forever()

        threading.Thread(target=run_loop, daemon=True, name="fast-slack").start()
        started.wait()
        api_url = f"http://127.0.0.1:{holder['port']}/api/"
    conn.send(api_url)
    while True:
        command = conn.recv()
        if command == "stop":
            break
        if command == "reset":
            slack.reset_limits()
            conn.send("ok")
        elif command == "stats":
            with slack._lock:
                posts = [
                    (m.channel, str(((m.metadata or {}).get("event_payload") or {}).get("outbox_id", "")))
                    for m in slack.messages
                    if m.source == "chat.postMessage"
                ]
                methods = Counter(c.method for c in slack.calls)
            with slack.limit_lock:
                accepted = list(slack.accepted_at)
                rejected = dict(slack.rejected)
                gaps = list(slack.reject_gaps)
            conn.send({"reject_gaps": gaps, "posts": posts, "methods": dict(methods), "rejected": rejected,
                       "first_post": min(accepted) if accepted else None, "last_post": max(accepted) if accepted else None})
    if loop is not None:
        loop.call_soon_threadsafe(loop.stop)
    else:
        slack.stop()


async def serve_api(slack: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A minimal HTTP/1.1 front end for LocalSlack's Web API (POST/GET /api/<method>, JSON or form bodies)."""
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            _verb, target, _version = line.decode("latin-1").split(" ", 2)
            headers: dict[str, str] = {}
            while True:
                header = await reader.readline()
                if header in (b"\r\n", b"\n", b""):
                    break
                key, _, value = header.decode("latin-1").partition(":")
                headers[key.strip()] = value.strip()
            lower = {k.lower(): v for k, v in headers.items()}
            raw = await reader.readexactly(int(lower.get("content-length") or 0))
            parts = urllib.parse.urlsplit(target)
            args: dict[str, Any] = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
            ctype = lower.get("content-type", "").split(";")[0].strip().lower()
            if raw and ctype == "application/json":
                args.update(json.loads(raw.decode("utf-8")))
            elif raw:
                args.update(urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
            if parts.path.startswith("/api/"):
                status, payload, extra, delay = slack.handle_api(parts.path[len("/api/"):], args, headers)
                if delay > 0:
                    await asyncio.sleep(delay)
                body = json.dumps(payload).encode()
            else:
                status, extra, body = 404, {}, b'{"ok": false, "error": "not_found"}'
            close = lower.get("connection", "").lower() == "close"
            head = [f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}",
                    "Content-Type: application/json; charset=utf-8", f"Content-Length: {len(body)}"]
            head += [f"{k}: {v}" for k, v in extra.items()]
            if close:
                head.append("Connection: close")
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
            if close:
                return
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        return
    finally:
        writer.close()


class SlackProcess:
    def __init__(self, channels: list[str], interval: float, tolerance: float, server_kind: str) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=slack_main, args=(child, channels, interval, tolerance, server_kind),
                                   name="fanout-slack", daemon=True)
        self.process.start()
        self.api_url: str = self.conn.recv()

    def reset(self) -> None:
        self.conn.send("reset")
        self.conn.recv()

    def stats(self) -> dict[str, Any]:
        self.conn.send("stats")
        return self.conn.recv()  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.conn.send("stop")
        self.process.join(timeout=10)


# --------------------------------------------------------------------------------------------------
# Delivery side (this process)
# --------------------------------------------------------------------------------------------------


@dataclass
class Timings:
    """Where deliver_due's time went, from wrappers around claim_due and send_one (timing only)."""

    claim: list[float] = field(default_factory=list)  # seconds per claim_due call
    claimed: list[int] = field(default_factory=list)
    send_spans: list[tuple[float, float]] = field(default_factory=list)  # (start, end) per send_one
    pacer_waits: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def install_probes(timings: Timings) -> Any:
    """Wrap jobs.delivery's claim_due, send_one and PACER.wait with timers; return an undo function."""
    import jobs.delivery as delivery
    from bot.services import outbox

    original_claim, original_send = outbox.claim_due, delivery.send_one
    pacer = delivery.ChannelPacer()  # a fresh pacer per run (the product's class), so runs do not share stamps
    original_pacer, original_wait = delivery.PACER, pacer.wait

    def claim_due(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        rows = original_claim(*args, **kwargs)
        timings.claim.append(time.perf_counter() - started)
        timings.claimed.append(len(rows))
        return rows

    def send_one(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original_send(*args, **kwargs)
        finally:
            with timings.lock:
                timings.send_spans.append((started, time.perf_counter()))

    def wait(channel: str, interval: float) -> None:
        started = time.perf_counter()
        original_wait(channel, interval)
        with timings.lock:
            timings.pacer_waits.append(time.perf_counter() - started)

    pacer.wait = wait  # type: ignore[method-assign]
    outbox.claim_due = claim_due
    delivery.send_one = send_one
    delivery.PACER = pacer

    def undo() -> None:
        outbox.claim_due = original_claim
        delivery.send_one = original_send
        delivery.PACER = original_pacer

    return undo


def install_bulk_claim() -> Any:
    """What-if (benchmark-local, not the product): claim_due as one UPDATE … WHERE id IN (…) RETURNING and
    one SELECT, without the ORM's per-statement session synchronisation. Returns an undo function."""
    from sqlalchemy import or_, select, update

    from bot.services import outbox
    from storage.models import Outbox

    original = outbox.claim_due

    def claim_due(session: Any, *, now: datetime, worker: str, limit: int = 100, ids: list[int] | None = None) -> Any:
        due = or_(
            (Outbox.status == "pending") & (Outbox.next_attempt_at <= now),
            (Outbox.status == "sending") & (Outbox.lease_until < now),
        )
        query = select(Outbox.id).where(due)
        if ids is not None:
            query = query.where(Outbox.id.in_(ids))
        candidates = session.scalars(query.order_by(Outbox.next_attempt_at, Outbox.id).limit(limit)).all()
        if not candidates:
            return []
        claimed = set(session.scalars(
            update(Outbox).where(Outbox.id.in_(candidates), due)
            .values(status="sending", lease_until=now + outbox.LEASE, claimed_by=worker)
            .returning(Outbox.id).execution_options(synchronize_session=False)
        ).all())
        rows = {r.id: r for r in session.scalars(select(Outbox).where(Outbox.id.in_(claimed)))}
        return [rows[i] for i in candidates if i in rows]

    outbox.claim_due = claim_due

    def undo() -> None:
        outbox.claim_due = original

    return undo


def pace_after_send(client: Any) -> None:
    """What-if (benchmark-local, not the product): re-stamp the channel in jobs.delivery.PACER when
    chat_postMessage returns, i.e. after any 429 retries inside slack_sdk, instead of only before the first try."""
    import jobs.delivery as delivery

    original = client.chat_postMessage

    def chat_postMessage(**kwargs: Any) -> Any:
        try:
            return original(**kwargs)
        finally:
            delivery.PACER._last[str(kwargs.get("channel"))] = time.monotonic()

    client.chat_postMessage = chat_postMessage


def enqueue_all(db: Any, pairs: list[tuple[str, str]], k: int, order: str) -> dict[int, str]:
    """Queue K posts per channel; returns {outbox id: channel}."""
    from bot.services import outbox

    now = datetime.now(UTC)
    if order == "kind":
        plan = [(kind, ws, ch) for kind in KINDS[:k] for ws, ch in pairs]
    else:
        plan = [(kind, ws, ch) for ws, ch in pairs for kind in KINDS[:k]]
    queued: dict[int, str] = {}
    with db.session() as session:
        for kind, ws, ch in plan:
            text = f"{kind} for #{ch.lower()}: 双十一 GMV ¥1.2M (+12%), 312 orders, 3 tasks due this week"
            new_id = outbox.enqueue(session, workspace_id=ws, post=outbox.Post(
                dedupe_key=f"bench:{kind}:{ch}", kind=kind, text=text, slack_channel_id=ch), now=now)
            assert new_id is not None
            queued[new_id] = ch
    return queued


def calibrate(api_url: str, token: str, channels: list[str], threads: int, posts: int) -> float:
    """Unpaced posts/s this client + fake Slack can do (one post per channel, so no 429s)."""
    from slack_sdk import WebClient

    client = WebClient(token=token, base_url=api_url, timeout=30)
    chosen = [channels[i % len(channels)] for i in range(posts)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(lambda ch: client.chat_postMessage(channel=ch, text="calibration"), chosen))
    return posts / (time.perf_counter() - started)


def run_once(args: argparse.Namespace, slack: SlackProcess, pairs: list[tuple[str, str]], threads: int) -> dict[str, Any]:
    from bot.app import make_client
    from bot.services import outbox as outbox_service
    from bot.settings import Settings
    from jobs.context import JobContext
    from jobs.delivery import deliver_due
    from storage.db import open_database

    tmp = Path(tempfile.mkdtemp(prefix="mktbot-fanout-"))
    db = open_database(f"sqlite:///{tmp / 'fanout.db'}")
    try:
        started = time.perf_counter()
        queued = enqueue_all(db, pairs, args.messages, args.order)
        enqueue_seconds = time.perf_counter() - started
        slack.reset()
        settings = Settings(bot_token="xoxb-local-token", signing_secret="unused", api_url=slack.api_url)
        from zoneinfo import ZoneInfo

        ctx = JobContext(db=db, client=make_client(settings, retries=True), zone=ZoneInfo("Asia/Shanghai"),
                         worker="fanout-bench", per_channel_interval=args.interval, delivery_threads=threads)
        if args.what_if_pace_after_send:
            pace_after_send(ctx.client)
        timings = Timings()
        undo = install_probes(timings)
        calls = []
        failed = 0
        errors: Counter[str] = Counter()
        t0 = time.perf_counter()
        wall0 = time.time()
        deadline = t0 + args.deadline
        try:
            while time.perf_counter() < deadline:
                call_started = time.perf_counter()
                stats = deliver_due(ctx, limit=args.limit)
                calls.append(time.perf_counter() - call_started)
                failed += stats.failed
                errors.update(e.split(": ", 1)[-1].split(" (")[0] for e in stats.errors)
                with db.session(write=False) as session:
                    if outbox_service.pending_count(session) == 0:
                        break
                if stats.sent == 0 and stats.failed == 0 and stats.recovered == 0:
                    time.sleep(0.2)  # only posts waiting for their retry time are left
        finally:
            undo()
        total = time.perf_counter() - t0
        seen = slack.stats()
        from sqlalchemy import func, select

        from storage.models import Outbox

        with db.session(write=False) as session:
            statuses = dict(session.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all())
    finally:
        db.dispose()
        shutil.rmtree(tmp, ignore_errors=True)

    posted = Counter(oid for _, oid in seen["posts"])
    lost = sum(1 for oid in queued if posted.get(str(oid), 0) == 0)
    duplicates = sum(n - 1 for n in posted.values() if n > 1)
    strays = sum(n for oid, n in posted.items() if not oid.isdigit() or int(oid) not in queued)
    first_send = min((s for s, _ in timings.send_spans), default=t0)
    last_send = max((e for _, e in timings.send_spans), default=t0)
    return {
        "threads": threads,
        "queued": len(queued),
        "enqueue_s": enqueue_seconds,
        "total_s": total,
        "deliver_calls": len(calls),
        "claim_s": sum(timings.claim),
        "claimed": sum(timings.claimed),
        "first_send_at_s": first_send - t0,
        "send_window_s": last_send - first_send,
        "after_last_send_s": (t0 + total) - last_send,
        "first_post_to_last_post_s": (seen["last_post"] - seen["first_post"]) if seen["first_post"] else math.nan,
        "slack_first_post_at_s": (seen["first_post"] - wall0) if seen["first_post"] else math.nan,
        "pacer_wait_total_s": sum(timings.pacer_waits),
        "pacer_wait_p99_s": percentile(timings.pacer_waits, 99),
        "posts": sum(posted.values()),
        "outbox_statuses": {str(k): int(v) for k, v in statuses.items()},
        "lost": lost,
        "duplicates": duplicates,
        "strays": strays,
        "http_429": sum(seen["rejected"].values()),
        "channels_with_429": len(seen["rejected"]),
        "reject_gap_p50_s": percentile(seen["reject_gaps"], 50),
        "reject_gap_min_s": min(seen["reject_gaps"], default=math.nan),
        "failed_attempts": failed,
        "errors": dict(errors.most_common(5)),
        "methods": seen["methods"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspaces", type=int, default=50)
    parser.add_argument("--channels-per-workspace", type=int, default=20)
    parser.add_argument("--messages", "-k", type=int, default=3, help="posts per channel, K (default 3, max 6)")
    parser.add_argument("--threads", type=lambda v: [int(x) for x in v.split(",")], default=[16, 64, 256, 1000],
                        help="ctx.delivery_threads values to try (default 16,64,256,1000; 16 is the product default)")
    parser.add_argument("--interval", type=float, default=1.0, help="ctx.per_channel_interval (default 1.0, the real one)")
    parser.add_argument("--slack-interval", type=float, default=1.0, help="the fake Slack's per-channel limit (s)")
    parser.add_argument("--slack-tolerance", type=float, default=0.0,
                        help="accept a post this much earlier than --slack-interval (default 0: strict)")
    parser.add_argument("--slack-server", choices=["fast", "stock"], default="fast",
                        help="LocalSlack's HTTP front end: a small asyncio one (default) or its own http.server")
    parser.add_argument("--limit", type=int, default=500, help="deliver_due(limit=...) per call (default 500, the product's)")
    parser.add_argument("--order", choices=["kind", "channel"], default="kind",
                        help="queue order: every channel's digest first, then reports… (kind, default) or channel by channel")
    parser.add_argument("--deadline", type=float, default=600.0, help="give up a run after this many seconds")
    parser.add_argument("--what-if-bulk-claim", action="store_true",
                        help="replace outbox.claim_due in this process by a bulk UPDATE … RETURNING (not the product)")
    parser.add_argument("--what-if-pace-after-send", action="store_true",
                        help="re-stamp the channel pacer when a post returns (after slack_sdk's 429 retries), not the product")
    parser.add_argument("--json", help="also write the results as JSON to this file")
    parser.add_argument("--no-fail", action="store_true", help="report only; exit 0 even when targets are missed")
    args = parser.parse_args(argv)
    if not 1 <= args.messages <= len(KINDS):
        parser.error(f"--messages must be 1..{len(KINDS)}")

    pairs = channel_ids(args.workspaces, args.channels_per_workspace)
    calibration = [f"C{i:05d}CAL" for i in range(1000)]
    slack = SlackProcess([ch for _, ch in pairs] + calibration, args.slack_interval, args.slack_tolerance, args.slack_server)
    undo_claim = install_bulk_claim() if args.what_if_bulk_claim else None
    floor = (args.messages - 1) * args.interval
    load_before = machine_note()
    results = []
    try:
        capacity = calibrate(slack.api_url, "xoxb-local-token", calibration, threads=64, posts=1000)
        print(f"harness: {len(pairs)} channels x {args.messages} posts = {len(pairs) * args.messages} posts; "
              f"unpaced capacity of WebClient + fake Slack ({args.slack_server}): {capacity:.0f} posts/s "
              f"(so sending alone needs ≥ {len(pairs) * args.messages / capacity:.1f} s)", flush=True)
        for threads in args.threads:
            result = run_once(args, slack, pairs, threads)
            results.append(result)
            print(f"[threads={threads}] total {result['total_s']:.1f} s, claim {result['claim_s']:.1f} s, "
                  f"posts {result['posts']}, lost {result['lost']}, duplicates {result['duplicates']}, "
                  f"429s {result['http_429']}", flush=True)
    finally:
        if undo_claim is not None:
            undo_claim()
        slack.stop()

    verdict = Verdict()
    rows = []
    for r in results:
        ratio = r["total_s"] / floor if floor > 0 else math.nan
        rows.append([r["threads"], r["queued"], f"{r['total_s']:.1f}", f"{ratio:.1f}×", r["deliver_calls"],
                     f"{r['claim_s']:.1f}", f"{r['total_s'] - r['claim_s']:.1f}", f"{r['after_last_send_s']:.1f}",
                     f"{r['pacer_wait_total_s']:.0f}", r["http_429"], r["lost"], r["duplicates"]])
        verdict.check(ratio <= TARGET_RATIO,
                      f"delivery_threads={r['threads']}: {r['total_s']:.1f} s = {ratio:.1f}× the {floor:.1f} s floor "
                      f"(target ≤ {TARGET_RATIO}×)")
        unsent = sum(n for status, n in r["outbox_statuses"].items() if status != "sent")
        verdict.check(r["lost"] == 0 and r["duplicates"] == 0 and r["strays"] == 0 and unsent == 0,
                      f"delivery_threads={r['threads']}: lost {r['lost']}, duplicates {r['duplicates']}, "
                      f"outbox rows not marked sent {unsent}" + (f", unexpected posts {r['strays']}" if r["strays"] else ""))
    title = (f"Fan-out: {args.workspaces} workspaces x {args.channels_per_workspace} channels x K={args.messages}, "
             f"per_channel_interval={args.interval:g} s, deliver_due(limit={args.limit}) back to back, "
             f"queue order={args.order}, floor (K-1) x interval = {floor:.1f} s"
             + (", WHAT-IF bulk claim_due (not the product)" if args.what_if_bulk_claim else "")
             + (", WHAT-IF pacer stamped after each post returns (not the product)" if args.what_if_pace_after_send else ""))
    print("\n" + title + ":\n")
    print(f"Machine: {load_before} before, {machine_note()} after.\n")
    print(md_table(["delivery_threads", "posts", "total s", "total / floor", "deliver_due calls", "claim_due s",
                    "rest s", "after last send s", "pacer sleep (thread-s)", "429s", "lost",
                    "duplicates"], rows))
    for r in results:
        if r["http_429"]:
            print(f"threads={r['threads']}: {r['http_429']} posts in {r['channels_with_429']} channels got 429; they "
                  f"arrived a median {r['reject_gap_p50_s']:.3f} s (min {r['reject_gap_min_s']:.3f} s) after the "
                  f"channel's previous accepted post")
        if r["errors"] or r["failed_attempts"]:
            print(f"threads={r['threads']}: {r['failed_attempts']} failed attempts: {r['errors']}")
    print("\nTargets:\n" + verdict.render())
    if args.json:
        Path(args.json).write_text(json.dumps({"title": title, "capacity_posts_per_s": capacity, "floor_s": floor,
                                               "results": results}, indent=2, default=str))
    if verdict.failed and not args.no_fail:
        print("\nSome targets were missed (use --no-fail to report only).")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
