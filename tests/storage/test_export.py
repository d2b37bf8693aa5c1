"""Export and import: every row of one workspace, as JSON files, and back under another team id."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from bot.services import campaigns, feedback, goals, kpis, tasks
from storage.db import Database
from storage.export import export_workspace, import_workspace
from storage.models import PendingImport
from tests.support import factories as make


def seed(db: Database, ws: str) -> None:
    with db.session() as s:
        make.metric(s, ws, "转化率", numerator="orders", denominator="visits")
        for day, visits, orders in ((1, 1000, 30), (2, 500, 20)):
            for name, value in (("visits", visits), ("orders", orders)):
                make.log(s, ws, name, value, date(2026, 11, day), channel="天猫")
        parent = make.goal(s, ws, "gmv", "12000000.5", title="Year GMV", start=date(2026, 1, 1), due=date(2026, 12, 31))
        make.goal(s, ws, "gmv", 3000000, title="Q4 GMV", start=date(2026, 10, 1), due=date(2026, 12, 31),
                  parent=parent.number)
        c = make.campaign(s, ws, "双十一 预售", date(2026, 11, 1), date(2026, 11, 11), channels=["天猫"], budget=200000,
                          currency="¥", goal=parent.number)
        campaigns.add_spend(s, workspace_id=ws, number=c.number, amount=Decimal("5000.25"), channel="天猫", day=date(2026, 11, 2), user_id="U1")
        make.task(s, ws, "Banner <!channel>", owner="U2", campaign=c.number)
        feedback.create_feedback(s, workspace_id=ws, data=feedback.FeedbackCreate("太贵了", source="customer", tags=["price"], campaign=c.number), user_id="U1")


def test_export_then_import_under_another_team(db: Database, workspace: str, tmp_path: Path) -> None:
    seed(db, workspace)
    other = workspace + "X"
    seed(db, other)  # must not leak into the export
    out = tmp_path / "export"
    counts = export_workspace(db, workspace_id=workspace, out=out)
    assert counts["tasks"] == 1 and counts["kpi_values"] == 4 and counts["goals"] == 2 and counts["campaign_goals"] == 1
    rows = json.loads((out / "tasks.json").read_text(encoding="utf-8"))
    assert rows[0]["title"] == "Banner <!channel>" and rows[0]["workspace_id"] == workspace
    assert json.loads((out / "campaign_spend.json").read_text())[0]["amount"] == "5000.250000"

    copy = workspace + "C"
    imported = import_workspace(db, source=out, workspace_id=copy)
    assert imported["tasks"] == 1
    with db.session(write=False) as s:
        task = tasks.get_task(s, workspace_id=copy, number=1)
        assert task.campaign is not None and task.campaign.name == "双十一 预售" and task.campaign.workspace_id == copy
        q4 = goals.get_goal(s, workspace_id=copy, number=2)
        assert q4.parent is not None and q4.parent.number == 1 and q4.parent.workspace_id == copy
        metric = kpis.get_metric(s, workspace_id=copy, name_or_number="转化率")
        value = kpis.period_value(s, metric=metric, start=date(2026, 11, 1), end=date(2026, 11, 2))
        assert value.value == Decimal(50) / Decimal(1500)
        summary = campaigns.summary(s, campaign=campaigns.get_campaign(s, workspace_id=copy, number=1))
        assert summary.spend == Decimal("5000.25") and [g.number for g in summary.goals] == [1]
    # references continue where the export left off
    with db.session() as s:
        assert tasks.create_task(s, workspace_id=copy, data=tasks.TaskCreate("next"), user_id="U1").number == 2


def test_cli_export_writes_one_file_per_table(sqlite_db: Database, workspace: str, tmp_path: Path, monkeypatch) -> None:
    from bot.cli import main

    seed(sqlite_db, workspace)
    monkeypatch.setenv("DATABASE_URL", sqlite_db.engine.url.render_as_string(hide_password=False))
    monkeypatch.chdir(tmp_path)
    assert main(["export", "--workspace", workspace, "--out", str(tmp_path / "dump")]) == 0
    files = {p.name for p in (tmp_path / "dump").iterdir()}
    assert {"tasks.json", "goals.json", "kpi_values.json", "campaigns.json", "feedback.json", "_manifest.json"} <= files


def test_a_retro_threads_reply_states_travel_with_the_export(db: Database, workspace: str, tmp_path: Path) -> None:
    from bot.services import retros

    with db.session() as s:
        retro = retros.start_retro(s, workspace_id=workspace, channel="C1", kind="month", today=date(2026, 11, 20), user_id="U1")
        retros.set_thread(s, retro_id=retro.id, thread_ts="100.000001")
        retros.apply_reply(s, retro=retro, user_id="U2", message_ts="101.000001", text="action: kept", kind="new")
        retros.apply_reply(s, retro=retro, user_id="U2", message_ts="102.000001", text="action: gone", kind="new")
        retros.apply_reply(s, retro=retro, user_id="U2", message_ts="102.000001", text="", kind="delete",
                           version_ts="103.000001")
    out = tmp_path / "export"
    counts = export_workspace(db, workspace_id=workspace, out=out)
    assert counts["retro_messages"] == 2 and counts["retro_notes"] == 1

    copy = workspace + "R"
    assert import_workspace(db, source=out, workspace_id=copy)["retro_messages"] == 2
    with db.session() as s:
        copied = retros.get_retro(s, workspace_id=copy, number=1)
        # the deleted reply stays deleted in the copy: its late original adds nothing
        assert retros.apply_reply(s, retro=copied, user_id="U2", message_ts="102.000001", text="action: gone",
                                  kind="new") == 0
        assert [n.text for n in retros.notes(s, retro=copied)] == ["kept"]


def test_an_export_imports_as_another_workspace_into_the_same_database(db: Database, workspace: str, tmp_path: Path) -> None:
    """The outbox's keys are unique across the database: imported, they name the copy's own record ids (a slot or
    reminder already sent stays sent for the copy), and a key that names no record is made the copy's own."""
    from bot.services import outbox, schedules
    from storage.models import Outbox, Schedule, Task

    seed(db, workspace)
    with db.session() as s:
        schedule, _ = schedules.create_schedule(s, workspace_id=workspace, data=schedules.ScheduleCreate(
            "report", "C0MKT", 9, 0, "Asia/Shanghai", [0]), user_id="U1")
        task = s.scalars(select(Task).where(Task.workspace_id == workspace)).one()
        goal = goals.get_goal(s, workspace_id=workspace, number=1)
        keys = [f"report:{schedule.id}:2026-11-23T01:00Z", f"reminder:due:{task.id}:2026-11-24:U2",
                "digest-now:C0MKT:trigger-1", "retro-note:V0NOTE"]
        for key in keys:
            outbox.enqueue(s, workspace_id=workspace, post=outbox.Post(
                dedupe_key=key, kind="report", text="sent", slack_channel_id="C0MKT",
                payload={"schedule_id": schedule.id, "charts": [{"type": "goal", "goal_id": goal.id}]}))
    out = tmp_path / "export"
    export_workspace(db, workspace_id=workspace, out=out)
    copy = workspace + "C"
    import_workspace(db, source=out, workspace_id=copy)  # same database: this used to die on the unique key

    with db.session(write=False) as s:
        new_schedule = s.scalars(select(Schedule).where(Schedule.workspace_id == copy)).one()
        new_task = s.scalars(select(Task).where(Task.workspace_id == copy)).one()
        new_goal = goals.get_goal(s, workspace_id=copy, number=1)
        rows = s.scalars(select(Outbox).where(Outbox.workspace_id == copy).order_by(Outbox.id)).all()
        assert [r.dedupe_key for r in rows] == [
            f"report:{new_schedule.id}:2026-11-23T01:00Z", f"reminder:due:{new_task.id}:2026-11-24:U2",
            f"digest-now:C0MKT:trigger-1:{copy}", f"retro-note:V0NOTE:{copy}"]
        assert all(json.loads(r.payload) == {"schedule_id": new_schedule.id,
                                              "charts": [{"type": "goal", "goal_id": new_goal.id}]} for r in rows)
        originals = s.scalars(select(Outbox).where(Outbox.workspace_id == workspace).order_by(Outbox.id)).all()
        assert [r.dedupe_key for r in originals] == keys, "the source workspace is untouched"


def test_pending_imports_and_report_attachments_round_trip_into_another_workspace(
    db: Database, workspace: str, tmp_path: Path
) -> None:
    """The tables the Slack side added (a KPI file between preview and click, a report's `attach:xlsx`) travel
    with the rest: into another workspace of the same database, every row and value as it was."""
    from datetime import UTC, datetime

    from bot.services import pending_imports, schedules

    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    with db.session() as s:
        schedules.create_schedule(s, workspace_id=workspace, user_id="U1", now=now, data=schedules.ScheduleCreate(
            "report", "C1", 9, 0, "Asia/Shanghai", [0], attach="xlsx"))
        done = pending_imports.start(s, workspace_id=workspace, user_id="U1", file_id="F1", filename="生意参谋.csv",
                                     preset="sycm", now=now)
        waiting = pending_imports.start(s, workspace_id=workspace, user_id="U2", file_id="F2", filename="ga4.xlsx",
                                        preset="auto", now=now)
        assert done is not None and waiting is not None
        pending_imports.set_message(s, pending_id=waiting.id, channel="D1", ts="1.2")
        pending_imports.finish(s, pending_id=waiting.id, status="pending", summary="rows read: 3", now=now)
        pending_imports.finish(s, pending_id=done.id, status="done", summary="Imported 6 values", now=now)
    out = tmp_path / "export"
    counts = export_workspace(db, workspace_id=workspace, out=out)
    assert counts["pending_imports"] == 2 and counts["schedules"] == 1

    copy = workspace + "P"
    imported = import_workspace(db, source=out, workspace_id=copy)
    assert imported["pending_imports"] == 2
    with db.session(write=False) as s:
        [schedule] = schedules.list_schedules(s, workspace_id=copy)
        assert schedule.attach == "xlsx" and schedule.kind == "report"
        ids = [r.id for r in s.scalars(select(PendingImport).where(PendingImport.workspace_id == copy)
                                       .order_by(PendingImport.file_id))]
        rows = [pending_imports.get(s, workspace_id=copy, pending_id=i) for i in ids]
        shown = [(r.user_id, r.file_id, r.filename, r.preset, r.channel, r.message_ts, r.status, r.summary, r.created_at)
                 for r in rows if r is not None]
        assert shown == [
            ("U1", "F1", "生意参谋.csv", "sycm", None, None, "done", "Imported 6 values", now),
            ("U2", "F2", "ga4.xlsx", "auto", "D1", "1.2", "pending", "rows read: 3", now),
        ]
        # the source workspace's rows are untouched, and the copy's are its own
        assert {r.workspace_id for r in s.scalars(select(PendingImport).where(PendingImport.file_id == "F1"))} == {
            workspace, copy}
    # a click in the copy claims the copy's row, once
    with db.session() as s:
        assert pending_imports.claim(s, workspace_id=copy, pending_id=ids[1], now=now)[0]
        assert not pending_imports.claim(s, workspace_id=copy, pending_id=ids[1], now=now)[0]
    # exporting the copy gives the same rows as the original export, ids and workspace aside
    again = tmp_path / "again"
    export_workspace(db, workspace_id=copy, out=again)

    def plain(folder: Path, table: str) -> list[dict[str, object]]:
        rows = json.loads((folder / f"{table}.json").read_text(encoding="utf-8"))
        return [{k: v for k, v in r.items() if k not in ("id", "workspace_id", "status", "claimed_at")} for r in rows]

    assert plain(again, "pending_imports") == plain(out, "pending_imports")
    assert plain(again, "schedules") == plain(out, "schedules")


def test_a_notify_key_names_the_imported_event_and_workspace() -> None:
    from storage.export import _remap_outbox

    row = {"dedupe_key": "notify:TOLD:U0BO:17", "payload": None}
    _remap_outbox(row, {"notification_events": {17: 3}}, "TOLD", "TNEW")
    assert row["dedupe_key"] == "notify:TNEW:U0BO:3"  # a later batch in the new workspace never collides with it
