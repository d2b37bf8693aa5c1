"""Socket Mode for real: slack_sdk's built-in client (through Bolt's SocketModeHandler) connects to the local
Slack with the app-level token, and a whole conversation runs over the WebSocket: a command, a button, a
modal submission and a thread reply in a retrospective."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import build_app
from bot.ids import ActionId, BlockId, record_block
from bot.localslack import LocalSlack
from bot.settings import Settings
from storage.db import Database
from tests.conftest import Clock
from tests.support.harness import ANA, BO, GENERAL, NOW, Bot, block, fill, make_slack, new_team_id, wait_until

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def socket_bot(sqlite_db: Database) -> Iterator[Bot]:
    team = new_team_id()
    slack = make_slack(team)
    slack.socket_mode = True
    clock = Clock(NOW)
    settings = Settings(api_url=slack.api_url, bot_token=slack.bot_token, app_token=slack.app_token,
                        database_url=sqlite_db.engine.url.render_as_string(hide_password=False),
                        timezone="Asia/Shanghai", listener_threads=4)
    app = build_app(settings, db=sqlite_db, clock=clock)
    handler = SocketModeHandler(app, settings.app_token)
    handler.connect()
    try:
        slack.wait_for_socket()
        yield Bot(slack=slack, app=app, server=None, db=sqlite_db, clock=clock, team_id=team)  # type: ignore[arg-type]
    finally:
        handler.close()
        app.listener_runner.listener_executor.shutdown(wait=True, cancel_futures=True)
        app.runtime.background.shutdown(wait=True, cancel_futures=True)
        slack.stop()


def test_a_conversation_over_socket_mode(socket_bot: Bot) -> None:
    bot, slack = socket_bot, socket_bot.slack

    # a command, acked over the socket with the reply as the ack's payload
    card = bot.reply_to(ANA, "/task add Banner for 双十一 @bo due:fri")
    assert "T-1" in card.all_text() and card.is_ephemeral
    assert not slack.get_calls("chat.postMessage"), "the reply came back in the ack, not through the Web API"

    # a button on the card
    assert block(card.blocks, record_block(BlockId.TASK_ACTIONS, "T-1")) is not None
    bot.click(card, ActionId.TASK_DONE, ANA)
    wait_until(lambda: bot.rows("SELECT status FROM tasks WHERE workspace_id = :w", w=bot.team_id) == [("done",)],
               what="the task to be done")

    # a modal opened by a command, then submitted: the ack's payload closes it
    view = bot.open_modal(ANA, "/task")
    result = bot.submit(view, ANA, fill(title="直播 脚本", owner=BO, start="2026-11-24", due="2026-11-27"))
    assert not (isinstance(result.body, dict) and result.body.get("response_action") == "errors"), result.body
    wait_until(lambda: ("直播 脚本",) in bot.rows("SELECT title FROM tasks WHERE workspace_id = :w", w=bot.team_id),
               what="the task from the modal")

    # a retrospective: its thread parent is posted, a reply in the thread arrives as an events_api envelope
    assert "R-1" in bot.say(ANA, "/retro start period:month")
    parent = slack.wait_for_message(
        where=lambda m: m.is_bot and m.source == "chat.postMessage" and "Retrospective R-1" in m.all_text(), timeout=10)
    wait_until(lambda: bot.rows("SELECT thread_ts FROM retros WHERE workspace_id = :w", w=bot.team_id)[0][0],
               what="the retro's thread")
    slack.post_user_message(GENERAL, ANA, "went well: 直播带货 drove 40% of GMV", thread_ts=parent.ts)
    notes = wait_until(lambda: bot.rows("SELECT category, text FROM retro_notes WHERE workspace_id = :w",
                                        w=bot.team_id), what="the retro note")
    assert notes == [("well", "直播带货 drove 40% of GMV")]

    # every request went over the socket, each acked by its envelope id
    [conn] = slack.socket_connections
    kinds = [d.kind for d in slack.deliveries]
    assert {"command", "interaction", "event"} <= set(kinds)
    assert all(d.headers == {} and d.result.status == 200 for d in slack.deliveries)
    assert len(conn.received) == len(slack.deliveries)
    assert all(set(ack) <= {"envelope_id", "payload"} for ack in conn.received)


def test_envelopes_have_slacks_shape(socket_bot: Bot) -> None:
    slack = socket_bot.slack
    command = slack.envelope("command", b"command=%2Fmkt&text=help&user_id=U0ANA")
    assert command["type"] == "slash_commands" and command["accepts_response_payload"] is True
    assert command["payload"] == {"command": "/mkt", "text": "help", "user_id": "U0ANA"}
    event = slack.envelope("event", json.dumps({"type": "event_callback", "event": {"type": "message"}}).encode(),
                           {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"})
    assert (event["type"], event["accepts_response_payload"], event["retry_attempt"], event["retry_reason"]) == (
        "events_api", False, 1, "timeout")
    click = slack.envelope("interaction", b"payload=" + json.dumps({"type": "block_actions"}).encode())
    assert click["type"] == "interactive" and click["accepts_response_payload"] is False
    assert len({command["envelope_id"], event["envelope_id"], click["envelope_id"]}) == 3


def test_apps_connections_open_takes_the_app_level_token_only() -> None:
    with LocalSlack() as slack:
        opened = WebClient(base_url=slack.api_url).apps_connections_open(app_token=slack.app_token)
        assert opened["url"].startswith(f"ws://127.0.0.1:{slack.port}/link/?ticket=")
        with pytest.raises(SlackApiError) as wrong:
            WebClient(base_url=slack.api_url).apps_connections_open(app_token=slack.bot_token)
        assert wrong.value.response["error"] == "not_allowed_token_type"
        with pytest.raises(SlackApiError) as app_token_elsewhere:
            WebClient(token=slack.app_token, base_url=slack.api_url).chat_postMessage(channel="C1", text="x")
        assert app_token_elsewhere.value.response["error"] == "not_allowed_token_type"


def test_the_client_reconnects_after_slack_asks_it_to(socket_bot: Bot) -> None:
    slack = socket_bot.slack
    first = slack.wait_for_socket()
    slack.disconnect_sockets()
    deadline = time.monotonic() + 15
    while not [c for c in slack.socket_connections if c is not first]:
        assert time.monotonic() < deadline, "the client did not reconnect"
        time.sleep(0.1)
    assert "T-1" in socket_bot.reply_to(ANA, "/task add After reconnecting").all_text()


def test_mktbot_run_with_an_app_token_serves_over_socket_mode_and_drains(tmp_path: Path) -> None:
    """`mktbot run` with SLACK_APP_TOKEN: the WebSocket carries Slack's traffic; HTTP answers health only."""
    from tests.e2e.test_serve_workers import free_port, wait_healthy

    team = new_team_id()
    slack = make_slack(team)
    slack.socket_mode = True
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MKTBOT_", "DATABASE_URL"))},
        "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": slack.app_token, "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'mktbot.db'}", "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/readyz", proc)
        slack.wait_for_socket(timeout=20)
        result = slack.send_command("/task", "add Over the socket", user_id=ANA, channel_id=GENERAL, team_id=team)
        assert result.status == 200 and "T-1" in json.dumps(result.body, ensure_ascii=False)
        with pytest.raises(urllib.error.HTTPError) as refused:  # nothing would verify a request sent there
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/slack/events", data=b"{}",
                                                          headers={"Content-Type": "application/json"}), timeout=5)
        assert refused.value.code == 404
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        slack.stop()
