"""Run the exported image's `mktbot` under chroot, as its own non-root user, and drive it as Slack does.

    python deploy/image_smoke.py ROOTFS

A local Slack (bot.localslack) runs here; the image's `mktbot serve` is pointed at it with SLACK_API_URL, gets
a signed `/task add` and must answer it, write the task into its SQLite database in /data, and answer
/healthz. Exits non-zero with the server's output when anything fails."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.localslack import LocalSlack


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(root: Path) -> int:
    slack = LocalSlack(team_id="T0IMAGE").start()
    slack.add_user("U0ANA", "ana", real_name="Ana Lima", tz="Asia/Shanghai", locale="zh-CN")
    slack.add_channel("C0GENERAL", "general", members=["U0ANA"])
    port = free_port()
    env = {
        "PATH": "/opt/mktbot/bin:/usr/bin:/bin",
        "HOME": "/home/mktbot",
        "DATABASE_URL": "sqlite:////data/mktbot.db",
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "MKTBOT_TIMEZONE": "Asia/Shanghai",
    }
    as_user = [shutil.which("chroot") or "/usr/sbin/chroot", "--userspec=10001:10001", str(root)]
    upgrade = subprocess.run([*as_user, "/opt/mktbot/bin/mktbot", "db", "upgrade"], env=env, capture_output=True,
                             text=True, timeout=120)
    if upgrade.returncode != 0:
        print(upgrade.stdout, upgrade.stderr, sep="\n")
        return 1
    server = subprocess.Popen([*as_user, "/opt/mktbot/bin/mktbot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        slack.bot_url = f"{url}/slack/events"
        result = slack.send_command("/task", "add Banner for 双十一 due:fri", user_id="U0ANA", channel_id="C0GENERAL")
        text = str(result.body)
        assert result.status == 200 and "T-1" in text, (result.status, text)
        db = root / "data" / "mktbot.db"
        assert db.exists() and os.stat(db).st_uid == 10001, "the database is the mktbot user's, in /data"
        print(f"image ok: /healthz 200, /task add answered ({text[:80]}…), database in /data owned by uid 10001")
        return 0
    except Exception as exc:
        server.terminate()
        out, _ = server.communicate(timeout=10)
        print(f"image smoke test failed: {exc!r}\n--- server output ---\n{out}")
        return 1
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=10)
        slack.stop()


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
