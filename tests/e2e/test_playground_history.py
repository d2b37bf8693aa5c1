"""`mktbot playground --demo`: the channels hold the bot's recent posts (the last three digests in each digest
channel, last week's report with its charts, the festival retrospective's thread), written in each channel's
team language, read back through the local Slack's Web API over HTTP; a restart keeps them, a second `--demo`
adds nothing, and every "Try" chip of the page works against the demo data."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot.playground import DEMO_TEAM, WEB_DIR, Playground
from bot.playground.demo import retro_replies
from bot.playground.history import report_day
from bot.settings import Settings
from storage.models import Outbox, Retro, RetroNote

ROOT = Path(__file__).resolve().parents[2]
ZONE = "Asia/Shanghai"
CJK = re.compile(r"[\u3400-\u9fff]")
PNG = b"\x89PNG\r\n\x1a\n"


def start(path: Path, *, demo: bool) -> Playground:
    settings = Settings(database_url=f"sqlite:///{path / 'playground.db'}", timezone=ZONE)
    return Playground(settings, port=0, demo=demo, tick_seconds=3600).start()


def client(pg: Playground) -> WebClient:
    assert pg.slack is not None
    return WebClient(token=pg.slack.bot_token, base_url=pg.slack.api_url)


def history(pg: Playground, channel: str) -> list[dict[str, Any]]:
    """The channel's messages, oldest first, each with its thread's replies under "replies"."""
    web = client(pg)
    messages = list(reversed(web.conversations_history(channel=channel, limit=200)["messages"]))
    for m in messages:
        if m.get("reply_count"):
            m["replies"] = web.conversations_replies(channel=channel, ts=m["ts"])["messages"][1:]
    return messages


def local(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), ZoneInfo(ZONE))


def sent_posts(pg: Playground, kind: str) -> list[tuple[str, str]]:
    """(channel, ts) of the bot's sent outbox posts of `kind`, oldest first."""
    with pg.db.session(write=False) as session:
        rows = session.execute(
            select(Outbox.slack_channel_id, Outbox.message_ts)
            .where(Outbox.kind == kind, Outbox.status == "sent").order_by(Outbox.message_ts)
        ).all()
    return [(str(c), str(ts)) for c, ts in rows]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("playground-history")


@pytest.fixture(scope="module")
def seeded(data_dir: Path) -> Iterator[Playground]:
    pg = start(data_dir, demo=True)
    try:
        yield pg
    finally:
        pg.stop()


def test_the_last_three_digests_in_each_digest_channel_in_its_language(seeded: Playground) -> None:
    today = seeded.today()
    days = [today - timedelta(days=n) for n in (3, 2, 1)]
    for channel, (hour, minute), heading in (
        (DEMO_TEAM.marketing_channel, (9, 30), "Daily digest"),
        (DEMO_TEAM.ecommerce_channel, (9, 0), "每日摘要"),
    ):
        assert channel is not None
        posts = {ts for c, ts in sent_posts(seeded, "digest") if c == channel}
        digests = [m for m in history(seeded, channel) if m["ts"] in posts]
        assert [local(m["ts"]).date() for m in digests] == days, channel
        for m, day in zip(digests, days, strict=True):
            assert (local(m["ts"]).hour, local(m["ts"]).minute) == (hour, minute)
            assert m["text"].startswith(heading), m["text"]
            assert m["bot_id"] and m["blocks"]
            # composed for its own day, not for today
            weekday = f"{day:%A}" if heading == "Daily digest" else f"{day.month}月{day.day}日"
            assert weekday in m["text"], (day, m["text"])


def test_last_weeks_report_with_its_charts_in_its_thread(seeded: Playground) -> None:
    [(channel, ts)] = sent_posts(seeded, "report")
    assert channel == DEMO_TEAM.marketing_channel
    assert local(ts).date() == report_day(seeded.today()) and local(ts).weekday() == 0
    [report] = [m for m in history(seeded, channel) if m["ts"] == ts]
    assert report["text"].startswith("Weekly KPI report")
    assert any(b["type"] == "image" for b in report["blocks"]), "the headline chart in the report itself"
    charts = [f for reply in report["replies"] for f in reply.get("files", [])]
    assert len(charts) >= 3 and all(f["mimetype"] == "image/png" for f in charts)
    web = client(seeded)
    for f in charts:
        assert web.files_info(file=f["id"])["file"]["shares"]
        request = urllib.request.Request(f["url_private_download"],
                                         headers={"Authorization": f"Bearer {web.token}"})
        assert urllib.request.urlopen(request).read().startswith(PNG)


def test_the_closed_retrospective_thread_in_chinese(seeded: Playground) -> None:
    channel = DEMO_TEAM.retro_channel
    with seeded.db.session(write=False) as session:
        retro = session.scalars(select(Retro).where(Retro.kind == "campaign")).one()
        thread_ts, period_end = retro.thread_ts, retro.period_end
        note_ts = set(session.scalars(select(RetroNote.message_ts).where(RetroNote.retro_id == retro.id)))
        assert retro.status == "closed"
    [(parent_channel, parent_ts)] = sent_posts(seeded, "retro")
    assert (parent_channel, parent_ts) == (channel, thread_ts)
    [parent] = [m for m in history(seeded, channel) if m["ts"] == thread_ts]
    assert CJK.search(parent["text"]) and "R-1" in parent["text"]
    *team, summary = parent["replies"]
    retro_day = min(period_end + timedelta(days=3), seeded.today() - timedelta(days=1))
    expected = retro_replies(DEMO_TEAM, retro_day=retro_day, today=seeded.today(), zone=ZONE)
    assert [(m["user"], m["ts"]) for m in team] == [(r.user, r.ts) for r in expected]
    assert {m["ts"] for m in team} == note_ts, "the notes were recorded from these very replies"
    assert all(CJK.search(m["text"]) and not m.get("bot_id") for m in team)
    assert summary.get("bot_id") and CJK.search(summary["text"]) and sent_posts(seeded, "summary") == [(channel, summary["ts"])]
    assert float(parent["ts"]) < float(team[0]["ts"]) < float(summary["ts"])


def test_every_bot_post_in_the_chinese_channel_is_chinese(seeded: Playground) -> None:
    assert DEMO_TEAM.ecommerce_channel is not None
    posts = [m for m in history(seeded, DEMO_TEAM.ecommerce_channel) if m.get("bot_id")]
    assert len(posts) >= 4
    assert all(CJK.search(m["text"]) for m in posts)
    english = [m for m in history(seeded, DEMO_TEAM.marketing_channel) if m.get("bot_id")]
    assert english and not any(CJK.search(m["text"][:20]) for m in english)


EXAMPLES = re.compile(r"const (EXAMPLES(?:_ZH)?) = \[(.*?)\];", re.S)


def chips() -> dict[str, list[str]]:
    source = (WEB_DIR / "app.js").read_text(encoding="utf-8")
    found = {}
    for name, body in EXAMPLES.findall(source):
        found[name] = [json.loads(s) if s.startswith('"') else s[1:-1] for s in re.findall(r'"[^"\n]*(?:\\.[^"\n]*)*"|\'[^\'\n]*\'', body)]
    return found


def test_the_try_chips_write_and_work_against_the_demo(seeded: Playground) -> None:
    found = chips()
    assert set(found) == {"EXAMPLES", "EXAMPLES_ZH"}
    assert seeded.slack is not None
    uploads = len(seeded.slack.get_calls("files.completeUploadExternal"))
    for name, user in (("EXAMPLES", DEMO_TEAM.ana), ("EXAMPLES_ZH", DEMO_TEAM.lilei)):
        lines = found[name]
        writes = [line for line in lines if re.match(r"/(task add|task done|kpi log|goal checkin|feedback) ", line)]
        assert len(writes) >= 4, lines
        for line in lines:
            if line == "/mkt digest now":
                continue  # posts to the channel (checked by the clock panel's tests)
            assert seeded.slack is not None
            before = len(seeded.slack.messages)
            body = json.dumps({"user": user, "channel": DEMO_TEAM.marketing_channel, "text": line}).encode()
            request = urllib.request.Request(f"{seeded.url}/playground/command", data=body,
                                             headers={"Content-Type": "application/json"})
            assert json.loads(urllib.request.urlopen(request).read())["ok"], line
            reply = seeded.slack.wait_for_message(
                DEMO_TEAM.marketing_channel, timeout=10,
                where=lambda m, before=before, user=user: m.ephemeral_user == user and seeded.slack is not None
                and seeded.slack.messages.index(m) >= before,
            )
            assert ":warning:" not in reply.all_text() and "Usage" not in reply.all_text(), (line, reply.all_text())
    charts = sum(line.startswith("/kpi show") for lines in found.values() for line in lines)
    seeded.slack.wait_for("files.completeUploadExternal", count=uploads + charts, timeout=30)  # /kpi show's charts


def test_a_restart_keeps_the_history_and_a_second_demo_adds_nothing(seeded: Playground, data_dir: Path) -> None:
    channels = [DEMO_TEAM.marketing_channel, DEMO_TEAM.ecommerce_channel, DEMO_TEAM.retro_channel]

    def snapshot(pg: Playground) -> dict[str, list[tuple[str, str, str, int]]]:
        return {
            c: [(m["ts"], m.get("user", ""), m["text"], len(m.get("replies", []))) for m in history(pg, c)
                if not m.get("subtype")]
            for c in channels if c is not None
        }

    before = snapshot(seeded)
    with seeded.db.session(write=False) as session:
        outbox_rows = session.scalar(select(func.count()).select_from(Outbox))
    seeded.stop()

    again = start(data_dir, demo=False)
    try:
        assert snapshot(again) == before
        report = next(m for m in history(again, DEMO_TEAM.marketing_channel) if m["ts"] == sent_posts(again, "report")[0][1])
        chart = report["replies"][0]["files"][0]
        assert again.slack is not None and chart["url_private"].startswith(again.slack.base_url)
        request = urllib.request.Request(chart["url_private_download"],
                                         headers={"Authorization": f"Bearer {again.slack.bot_token}"})
        assert urllib.request.urlopen(request).read().startswith(PNG)
    finally:
        again.stop()

    third = start(data_dir, demo=True)
    try:
        assert not third.seeded and third.history == 0
        assert snapshot(third) == before
        with third.db.session(write=False) as session:
            assert session.scalar(select(func.count()).select_from(Outbox)) == outbox_rows
        digests = Counter((c, local(ts).date()) for c, ts in sent_posts(third, "digest"))
        assert digests and set(digests.values()) == {1}
    finally:
        third.stop()
    assert (data_dir / "playground.slack.db").is_file()


def test_a_history_saved_beside_another_database_is_set_aside(tmp_path: Path) -> None:
    first = start(tmp_path, demo=True)
    first.stop()
    for name in ("playground.db", "playground.db-wal", "playground.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    fresh = start(tmp_path, demo=False)
    try:
        assert fresh.slack is not None
        assert not [m for m in fresh.slack.messages if not m.is_ephemeral], "no posts of records that are gone"
    finally:
        fresh.stop()
    assert (tmp_path / "playground.slack.db.old").is_file()


def test_report_day_is_the_monday_before_today() -> None:
    assert report_day(date(2026, 12, 7)) == date(2026, 11, 30)  # a Monday: last week's
    assert report_day(date(2026, 12, 4)) == date(2026, 11, 30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_until_open(args: list[str], data: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "MKTBOT_"))}
    env.update({"MKTBOT_DATA_DIR": str(data), "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)})
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", *args, "--port", str(port)], cwd=data, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl-C stops it" in line:
            break
    return proc, "".join(lines)


def test_mktbot_run_without_credentials_says_where_and_how_to_see_the_demo_and_keeps_messages(tmp_path: Path) -> None:
    """`make run` on a fresh clone: `mktbot run` with no Slack credentials, the data directory empty."""
    port = _free_port()
    for attempt in range(2):
        proc, out = _run_until_open(["run"], tmp_path, port)
        try:
            assert f"Open http://127.0.0.1:{port}" in out, out
            assert "make demo" in out and "mktbot playground --demo" in out, out
            assert f"channel history: {tmp_path / 'playground.slack.db'}" in out, out
            web = WebClient(token="xoxb-local-token", base_url=f"http://127.0.0.1:{port}/api/")
            if attempt == 0:
                body = json.dumps({"user": "U0BO", "channel": "C0GENERAL", "text": "早上好，今天的天猫数据我来录"}).encode()
                request = urllib.request.Request(f"http://127.0.0.1:{port}/playground/message", data=body,
                                                 headers={"Content-Type": "application/json"})
                assert json.loads(urllib.request.urlopen(request).read())["ok"]
            texts = [m["text"] for m in web.conversations_history(channel="C0GENERAL")["messages"]]
            assert texts == ["早上好，今天的天猫数据我来录"], (attempt, texts)
            proc.send_signal(signal.SIGTERM)  # as a service manager stops it: the history is saved first
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
