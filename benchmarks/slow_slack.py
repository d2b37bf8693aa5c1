#!/usr/bin/env python
"""Acks while Slack's Web API is slow: every call answers after 5 s, and each command kind is the first
request of a fresh mktbot process (nothing warmed: no auth.test answer, no user directory).

    .venv/bin/python benchmarks/slow_slack.py               # 5 s per Web API call
    .venv/bin/python benchmarks/slow_slack.py --delay 2 --no-fail

LocalSlack (bot/localslack) runs in this process with `api_delay` set; the real app runs in its own
process on bot.server's waitress stack, over signed HTTP. Buttons and forms need a message or a modal
first: a setup process makes them while Slack is fast, and is stopped before the measured process starts.
Target: every ack (p100) within 0.5 s, whatever Slack's delay; Slack's own deadline is 3 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import Verdict, machine_note, md_table, ms, tree_note

ACK_TARGET = 0.5
ANA, BO = "U0ANA", "U0BO"
GENERAL = "C0GENERAL"
TEAM = "T0SLOW"


def serve(api_url: str, token: str, secret: str, database_url: str, port_file: str) -> None:
    """The measured process: the real app, its port written to `port_file` once it listens."""
    from bot.app import build_app
    from bot.server import make_server
    from bot.settings import Settings

    settings = Settings(
        api_url=api_url, bot_token=token, signing_secret=secret, database_url=database_url,
        timezone="Asia/Shanghai", listener_threads=4,
    )
    server = make_server(build_app(settings), host="127.0.0.1", port=0, threads=8)
    Path(port_file + ".tmp").write_text(str(server.effective_port))
    os.replace(port_file + ".tmp", port_file)
    server.run()


class AppProcess:
    def __init__(self, slack: Any, database_url: str, workdir: Path) -> None:
        port_file = workdir / f"port-{time.monotonic_ns()}"
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", slack.api_url, slack.bot_token, slack.signing_secret, database_url,
             str(port_file)],
        )
        deadline = time.monotonic() + 60
        while not port_file.exists():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit("the app process did not start")
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port_file.read_text()}"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(base + "/healthz", timeout=10) as resp:  # the HTTP stack is up; Bolt is untouched
            resp.read()
        slack.bot_url = base + "/slack/events"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=5.0, help="seconds every Web API call waits (default 5)")
    parser.add_argument("--no-fail", action="store_true", help="report only; exit 0 even when a target fails")
    parser.add_argument("--serve", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return 0

    from bot.ids import ActionId, BlockId, record_block
    from bot.localslack import LocalSlack

    slack = LocalSlack(team_id=TEAM, team_name="Acme Marketing").start()
    slack.add_user(ANA, "ana", real_name="Ana Lima", tz="Asia/Shanghai")
    slack.add_user(BO, "bo", real_name="Bo Chen", tz="Asia/Shanghai")
    slack.add_channel(GENERAL, "general", members=[ANA, BO])
    workdir = Path(tempfile.mkdtemp(prefix="mktbot-slow-slack-"))
    database_url = f"sqlite:///{workdir / 'mktbot.db'}"

    def command(line: str) -> Callable[[], Any]:
        name, _, text = line.partition(" ")
        return lambda: slack.send_command(name, text, user_id=ANA, channel_id=GENERAL, team_id=TEAM)

    def task_card() -> Callable[[], Any]:
        before = len(slack.messages)
        command("/task add Card for the button due:fri")()
        card = [m for m in slack.messages[before:] if m.source == "command_ack"][-1]
        block_id = next(b.get("block_id") for b in card.blocks if str(b.get("block_id", "")).startswith(
            record_block(BlockId.TASK_ACTIONS, "")))
        return lambda: slack.click_button(card, ActionId.TASK_DONE, user_id=ANA, block_id=block_id)

    def task_modal() -> Callable[[], Any]:
        command("/task")()
        slack.wait_for("views.open", timeout=10)
        opened = [v for v in slack.views if v["method"] == "views.open"][-1]
        values = {BlockId("title"): {ActionId.FIELD: "From the form"}, BlockId("due"): {ActionId.FIELD: "2026-12-31"}}
        return lambda: slack.submit_view(opened["id"], user_id=ANA, values=values)

    kinds: list[tuple[str, Callable[[], Callable[[], Any]]]] = [
        ("/task add … @bo", lambda: command('/task add "Banner v2" @bo due:fri')),
        ("/kpi log", lambda: command("/kpi log visits 1200 orders 30")),
        ("/goal list", lambda: command("/goal list")),
        ("/mkt digest now", lambda: command("/mkt digest now")),
        ("/task (opens a modal)", lambda: command("/task")),
        ("button: task Done", task_card),
        ("view submission: task form", task_modal),
    ]
    verdict = Verdict()
    rows = []
    try:
        for label, prepare in kinds:
            slack.api_delay = 0.0
            setup = AppProcess(slack, database_url, workdir)
            try:
                send = prepare()
            finally:
                setup.stop()
            slack.api_delay = args.delay
            measured = AppProcess(slack, database_url, workdir)
            try:
                result = send()
            finally:
                measured.stop()
            body = str(result.body)[:60].replace("|", "/")
            rows.append([label, result.status, ms(result.elapsed), "yes" if result.late else "no", body])
            verdict.check(
                result.status == 200 and not result.late and result.elapsed < ACK_TARGET,
                f"{label}: first ack in {ms(result.elapsed)} ms with Slack answering after {args.delay:g} s "
                f"(target < {ms(ACK_TARGET)} ms)",
            )
    finally:
        slack.stop()
    print(f"# Acks with a slow Slack ({args.delay:g} s per Web API call), first request of a fresh process\n")
    print(f"Tree {tree_note()}; {machine_note()}\n")
    print(md_table(["kind", "status", "ack ms", "late", "ack body"], rows))
    print()
    print(verdict.render())
    return verdict.exit_status(no_fail=args.no_fail)


if __name__ == "__main__":
    sys.exit(main())
