"""A workspace's data as plain JSON files (one per table), and back: nothing a team records is ever trapped."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Date, Table, insert, select, update

from storage.db import Database
from storage.models import Base
from storage.types import Micros, UTCDateTime

FORMAT_VERSION = 1


#: credentials, not a team's records: an export never carries them (a restored workspace makes new tokens)
NOT_EXPORTED = frozenset({"api_tokens"})


def _tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_EXPORTED]


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _owned_rows(conn: Any, table: Table, workspace_id: str, exported: dict[str, set[Any]]) -> list[dict[str, Any]]:
    if "workspace_id" in table.c:
        query = select(table).where(table.c.workspace_id == workspace_id)
    elif table.name == "workspaces":
        query = select(table).where(table.c.id == workspace_id)
    else:
        # Link tables: keep rows whose every foreign key points at exported rows.
        query = select(table)
    rows = [dict(r._mapping) for r in conn.execute(query)]
    if "workspace_id" not in table.c and table.name != "workspaces":
        def owned(row: dict[str, Any]) -> bool:
            for fk in table.foreign_keys:
                target = fk.column.table.name
                if row[fk.parent.name] is not None and row[fk.parent.name] not in exported.get(target, set()):
                    return False
            return True

        rows = [r for r in rows if owned(r)]
    if "id" in table.c:
        rows.sort(key=lambda r: r["id"])
    return rows


def export_workspace(db: Database, *, workspace_id: str, out: Path) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    exported: dict[str, set[Any]] = {}
    with db.engine.connect() as conn:
        for table in _tables():
            rows = _owned_rows(conn, table, workspace_id, exported)
            if "id" in table.c:
                exported[table.name] = {r["id"] for r in rows}
            (out / f"{table.name}.json").write_text(
                json.dumps([{k: _jsonable(v) for k, v in r.items()} for r in rows], ensure_ascii=False, indent=1),
                encoding="utf-8",
            )
            counts[table.name] = len(rows)
    (out / "_manifest.json").write_text(
        json.dumps({"format": FORMAT_VERSION, "workspace_id": workspace_id, "counts": counts}, indent=1), encoding="utf-8"
    )
    return counts


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for key, value in row.items():
        if key not in table.c:
            continue
        col_type = table.c[key].type
        if value is not None and isinstance(col_type, Micros):
            value = Decimal(str(value))
        elif value is not None and isinstance(col_type, UTCDateTime):
            value = datetime.fromisoformat(value)
        elif value is not None and isinstance(col_type, Date):
            value = date.fromisoformat(value)
        decoded[key] = value
    return decoded


#: Record ids named inside outbox keys and payloads, by the table they come from.
_PAYLOAD_IDS = {"schedule_id": "schedules", "retro_id": "retros", "goal_id": "goals", "metric_id": "metrics",
                "task_id": "tasks", "campaign_id": "campaigns"}
_KEY_IDS = [  # dedupe key shape -> which ":"-separated part is a record id, and of which table
    ("digest:", 1, "schedules"), ("report:", 1, "schedules"), ("retro:", 1, "retros"),
    ("retro-summary:", 1, "retros"), ("reminder:", 2, "tasks"), ("retro-auto:campaign:", 2, "campaigns"),
    ("checkin-nudge:", 1, "goals"), ("notify:", 3, "notification_events"),
]


def _remap_ids(value: Any, id_maps: dict[str, dict[Any, Any]]) -> Any:
    """A payload with every record id it names (`goal_id`, `retro_id`…) moved to the imported row's id."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            table = _PAYLOAD_IDS.get(k)
            out[k] = id_maps.get(table, {}).get(v, v) if table and isinstance(v, int) else _remap_ids(v, id_maps)
        return out
    if isinstance(value, list):
        return [_remap_ids(v, id_maps) for v in value]
    return value


def _remap_outbox(row: dict[str, Any], id_maps: dict[str, dict[Any, Any]], source_ws: str, target_ws: str) -> None:
    """An outbox row in its new workspace: its key names the new record ids (so a slot or reminder already
    sent stays sent), a key naming no record is made unique to the workspace, and so is its payload."""
    key = str(row["dedupe_key"])
    parts = key.split(":")
    for prefix, index, table in _KEY_IDS:
        if key.startswith(prefix) and len(parts) > index and parts[index].isdigit():
            parts[index] = str(id_maps.get(table, {}).get(int(parts[index]), parts[index]))
            parts = [target_ws if p == source_ws else p for p in parts]  # a key naming its workspace too
            break
    else:
        if source_ws in parts:
            parts = [target_ws if p == source_ws else p for p in parts]
        elif source_ws != target_ws:
            parts.append(target_ws)  # one-off posts (digest now, a note's echo): never claimed again
    row["dedupe_key"] = ":".join(parts)[:200]
    if row.get("payload"):
        row["payload"] = json.dumps(_remap_ids(json.loads(row["payload"]), id_maps), ensure_ascii=False)


def import_workspace(db: Database, *, source: Path, workspace_id: str | None = None) -> dict[str, int]:
    """Load an export into this database, under its own team id or another; new row ids, same references."""
    manifest = json.loads((source / "_manifest.json").read_text(encoding="utf-8"))
    target_ws = workspace_id or manifest["workspace_id"]
    id_maps: dict[str, dict[Any, Any]] = {}
    counts: dict[str, int] = {}
    with db.session() as session:
        conn = session.connection()
        if conn.execute(select(Base.metadata.tables["workspaces"].c.id).where(
            Base.metadata.tables["workspaces"].c.id == target_ws
        )).first():
            exists_rows = conn.execute(select(Base.metadata.tables["counters"]).where(
                Base.metadata.tables["counters"].c.workspace_id == target_ws
            )).first()
            if exists_rows:
                raise ValueError(f"workspace {target_ws} already has data; import into an empty workspace")
        tables = _tables()
        tables.sort(key=lambda t: t.name == "outbox")  # last: its keys and payloads name the other tables' ids
        for table in tables:
            path = source / f"{table.name}.json"
            if not path.exists():
                continue
            rows = [_decode(table, r) for r in json.loads(path.read_text(encoding="utf-8"))]
            self_fks = [fk for fk in table.foreign_keys if fk.column.table is table]
            deferred: list[tuple[Any, dict[str, Any]]] = []
            id_maps[table.name] = {}
            for row in rows:
                if table.name == "workspaces":
                    row["id"] = target_ws
                if "workspace_id" in row:
                    row["workspace_id"] = target_ws
                old_id = row.pop("id", None) if "id" in table.c and table.name != "workspaces" else None
                later: dict[str, Any] = {}
                for fk in table.foreign_keys:
                    name = fk.parent.name
                    if name == "workspace_id" or row.get(name) is None:
                        continue
                    if fk.column.table is table:
                        later[name] = row.pop(name)
                    else:
                        row[name] = id_maps[fk.column.table.name][row[name]]
                if table.name == "outbox":
                    _remap_outbox(row, id_maps, manifest["workspace_id"], target_ws)
                if table.name == "workspaces":
                    exists = conn.execute(select(table.c.id).where(table.c.id == target_ws)).first()
                    if exists:
                        continue
                    conn.execute(insert(table).values(**row))
                elif old_id is not None:
                    new_id = conn.execute(insert(table).values(**row).returning(table.c.id)).scalar_one()
                    id_maps[table.name][old_id] = new_id
                    if later:
                        deferred.append((new_id, later))
                else:
                    conn.execute(insert(table).values(**row))
            for new_id, later in deferred:
                mapped = {k: id_maps[table.name][v] for k, v in later.items()}
                conn.execute(update(table).where(table.c.id == new_id).values(**mapped))
            counts[table.name] = len(rows)
            del self_fks
    return counts
