"""`/kpi show` chart memory: the bot process's RSS while it serves 2,000 charts over HTTP.

Three processes: LocalSlack (the Web API; it records every uploaded PNG, so it runs apart and its memory
does not count), the real mktbot app on bot.server's HTTP stack with a SQLite file database, and this
orchestrator, which sends signed `/kpi show` slash commands at --rate req/s (default 12; each waits for
its ack). The lazy listener renders each chart with matplotlib and uploads it with files_upload_v2.
The bot's RSS (/proc/<pid>/status) is read after --warmup charts have been uploaded and again once all
--charts uploads have arrived. Target: growth under 30 MB. Exits 1 when missed (or when charts are lost).

    python benchmarks/chart_memory.py                          # 2,000 charts at 12 req/s (~3 min)
    python benchmarks/chart_memory.py --charts 400 --warmup 100 --no-fail
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import multiprocessing as mp
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Verdict, machine_note, tree_note

SECRET = "bench-signing-secret"
TEAM = "T0BENCH"
CHANNEL = ("C0GENERAL", "general")
USER = ("U0ANA", "ana")
MEMORY_TARGET_MB = 30.0
SHOWS = ("show gmv by:channel", "show conversion", "show gmv period:12w by:channel", "show visits period:this-month")


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def slack_main(conn: Connection) -> None:
    """LocalSlack in its own process: answers how many files it has received until told to stop."""
    from bot.localslack import LocalSlack

    slack = LocalSlack(team_id=TEAM, signing_secret=SECRET).start()
    slack.add_user(*USER, tz="Asia/Shanghai", locale="en-US")
    slack.add_channel(CHANNEL[0], CHANNEL[1], members=[USER[0]])
    conn.send({"api_url": slack.api_url, "token": slack.bot_token})
    while True:
        message = conn.recv()
        if message == "stop":
            break
        with slack._lock:
            conn.send(len(slack.files))
    slack.stop()


def bot_main(api_url: str, token: str, threads: int, conn: Connection) -> None:
    """The real app on its HTTP server, as `mktbot serve` runs it."""
    from bot.app import build_app
    from bot.runtime import freeze_startup_heap
    from bot.server import BackgroundServer
    from bot.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="mktbot-chart-memory-"))
    settings = Settings(api_url=api_url, bot_token=token, signing_secret=SECRET,
                        database_url=f"sqlite:///{tmp / 'mktbot.db'}", timezone="Asia/Shanghai")
    app = build_app(settings)
    freeze_startup_heap()
    server = BackgroundServer(app, port=0, threads=threads)
    server.start()
    import os

    conn.send({"url": server.url, "pid": os.getpid()})
    conn.recv()  # stop
    server.stop()
    app.runtime.db.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    conn.send("stopped")


def command(url: str, text: str, i: int) -> int:
    return call(url, text, i)[0]


def call(url: str, text: str, i: int) -> tuple[int, bytes]:
    fields = {
        "token": "local-verification-token", "team_id": TEAM, "team_domain": "acme-marketing",
        "channel_id": CHANNEL[0], "channel_name": CHANNEL[1], "user_id": USER[0], "user_name": USER[1],
        "command": "/kpi", "text": text, "api_app_id": "A0LOCALAPP", "is_enterprise_install": "false",
        "response_url": f"{url.rsplit('/slack', 1)[0]}/none/{i}", "trigger_id": f"{i}.{int(time.time())}.bench",
    }
    body = urllib.parse.urlencode(fields).encode()
    ts = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(url, data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    })
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status), response.read()


def seed(url: str) -> None:
    """Two metrics, a ratio of them and 60 days of values on three channels, logged as a team would."""
    command(url, "define gmv unit:¥", 0)
    command(url, "define conversion unit:% = orders / visits", 0)
    today = date.today()
    for d in range(60):
        day = (today - timedelta(days=d)).isoformat()
        for j, channel in enumerate(("天猫", "京东", "抖音")):
            command(url, f"log visits {10000 + 37 * d + j} orders {300 + d % 9} gmv {48000 + 211 * d} "
                         f"channel:{channel} date:{day}", 0)


def files_seen(slack: Connection) -> int:
    slack.send("count")
    return int(slack.recv())


def wait_for_files(slack: Connection, count: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    seen = files_seen(slack)
    while seen < count and time.monotonic() < deadline:
        time.sleep(0.2)
        seen = files_seen(slack)
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charts", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--rate", type=float, default=12.0, help="slash commands per second")
    parser.add_argument("--threads", type=int, default=8, help="HTTP server threads")
    parser.add_argument("--no-fail", action="store_true")
    args = parser.parse_args(argv)
    print(f"machine: {machine_note()}; tree: {tree_note()}", flush=True)

    ctx = mp.get_context("spawn")
    slack_conn, slack_child = ctx.Pipe()
    slack_proc = ctx.Process(target=slack_main, args=(slack_child,), name="chart-memory-slack")
    slack_proc.start()
    slack_info = slack_conn.recv()
    bot_conn, bot_child = ctx.Pipe()
    bot_proc = ctx.Process(target=bot_main, args=(slack_info["api_url"], slack_info["token"], args.threads, bot_child),
                           name="chart-memory-bot")
    bot_proc.start()
    info = bot_conn.recv()
    url, pid = info["url"], info["pid"]
    seed(url)
    base_files = files_seen(slack_conn)
    print(f"seeded; {base_files} files so far", flush=True)
    idle = rss_mb(pid)

    errors = [0]
    lock = threading.Lock()

    def send(i: int) -> None:
        try:
            ok = command(url, SHOWS[i % len(SHOWS)], i) == 200
        except OSError:
            ok = False
        if not ok:
            with lock:
                errors[0] += 1

    readings: dict[str, float] = {}
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        for i in range(args.charts):
            due = started + i / args.rate
            time.sleep(max(0.0, due - time.monotonic()))
            pool.submit(send, i)
            if i + 1 == args.warmup:
                wait_for_files(slack_conn, base_files + args.warmup, 60)
                readings["warm"] = rss_mb(pid)
                started = time.monotonic() - (i + 1) / args.rate  # keep the pace after the pause
            if (i + 1) % 500 == 0:
                print(f"  {i + 1} sent, bot RSS {rss_mb(pid):.1f} MB", flush=True)
    elapsed = time.monotonic() - started
    uploaded = wait_for_files(slack_conn, base_files + args.charts, 120) - base_files
    time.sleep(1.0)
    readings["end"] = rss_mb(pid)
    bot_conn.send("stop")
    bot_conn.recv()
    bot_proc.join(timeout=30)
    slack_conn.send("stop")
    slack_proc.join(timeout=30)

    growth = readings["end"] - readings["warm"]
    print(f"{args.charts} `/kpi show` charts at {args.rate:g} req/s requested, {args.charts / elapsed:.1f} req/s "
          f"achieved; {uploaded} uploaded, {errors[0]} failed acks")
    print(f"bot RSS: idle {idle:.1f} MB, after {args.warmup} charts {readings['warm']:.1f} MB, "
          f"after {args.charts} {readings['end']:.1f} MB; growth {growth:+.1f} MB "
          f"({growth / max(1e-9, elapsed):+.3f} MB/s)")
    verdict = Verdict()
    verdict.check(growth < MEMORY_TARGET_MB, f"bot RSS growth after warm-up {growth:+.1f} MB < {MEMORY_TARGET_MB:g} MB")
    verdict.check(errors[0] == 0 and uploaded == args.charts, f"every ack 200 and every chart uploaded ({uploaded})")
    print(verdict.render())
    return verdict.exit_status(no_fail=args.no_fail)


if __name__ == "__main__":
    sys.exit(main())
