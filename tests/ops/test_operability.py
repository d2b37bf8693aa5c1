"""Operability: readiness, metrics, the scheduler's heartbeat, SIGTERM draining, JSON logs, backups and the
playground's refusal to seed someone else's database."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.server import BackgroundServer
from bot.telemetry import readiness
from storage.db import Database, open_database
from storage.models import SchedulerHeartbeat
from tests.conftest import Clock
from tests.e2e.test_serve_workers import free_port
from tests.support.harness import ANA, GENERAL, Bot, make_slack, new_team_id, running_bot, wait_until

ROOT = Path(__file__).resolve().parents[2]


def get(url: str) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode(), dict(response.headers.items())
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), dict(err.headers.items())


@pytest.fixture
def bot(sqlite_db: Database) -> Iterator[Bot]:
    with running_bot(sqlite_db, clock=Clock(datetime(2026, 11, 23, 1, tzinfo=UTC)), team_id=new_team_id()) as running:
        yield running


@pytest.fixture
def with_scheduler(bot: Bot) -> Iterator[str]:
    """The bot's HTTP stack as `mktbot run` serves it: /readyz watches the scheduler's heartbeat."""
    server = BackgroundServer(bot.app, port=0, threads=4, heartbeat_max_age=60).start()
    try:
        yield f"http://127.0.0.1:{server.server.effective_port}"
    finally:
        server.stop()


def test_healthz_is_plain_liveness(bot: Bot) -> None:
    base = bot.server.url.removesuffix("/slack/events")
    assert get(f"{base}/healthz")[:2] == (200, "ok")


def test_readyz_needs_a_recent_scheduler_heartbeat(bot: Bot, with_scheduler: str) -> None:
    from jobs import tick

    status, body, _ = get(f"{with_scheduler}/readyz")
    assert (status, body) == (503, "scheduler has not ticked yet")
    tick.install("default", bot.app.runtime.jobs)
    tick.run("default")
    status, body, _ = get(f"{with_scheduler}/readyz")
    assert status == 200 and body.startswith("ready: database ok, scheduler ticked")
    with bot.db.session() as s:
        beat = s.get(SchedulerHeartbeat, "default")
        assert beat is not None
        beat.beat_at = datetime.now(UTC) - timedelta(minutes=5)
    status, body, _ = get(f"{with_scheduler}/readyz")
    assert status == 503 and "scheduler heartbeat is 300 s old (more than 60 s)" in body


def test_readyz_without_a_scheduler_checks_the_database(bot: Bot) -> None:
    base = bot.server.url.removesuffix("/slack/events")
    assert get(f"{base}/readyz")[:2] == (200, "ready: database ok")


def test_an_unreachable_database_is_not_ready() -> None:
    db = open_database("postgresql+psycopg://nobody@127.0.0.1:9/none", migrate=False)
    try:
        ready, why = readiness(db, heartbeat_max_age=None)
    finally:
        db.dispose()
    assert not ready and why.startswith("database not reachable: OperationalError")


def test_metrics_count_commands_time_acks_and_gauge_the_outbox(bot: Bot) -> None:
    from bot.services import outbox

    bot.reply_to(ANA, "/mkt help")
    with bot.db.session() as s:
        outbox.enqueue(s, workspace_id=bot.team_id, post=outbox.Post(dedupe_key=f"m-{bot.team_id}", kind="digest",
                                                                      text="x", slack_channel_id=GENERAL))
    base = bot.server.url.removesuffix("/slack/events")
    status, body, headers = get(f"{base}/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=")
    assert 'mktbot_commands_total{command="/mkt",outcome="ok"}' in body
    assert 'mktbot_ack_seconds_bucket{kind="command",le="3.0"}' in body
    pending = next(line for line in body.splitlines() if line.startswith('mktbot_outbox_posts{state="pending"}'))
    assert float(pending.split()[-1]) >= 1
    for name in ('mktbot_outbox_posts{state="retrying"}', 'mktbot_outbox_posts{state="dead"}',
                 "mktbot_tick_lag_seconds", "mktbot_posts_total"):
        assert name in body


def test_a_tick_stamps_the_heartbeat_and_measures_its_lag(bot: Bot) -> None:
    from bot.telemetry import TICK_LAG
    from jobs import tick

    tick.install("lagging", bot.app.runtime.jobs, interval=0.0)
    tick.run("lagging")
    time.sleep(0.2)
    tick.run("lagging")
    assert TICK_LAG._value.get() >= 0.2  # type: ignore[attr-defined]
    with bot.db.session(write=False) as s:
        beat = s.get(SchedulerHeartbeat, "lagging")
        assert beat is not None and abs((datetime.now(UTC) - beat.beat_at).total_seconds()) < 5


def test_sigterm_drains_follow_ups_and_exits_0_in_time(tmp_path: Path) -> None:
    """A command's follow-up (the locale look-up) is still waiting on a slow Slack when SIGTERM comes: it
    finishes, the scheduler shuts down, and the process exits 0 well within the drain time."""
    team = new_team_id()
    slack = make_slack(team)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MKTBOT_", "DATABASE_URL"))},
        "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url, "DATABASE_URL": f"sqlite:///{tmp_path / 'mktbot.db'}",
        "MKTBOT_TIMEZONE": "Asia/Shanghai", "MKTBOT_LOG_FORMAT": "json", "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while get_or_none(f"http://127.0.0.1:{port}/readyz") != 200:
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.2)
        slack.bot_url = f"http://127.0.0.1:{port}/slack/events"
        slack.api_delay = 2.0  # every Web API answer takes 2 s from now on
        assert slack.send_command("/mkt", "help", user_id=ANA, channel_id=GENERAL, team_id=team).status == 200
        wait_until(lambda: slack.get_calls("users.info"), what="the locale look-up to start")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert time.monotonic() - started < 10
        err = proc.stderr.read().decode() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
        slack.stop()
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    messages = [line["message"] for line in lines]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert "SIGTERM received: draining" in messages and messages[-1] == "shutdown complete"
    assert not [line for line in lines if line["level"] in ("ERROR", "CRITICAL")], err[-2000:]


def get_or_none(url: str) -> int | None:
    try:
        return get(url)[0]
    except OSError:
        return None


def test_json_log_lines_carry_the_traceback() -> None:
    from bot.cli import JsonFormatter

    try:
        raise ValueError("双十一")
    except ValueError:
        record = logging.LogRecord("mktbot", logging.ERROR, __file__, 1, "failed %s", ("x",), sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "failed x" and entry["level"] == "ERROR" and "ValueError: 双十一" in entry["exception"]


def test_db_backup_copies_a_sqlite_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main
    from bot.services.refs import ensure_workspace

    url = f"sqlite:///{tmp_path / 'live.db'}"
    db = open_database(url)
    with db.session() as s:
        ensure_workspace(s, "T0BACKUP")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    try:
        assert main(["db", "backup", "--out", str(tmp_path / "copies" / "b.db")]) == 0
    finally:
        db.dispose()
    assert "backed up" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "copies" / "b.db") as copy:
        assert copy.execute("SELECT id FROM workspaces").fetchall() == [("T0BACKUP",)]
    assert main(["db", "backup"]) == 0  # a dated file in the working directory
    assert len(list(tmp_path.glob("mktbot-*.db"))) == 1


def test_db_backup_on_postgresql_prints_the_pg_dump_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://mkt:hunter2@db.internal:5432/mktbot")
    assert main(["db", "backup", "--out", "nightly.dump"]) == 0
    out = capsys.readouterr().out
    assert "pg_dump --format=custom --no-owner --file=nightly.dump 'postgresql://mkt:***@db.internal:5432/mktbot'" in out
    assert "hunter2" not in out


def test_playground_demo_refuses_a_database_with_other_workspaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import foreign_workspaces, main, playground_settings
    from bot.playground import TEAM_ID
    from bot.services.refs import ensure_workspace
    from bot.settings import Settings

    url = f"sqlite:///{tmp_path / 'team.db'}"
    assert foreign_workspaces(url) == []  # not created yet
    db = open_database(url)
    with db.session() as s:
        ensure_workspace(s, TEAM_ID)
    assert foreign_workspaces(url) == []
    with db.session() as s:
        ensure_workspace(s, "T0REALTEAM")
    db.dispose()
    assert foreign_workspaces(url) == ["T0REALTEAM"]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["playground", "--demo", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "holds other workspaces (T0REALTEAM)" in err and "--force" in err

    own = playground_settings(Settings.from_env(env={"MKTBOT_DATA_DIR": str(tmp_path / "data")}, dotenv=None))
    assert own.database_url == f"sqlite:///{tmp_path / 'data' / 'playground.db'}"


def test_metrics_add_up_every_worker_of_serve_workers(tmp_path: Path) -> None:
    from tests.e2e.test_serve_workers import wait_healthy

    team = new_team_id()
    slack = make_slack(team)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MKTBOT_", "DATABASE_URL", "PROMETHEUS"))},
        "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url, "DATABASE_URL": f"sqlite:///{tmp_path / 'mktbot.db'}",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
         "--threads", "2"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", proc)
        slack.bot_url = f"http://127.0.0.1:{port}/slack/events"
        for _ in range(6):
            assert slack.send_command("/mkt", "help", user_id=ANA, channel_id=GENERAL, team_id=team).status == 200
        counts = set()
        for _ in range(4):  # whichever worker answers, it tells the whole server's count
            body = get(f"http://127.0.0.1:{port}/metrics")[1]
            line = next(x for x in body.splitlines() if x.startswith('mktbot_commands_total{command="/mkt",outcome="ok"}'))
            counts.add(float(line.split()[-1]))
        assert counts == {6.0}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        slack.stop()
