"""The commands layer hands its after-ack work over as plain values, and never reaches into jobs/."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from commands import COMMANDS
from commands.base import CommandContext, run_handler
from commands.followups import Answer, DeliverPost, PostChart, PostDigestNow, RefreshHomes
from storage.db import Database

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_no_module_under_commands_imports_jobs() -> None:
    for path in sorted((ROOT / "commands").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not [n for n in names if n == "jobs" or n.startswith("jobs.")], f"{path.name} imports {names}"


def _run(db: Database, line: str) -> Answer:
    command, _, text = line.partition(" ")
    ctx = CommandContext(db=db, workspace_id="T0LAYER", user_id="U0ANA", channel_id="C0GENERAL", now=NOW,
                         zone=ZoneInfo("Asia/Shanghai"), trigger_id="1337.42")
    return run_handler(COMMANDS[command].handle, text, ctx, COMMANDS[command].usage)


def test_handlers_return_their_follow_ups(sqlite_db: Database) -> None:
    assert _run(sqlite_db, "/kpi log visits 1200").followups == ()
    shown = _run(sqlite_db, "/kpi show visits period:7d")
    assert shown.followups == (PostChart(
        workspace_id="T0LAYER", channel_id="C0GENERAL", user_id="U0ANA",
        spec={"type": "breakdown", "metric_id": 1, "start": "2026-11-17", "end": "2026-11-23", "name": "kpi-K-1",
              "channel": None, "goals": []},
        comment="<@U0ANA> · `/kpi show visits period:7d`", locale="en", label="visits period:7d",
    ),), "the chart is described from what the handler read; nothing re-parses the text after the ack"

    assert _run(sqlite_db, "/task add Banner <@U0BO>").followups == (RefreshHomes("T0LAYER", ("U0BO",)),)
    assert _run(sqlite_db, "/mkt digest now").followups == (
        PostDigestNow("T0LAYER", "C0GENERAL", "digest-now:C0GENERAL:1337.42", "en"),
    )
    started = _run(sqlite_db, "/retro start")
    assert len(started.followups) == 1 and isinstance(started.followups[0], DeliverPost)
    assert _run(sqlite_db, "/task add Banner").followups == (), "nobody's Home shows a task without an owner"
    assert _run(sqlite_db, "/task add").followups == (), "a refused command leaves nothing for after the ack"
