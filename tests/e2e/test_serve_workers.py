"""`mktbot serve --workers 2`: two processes behind one port, one database, references still unique."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bot.localslack import LocalSlack
from tests.support.harness import ANA, GENERAL, make_slack, new_team_id

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "server exited"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("server did not come up")


def test_two_worker_processes_share_one_database(tmp_path: Path) -> None:
    team = new_team_id()
    slack: LocalSlack = make_slack(team)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'mktbot.db'}",
        "MKTBOT_TIMEZONE": "Asia/Shanghai",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2", "--threads", "4"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", proc)
        slack.bot_url = f"http://127.0.0.1:{port}/slack/events"
        refs = []
        for i in range(12):
            result = slack.send_command("/task", f"add Banner {i} due:fri", user_id=ANA, channel_id=GENERAL, team_id=team)
            assert result.status == 200
            text = result.body["text"] if isinstance(result.body, dict) else str(result.body)
            refs.append(text.split()[1])
        assert sorted(refs, key=lambda r: int(r[2:])) == [f"T-{n}" for n in range(1, 13)]
        assert len(children(proc.pid)) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        slack.stop()
