#!/usr/bin/env python
"""Slash-command ack latency under an open-loop load, mktbot versus a bare Bolt app.

    .venv/bin/python benchmarks/ack_latency.py                       # 30 s at 50 and at 200 requests/s
    .venv/bin/python benchmarks/ack_latency.py --seconds 5 --rates 50 --no-fail

Each target (the real mktbot app on a SQLite file with LocalSlack as its Web API, and a bare Bolt app whose
listeners only ack()) runs in its own server process on bot.server's waitress stack (BackgroundServer,
32 threads). A separate load-generator process sends signed slash commands over keep-alive HTTP/1.1
connections at a fixed arrival rate: request i is due at t0 + i/rate whatever happened to the earlier ones
(open loop), and its latency is measured from that due time, so a stalled server or a saturated client
shows up in the figures instead of silently lowering the rate (no coordinated omission).

An error is a non-200 answer, no answer within Slack's 3 s ack deadline (counted from the due time), a
broken connection, or (mktbot only) a 200 whose body is not the expected reply.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing as mp
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from _common import Verdict, machine_note, md_table, ms, percentile, tree_note

SECRET = "bench-signing-secret"
TEAM = "T0BENCH"
CHANNEL = ("C0GENERAL", "general")
USERS = [("U0ANA", "ana"), ("U0BO", "bo"), ("U0LILEI", "lilei"), ("U0MEI", "mei")]
ACK_DEADLINE = 3.0

# Command mix (alternating): the text for request i, and what a correct mktbot reply contains.
COMMANDS: list[tuple[str, Any, str]] = [
    ("/task", lambda i: f'add "Banner 双十一 hero v{i}" due:fri', "Task T-"),
    ("/kpi", lambda i: f"log visits {1200 + i % 500} orders 30 channel:天猫", "Logged"),
]

# Targets
P99_TARGET = 0.100  # at the highest rate
P50_RATIO_TARGET = 1.5
HELP_TARGET = 0.5


# --------------------------------------------------------------------------------------------------
# Server process
# --------------------------------------------------------------------------------------------------


def bare_app(api_url: str, token: str) -> Any:
    """The floor: Bolt with the same signing secret and HTTP stack, listeners that only ack()."""
    from slack_bolt import Ack, App
    from slack_sdk import WebClient

    app = App(
        client=WebClient(token=token, base_url=api_url),
        signing_secret=SECRET,
        token_verification_enabled=False,
        process_before_response=True,  # as in mktbot: the listener runs before the HTTP response
    )

    def just_ack(ack: Ack) -> None:
        ack()

    for name, _, _ in COMMANDS:
        app.command(name)(just_ack)
    return app


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


def serve_workers(threads: int, api_url: str, token: str, conn: Connection, tmp: Path, database_url: str | None) -> None:
    """`mktbot serve --workers N` (N from MKTBOT_BENCH_WORKERS, default 2) as its own process tree."""
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workers = os.environ.get("MKTBOT_BENCH_WORKERS", "2")
    env = {**os.environ, "SLACK_BOT_TOKEN": token, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": api_url,
           "DATABASE_URL": database_url or f"sqlite:///{tmp / 'mktbot.db'}", "MKTBOT_TIMEZONE": "Asia/Shanghai"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", workers, "--threads", str(threads)],
        cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    conn.send({"url": f"http://127.0.0.1:{port}/slack/events", "pid": proc.pid})
    conn.recv()  # stop
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    shutil.rmtree(tmp, ignore_errors=True)
    conn.send({"workers": int(workers), "http_loop_alive": True})


def server_main(
    kind: str, threads: int, api_url: str, token: str, conn: Connection,
    database_url: str | None = None,
) -> None:
    """Serve one target until told to stop; then report what the server saw. Slack's Web API (LocalSlack)
    lives in the orchestrating process, so the bot's process holds only the bot, as in production."""
    import logging

    from bot.server import BackgroundServer

    # waitress logs "Task queue depth is N" for every queued request once its threads are busy: keep the maximum
    depth = {"max": 0, "warnings": 0}

    def count_depth(record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Task queue depth is "):
            depth["warnings"] += 1
            depth["max"] = max(depth["max"], int(message.rsplit(" ", 1)[-1]))
            return False
        return True

    logging.getLogger("waitress.queue").addFilter(count_depth)
    tmp = Path(tempfile.mkdtemp(prefix=f"mktbot-bench-{kind}-"))
    if kind == "workers":
        serve_workers(threads, api_url, token, conn, tmp, database_url)
        return
    app: Any
    db = None
    if kind == "mktbot":
        from bot.app import build_app
        from bot.settings import Settings

        settings = Settings(
            api_url=api_url,
            bot_token=token,
            signing_secret=SECRET,
            database_url=database_url or f"sqlite:///{tmp / 'mktbot.db'}",
            timezone="Asia/Shanghai",
        )
        app = build_app(settings)
        db = app.runtime.db
        from bot.runtime import freeze_startup_heap

        freeze_startup_heap()  # as bot.server.serve does before it serves
    else:
        app = bare_app(api_url, token)
    handled = [0]

    @app.middleware
    def count_handled(next: Any) -> Any:  # requests that reached Bolt's listeners (signature verified)
        handled[0] += 1
        return next()

    server = BackgroundServer(app, port=0, threads=threads)
    server.start()
    conn.send({"url": server.url, "pid": os.getpid()})
    cpu_ready, times_ready = _cpu(), os.times()
    conn.recv()  # stop
    executor = getattr(app.listener_runner, "listener_executor", None)
    if executor is not None:
        executor.shutdown(wait=True)  # lazy listeners still running count towards this target's CPU
    cpu = _cpu() - cpu_ready
    times = os.times()
    report: dict[str, Any] = {"cpu_seconds": round(cpu, 2), "cpu_user_seconds": round(times.user - times_ready.user, 2),
                              "cpu_system_seconds": round(times.system - times_ready.system, 2), "handled": handled[0],
                              "cpu_ms_per_handled": round(1000 * cpu / max(1, handled[0]), 2),
                              "max_waitress_queue_depth": depth["max"]}
    if db is not None:
        from sqlalchemy import func, select

        from storage.models import KpiValue, Task

        with db.session(write=False) as session:
            report["tasks"] = session.scalar(select(func.count()).select_from(Task))
            report["kpi_values"] = session.scalar(select(func.count()).select_from(KpiValue))
    report["http_loop_alive"] = server.thread.is_alive()  # waitress' select() loop dies past fd 1023
    server.stop()
    if db is not None:
        db.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    conn.send(report)


# --------------------------------------------------------------------------------------------------
# Load generator process (asyncio, raw HTTP/1.1 over a keep-alive connection pool)
# --------------------------------------------------------------------------------------------------


@dataclass
class Sample:
    phase: str  # "warmup" or the rate as text
    command: str
    latency: float  # from the due time to the end of the response (seconds)
    send_lag: float  # from the due time to when the client started on it: the client's own delay
    status: int  # HTTP status; 0 = timeout or broken connection
    error: str  # "" when fine
    due_at: float = 0.0  # the request's due time, seconds after the phase started


class Pool:
    """Idle keep-alive connections to one host; a new one is opened whenever none is idle."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self.opened += 1
        return await asyncio.open_connection(self.host, self.port)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        for attempt in range(2):
            reused = bool(self.idle)
            reader, writer = self.idle.pop() if reused else await self._open()
            keep = False
            try:
                writer.write(raw)
                try:
                    status, body, keep = await read_response(reader)
                except (ConnectionError, asyncio.IncompleteReadError):
                    if reused and attempt == 0:
                        continue  # the server closed an idle connection: retry once on a fresh one
                    raise
                return status, body
            finally:
                if keep:
                    self.idle.append((reader, writer))
                else:
                    writer.close()
        raise ConnectionError("unreachable")

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    line = await reader.readline()
    if not line:
        raise ConnectionResetError("connection closed before the status line")
    status = int(line.split()[1])
    headers: dict[str, str] = {}
    while True:
        header = await reader.readline()
        if header in (b"\r\n", b"\n", b""):
            break
        key, _, value = header.decode("latin-1").partition(":")
        headers[key.strip().lower()] = value.strip()
    keep = headers.get("connection", "").lower() != "close"
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        parts = []
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    else:
        body, keep = await reader.read(), False
    return status, body, keep


def command_request(host: str, port: int, path: str, command: str, text: str, i: int) -> bytes:
    """A slash command exactly as Slack posts it (form fields and v0 signature), as raw HTTP/1.1 bytes."""
    user_id, user_name = USERS[i % len(USERS)]
    fields = {
        "token": "local-verification-token",
        "team_id": TEAM,
        "team_domain": "acme-marketing",
        "channel_id": CHANNEL[0],
        "channel_name": CHANNEL[1],
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": "A0LOCALAPP",
        "is_enterprise_install": "false",
        "response_url": f"http://{host}:1/response/bench{i}",
        "trigger_id": f"{i}.{int(time.time())}.bench",
    }
    body = urllib.parse.urlencode(fields).encode()
    ts = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "User-Agent: Slackbot 1.0 (+https://api.slack.com/robots)\r\n"
        "Accept: application/json,*/*\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Slack-Request-Timestamp: {ts}\r\n"
        f"X-Slack-Signature: {signature}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


async def open_loop(
    pool: Pool, url: str, phase: str, rate: float, seconds: float, check_body: bool, first: int
) -> list[Sample]:
    loop = asyncio.get_running_loop()
    parts = urllib.parse.urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
    count = max(1, round(rate * seconds))
    samples: list[Sample] = []

    async def one(i: int, due: float) -> None:
        started = loop.time()  # how late this client got round to the request: its own lag, not the server's
        command, make_text, expect = COMMANDS[i % len(COMMANDS)]
        raw = command_request(host, port, path, command, make_text(first + i), first + i)
        status, error = 0, ""
        try:
            remaining = max(0.001, due + ACK_DEADLINE - loop.time())
            status, body = await asyncio.wait_for(pool.request(raw), remaining)
            if status != 200:
                error = f"HTTP {status}"
            elif check_body and expect.encode() not in body:
                error = "unexpected reply: " + body.decode("utf-8", "replace")[:120]
        except TimeoutError:
            error = "timeout"
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        end = loop.time()
        samples.append(Sample(phase, command, end - due, started - due, status, error, due - t0))

    t0 = loop.time() + 0.05
    tasks = []
    for i in range(count):
        due = t0 + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    return samples


async def load_all(url: str, rates: list[float], seconds: float, warmup: float, check_body: bool) -> dict[str, Any]:
    parts = urllib.parse.urlsplit(url)
    pool = Pool(parts.hostname or "127.0.0.1", parts.port or 80)
    samples: list[Sample] = []
    first = 0
    if warmup > 0:
        samples += await open_loop(pool, url, "warmup", 50.0, warmup, check_body, first)
        first += len(samples)
    for rate in rates:
        await asyncio.sleep(0.5)
        wall = time.monotonic()
        batch = await open_loop(pool, url, f"{rate:g}", rate, seconds, check_body, first)
        first += len(batch)
        samples += batch
        samples.append(Sample(f"{rate:g}", "_wall", time.monotonic() - wall, 0.0, 0, ""))
    pool.close()
    return {"samples": [s.__dict__ for s in samples], "connections": pool.opened, "cpu_seconds": round(_cpu(), 2)}


def loadgen_main(url: str, rates: list[float], seconds: float, warmup: float, check_body: bool, conn: Connection) -> None:
    conn.send(asyncio.run(load_all(url, rates, seconds, warmup, check_body)))


# --------------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------------


def start_slack() -> Any:
    """LocalSlack as the bots' Web API, in this (otherwise idle) orchestrating process."""
    from bot.localslack import LocalSlack

    slack = LocalSlack(team_id=TEAM, signing_secret=SECRET).start()
    for user_id, name in USERS:
        slack.add_user(user_id, name, tz="Asia/Shanghai", locale="en-US")
    slack.add_channel(CHANNEL[0], CHANNEL[1], members=[u for u, _ in USERS])
    return slack


def run_target(kind: str, args: argparse.Namespace, ctx: Any, slack: Any) -> dict[str, Any]:
    slack.reset()
    parent, child = ctx.Pipe()
    server = ctx.Process(target=server_main, args=(kind, args.threads, slack.api_url, slack.bot_token, child,
                                                   args.database_url),
                         name=f"bench-server-{kind}")
    server.start()
    info = parent.recv()
    print(f"[{kind}] serving at {info['url']} (pid {info['pid']}); load: {args.rates} req/s x {args.seconds:g} s", flush=True)
    spy = None
    if args.py_spy and kind == "mktbot":
        out = Path(args.py_spy_out or "ack_latency_mktbot.txt").resolve()
        spy = subprocess.Popen(
            [args.py_spy, "record", "--pid", str(info["pid"]), "--rate", "200", "--format", "raw",
             "--output", str(out), *args.py_spy_args.split()],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
    lparent, lchild = ctx.Pipe()
    loader = ctx.Process(
        target=loadgen_main,
        args=(info["url"], args.rates, args.seconds, args.warmup, kind in ("mktbot", "workers"), lchild),
        name=f"bench-load-{kind}",
    )
    loader.start()
    result = lparent.recv()
    loader.join()
    if spy is not None:
        spy.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        _, err = spy.communicate(timeout=60)
        if spy.returncode not in (0, -signal.SIGINT):
            print(f"[{kind}] py-spy failed: {err.decode(errors='replace')[-500:]}", flush=True)
    parent.send("stop")
    result["server"] = parent.recv()
    server.join(timeout=30)
    with slack._lock:
        result["server"]["web_api_calls"] = dict(Counter(c.method for c in slack.calls))
    return result


def summarise(result: dict[str, Any], rates: list[float]) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    samples = result["samples"]
    for rate in rates:
        phase = f"{rate:g}"
        wall = next((s["latency"] for s in samples if s["phase"] == phase and s["command"] == "_wall"), float("nan"))
        total = sum(1 for s in samples if s["phase"] == phase and s["command"] != "_wall")
        for command in [c for c, _, _ in COMMANDS] + ["all"]:
            chosen = [s for s in samples if s["phase"] == phase and s["command"] != "_wall"
                      and (command == "all" or s["command"] == command)]
            ok = [s["latency"] for s in chosen]
            errors = [s for s in chosen if s["error"]]
            out[(phase, command)] = {
                "n": len(chosen),
                "p50": percentile(ok, 50),
                "p99": percentile(ok, 99),
                "max": max(ok) if ok else float("nan"),
                "errors": len(errors),
                "error_kinds": sorted({e["error"][:60] for e in errors})[:5],
                "send_lag_p99": percentile([s["send_lag"] for s in chosen], 99),
                # when the trouble started (seconds into the phase, by due time)
                "first_over_100ms_at": min((s["due_at"] for s in chosen if s["latency"] > 0.1), default=None),
                "first_error_at": min((s["due_at"] for s in errors), default=None),
                # every answer of the phase (both commands) over the time from the first due time to the last answer
                "achieved": total / wall if wall == wall and wall > 0 else float("nan"),
            }
    return out


def help_wall_time(repeats: int) -> list[float]:
    exe = Path(sys.executable).with_name("mktbot")
    cmd = [str(exe), "--help"] if exe.exists() else [sys.executable, "-m", "bot.cli", "--help"]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per rate (default 30)")
    parser.add_argument("--rates", type=lambda v: [float(x) for x in v.split(",")], default=[50.0, 200.0],
                        help="comma-separated arrival rates in requests/s (default 50,200)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds at 50 req/s before measuring (default 2)")
    parser.add_argument("--threads", type=int, default=32, help="waitress threads (default 32, as in production)")
    parser.add_argument("--targets", default="bare,mktbot", help="which servers to run (default bare,mktbot)")
    parser.add_argument("--help-repeats", type=int, default=5, help="runs of `mktbot --help` (default 5)")
    parser.add_argument("--json", help="also write the summary as JSON to this file")
    parser.add_argument("--py-spy", help="path to a py-spy binary: sample the mktbot server during its run")
    parser.add_argument("--py-spy-out", help="where py-spy writes collapsed stacks (default ./ack_latency_mktbot.txt)")
    parser.add_argument("--py-spy-args", default="--nonblocking",
                        help="extra py-spy record arguments (default --nonblocking; e.g. '--gil' for GIL holders only)")
    parser.add_argument("--database-url", help="mktbot's database (default: a fresh SQLite file in a temp dir); "
                        "e.g. a scratch PostgreSQL database to compare")
    parser.add_argument("--no-fail", action="store_true", help="report only; exit 0 even when targets are missed")
    args = parser.parse_args(argv)

    ctx = mp.get_context("spawn")
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    summaries: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    servers: dict[str, Any] = {}
    samples_by_kind: dict[str, Any] = {}
    slack = start_slack()
    load_before = machine_note()
    for kind in targets:
        result = run_target(kind, args, ctx, slack)
        summaries[kind] = summarise(result, args.rates)
        samples_by_kind[kind] = result["samples"]
        requests = sum(1 for s in result["samples"] if s["command"] != "_wall")
        answered = sum(1 for s in result["samples"] if s["command"] != "_wall" and s["status"] == 200)
        servers[kind] = {**result["server"], "requests": requests, "answered_200": answered,
                         "client_connections": result["connections"], "client_cpu_seconds": result["cpu_seconds"]}
        print(f"[{kind}] done: {servers[kind]}", flush=True)

    slack.stop()
    load_after = machine_note()
    help_times = help_wall_time(args.help_repeats) if args.help_repeats > 0 else []

    verdict = Verdict()
    rows = []
    top_rate = f"{max(args.rates):g}"
    for rate in args.rates:
        phase = f"{rate:g}"
        for command in [c for c, _, _ in COMMANDS]:
            for kind in targets:
                s = summaries[kind][(phase, command)]
                ratio = "–"
                if kind in ("mktbot", "workers") and "bare" in summaries:
                    bare = summaries["bare"][(phase, command)]["p50"]
                    value = s["p50"] / bare if bare and bare == bare else float("nan")
                    ratio = f"{value:.2f}×"
                    verdict.check(value <= P50_RATIO_TARGET,
                                  f"p50 {command} at {phase}/s is {value:.2f}× bare Bolt (target ≤ {P50_RATIO_TARGET}×)")
                rows.append([kind, phase, f"{s['achieved']:.0f}", command, s["n"], ms(s["p50"]), ms(s["p99"]),
                             ms(s["max"]), s["errors"], ratio])
                if kind in ("mktbot", "workers"):
                    verdict.check(s["errors"] == 0, f"{s['errors']} errors for {command} at {phase}/s"
                                  + (f" {s['error_kinds']}" if s["errors"] else ""))
                    if phase == top_rate:
                        verdict.check(s["p99"] < P99_TARGET,
                                      f"p99 {command} at {phase}/s is {ms(s['p99'])} ms (target < {P99_TARGET * 1000:.0f} ms)")
    for kind, info in servers.items():
        if not info.get("http_loop_alive", True):
            verdict.check(False, f"{kind}'s waitress loop died during the run (see the server's traceback above)")
    if help_times:
        median = statistics.median(help_times)
        verdict.check(median < HELP_TARGET, f"`mktbot --help` median {median:.3f} s over {len(help_times)} runs "
                      f"(min {min(help_times):.3f}, max {max(help_times):.3f}; target < {HELP_TARGET} s)")

    print()
    print(f"Ack latency, open loop, {args.seconds:g} s per rate, waitress threads={args.threads}, "
          f"latency from each request's due time (ms).\nMachine: {load_before} before, {load_after} after. "
          f"Tree: {tree_note()}\n")
    print(md_table(["target", "rate /s", "answered /s (all)", "command", "n", "p50", "p99", "max", "errors",
                    "p50 / bare"], rows))
    lag = {kind: max(s["send_lag_p99"] for s in summaries[kind].values()) for kind in targets}
    print("\nClient self-check: p99 delay between a request's due time and the client starting on it: "
          + ", ".join(f"{k} {ms(v)} ms" for k, v in lag.items()))
    for kind in targets:
        for rate in args.rates:
            s = summaries[kind][(f"{rate:g}", "all")]
            if s["first_over_100ms_at"] is not None or s["first_error_at"] is not None:
                print(f"{kind} at {rate:g}/s: first answer over 100 ms for a request due at "
                      f"t={s['first_over_100ms_at'] if s['first_over_100ms_at'] is not None else float('nan'):.1f} s"
                      + (f", first error for one due at t={s['first_error_at']:.1f} s ({s['errors']} in all)"
                         if s["first_error_at"] is not None else ""))
    for kind, info in servers.items():
        print(f"Server {kind}: {json.dumps(info, ensure_ascii=False)}")
    if help_times:
        print("`mktbot --help`: " + ", ".join(f"{t:.3f}" for t in help_times) + " s")
    print("\nTargets:\n" + verdict.render())
    if args.json:
        Path(args.json).write_text(json.dumps({
            "summaries": {k: {f"{p}|{c}": v for (p, c), v in s.items()} for k, s in summaries.items()},
            "servers": servers, "help_times": help_times,
            "samples": samples_by_kind,
            "checks": [{"ok": ok, "text": text} for ok, text in verdict.checks],
        }, indent=2, ensure_ascii=False, default=str))
    return verdict.exit_status(no_fail=args.no_fail)


if __name__ == "__main__":
    raise SystemExit(main())
