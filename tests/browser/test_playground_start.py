"""The playground without a browser: its pieces start and stop, serve the page and drive the real bot."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.playground import TEAM_ID, Playground
from bot.playground.clock import ShiftableClock
from bot.playground.demo import already_seeded
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers.get("Content-Type", "")


def post(url: str, body: dict[str, Any], content_type: str = "application/json") -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def wait_for(predicate: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.fixture
def playground(tmp_path: Path) -> Any:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'mktbot.db'}", timezone="Asia/Shanghai")
    pg = Playground(settings, port=0, tick_seconds=2).start()
    try:
        yield pg
    finally:
        pg.stop()


def test_serves_the_page_and_its_assets_on_loopback(playground: Playground) -> None:
    assert playground.url.startswith("http://127.0.0.1:")
    status, body, ctype = get(playground.url + "/")
    assert status == 200 and ctype.startswith("text/html")
    page = body.decode()
    assert "mktbot playground" in page and 'src="app.js"' in page
    for asset in ("app.js", "app.css"):
        status, body, _ = get(f"{playground.url}/{asset}")
        assert status == 200 and len(body) > 1000
    # nothing on the page comes from another host
    for asset in ("/", "/app.js", "/app.css"):
        text = get(playground.url + asset)[1].decode()
        assert "https://fonts." not in text and "cdn" not in text.lower() and "<script src=\"http" not in text


def test_a_command_typed_in_the_page_reaches_the_real_bot(playground: Playground) -> None:
    status, answer = post(playground.url + "/playground/command",
                          {"user": "U0ANA", "channel": "C0GENERAL", "text": "/kpi log visits 1,200 channel:天猫"})
    assert status == 200 and answer == {"ok": True}, answer

    def bot_replies() -> list[dict[str, Any]]:
        data = json.loads(get(playground.url + "/playground/state?user=U0ANA")[1])
        return [m for m in data["messages"] if m["bot"]]

    reply = wait_for(bot_replies)[-1]
    data = json.loads(get(playground.url + "/playground/state?user=U0ANA")[1])
    assert reply["ephemeral"] and reply["bot"] and reply["channel"] == "C0GENERAL"
    assert "visits" in json.dumps(reply) and "天猫" in json.dumps(reply, ensure_ascii=False), reply
    # it went through the database the bot uses
    assert playground.slack is not None and playground.slack.deliveries[-1].kind == "command"
    assert data["me"] == "U0ANA" and {m["id"] for m in data["members"]} >= {"U0ANA", "U0LILEI"}
    assert any(m["locale"] == "zh-CN" for m in data["members"])
    # the private reply is not in another member's view
    other = json.loads(get(playground.url + "/playground/state?user=U0BO")[1])
    assert not any(m["ephemeral"] for m in other["messages"])


def test_state_is_cheap_when_nothing_changed(playground: Playground) -> None:
    first = json.loads(get(playground.url + "/playground/state?user=U0ANA")[1])
    again = json.loads(get(f"{playground.url}/playground/state?user=U0ANA&since={first['etag']}")[1])
    assert again["unchanged"] is True and "messages" not in again and again["clock"]["zone"] == "Asia/Shanghai"


def test_messages_mentions_and_bad_requests(playground: Playground) -> None:
    status, answer = post(playground.url + "/playground/message",
                          {"user": "U0BO", "channel": "C0GENERAL", "text": "hi @ana and @李雷, see ana@acme.example"})
    assert status == 200 and answer["ok"]
    assert playground.slack is not None
    sent = playground.slack.channel_messages("C0GENERAL")[-1]
    assert sent.text == "hi <@U0ANA> and <@U0LILEI>, see ana@acme.example"
    assert post(playground.url + "/playground/message", {"user": "U0NOBODY", "channel": "C0GENERAL", "text": "x"})[0] == 400
    assert post(playground.url + "/playground/command", {"user": "U0ANA", "channel": "C0GENERAL", "text": "/x"},
                content_type="text/plain")[0] == 415
    status, answer = post(playground.url + "/playground/command", {"user": "U0ANA", "channel": "C0GENERAL", "text": "/nope"})
    assert status == 200 and answer["ok"] is False and "/nope" in answer["error"]


def test_typed_text_reaches_the_bot_escaped_as_slack_sends_it(playground: Playground) -> None:
    """Slack escapes & < > in message and command text; the playground does too, around the mentions it makes."""
    assert playground.slack is not None
    status, answer = post(playground.url + "/playground/message",
                          {"user": "U0BO", "channel": "C0GENERAL", "text": "R&D <again> @ana &amp;"})
    assert status == 200 and answer["ok"]
    sent = playground.slack.channel_messages("C0GENERAL")[-1]
    assert sent.text == "R&amp;D &lt;again&gt; <@U0ANA> &amp;amp;"
    event = json.loads([d for d in playground.slack.deliveries if d.kind == "event"][-1].body)["event"]
    assert event["text"] == sent.text
    status, answer = post(playground.url + "/playground/command",
                          {"user": "U0ANA", "channel": "C0GENERAL", "text": "/task add P&G <brief> @bo"})
    assert status == 200 and answer["ok"], answer
    command = [d for d in playground.slack.deliveries if d.kind == "command"][-1]
    assert dict(urllib.parse.parse_qsl(command.body.decode()))["text"] == "add P&amp;G &lt;brief&gt; <@U0BO|bo>"

    def task_replies() -> list[str]:
        data = json.loads(get(playground.url + "/playground/state?user=U0ANA")[1])
        return [text for m in data["messages"] if m["bot"] and "T-" in (text := json.dumps(m, ensure_ascii=False))]

    shown = wait_for(task_replies)[-1]
    assert "P&amp;G &lt;brief&gt;" in shown and "&amp;amp;" not in shown, shown


def test_clock_panel_moves_time_and_runs_the_digest(playground: Playground) -> None:
    before = playground.clock()
    status, answer = post(playground.url + "/playground/clock", {"action": "digest", "channel": "C0MARKETING"})
    assert status == 200 and answer["ok"], answer
    assert playground.slack is not None
    assert any(m.channel == "C0MARKETING" and m.bot_id for m in playground.slack.messages)
    status, answer = post(playground.url + "/playground/clock", {"action": "advance", "hours": 2})
    assert status == 200 and answer["ok"] and answer["clock"]["offset_hours"] == 2
    assert playground.clock() - before >= timedelta(hours=2)
    status, answer = post(playground.url + "/playground/clock", {"action": "schedules"})
    assert status == 200 and answer["ok"] and "schedule" in answer["note"]
    assert post(playground.url + "/playground/clock", {"action": "advance", "hours": -1})[0] == 400


def test_shiftable_clock_only_moves_forward() -> None:
    clock = ShiftableClock()
    start = clock()
    clock.advance(timedelta(days=1))
    assert clock() - start >= timedelta(days=1) and clock.offset == timedelta(days=1)
    assert abs(clock.timestamp() - clock().timestamp()) < 1
    with pytest.raises(ValueError):
        clock.advance(timedelta(hours=-1))


def test_demo_seed_runs_once(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", timezone="Asia/Shanghai")
    first = Playground(settings, port=0, demo=True).start()
    try:
        assert first.seeded and already_seeded(first.db, TEAM_ID)
        _status, answer = post(first.url + "/playground/command", {"user": "U0ANA", "channel": "C0MARKETING", "text": "/goal list"})
        assert answer["ok"], answer
    finally:
        first.stop()
    second = Playground(settings, port=0, demo=True).start()
    try:
        assert not second.seeded
    finally:
        second.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_mktbot_playground_command_starts_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "MKTBOT_TIMEZONE": "Asia/Shanghai",
           "SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": "", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "playground", "--port", str(port)],
        cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if f"Open http://127.0.0.1:{port}" in line:
                break
        assert any(f"Open http://127.0.0.1:{port}" in line for line in lines), "".join(lines)
        assert get(f"http://127.0.0.1:{port}/")[0] == 200
        _status, answer = post(f"http://127.0.0.1:{port}/playground/command",
                              {"user": "U0ANA", "channel": "C0GENERAL", "text": "/mkt help"})
        assert answer["ok"], answer
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_busy_port_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.playground import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings(database_url=f"sqlite:///{tmp_path / 'busy.db'}")
        assert main(settings, port=port) == 2
    assert f"--port {port + 1}" in capsys.readouterr().err
