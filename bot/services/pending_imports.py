"""KPI files sent to the bot in Slack, between their preview and the Import or Cancel click: one row per file,
moved along `checking → pending → importing → done` (or `cancelled`, `failed`) by conditional updates, so two
events for one file preview it once and two clicks import it once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.services.refs import ensure_workspace
from storage.db import Database
from storage.models import PendingImport

#: how long a preview's Import button works
PREVIEW_TTL = timedelta(hours=24)
#: an import claimed longer ago than this is taken to have died with its process: a click may claim it again
#: (importing is idempotent: what was written already is written again unchanged)
STALE_CLAIM = timedelta(minutes=30)
#: states from which a file sent again is previewed again
FINISHED = ("done", "cancelled", "failed")


@dataclass(frozen=True)
class Pending:
    id: int
    workspace_id: str
    user_id: str
    file_id: str
    filename: str
    preset: str
    channel: str | None
    message_ts: str | None
    status: str
    summary: str | None
    created_at: datetime


def _plain(row: PendingImport) -> Pending:
    return Pending(row.id, row.workspace_id, row.user_id, row.file_id, row.filename, row.preset, row.slack_channel_id,
                   row.message_ts, row.status, row.summary, row.created_at)


def start(session: Session, *, workspace_id: str, user_id: str, file_id: str, filename: str, preset: str,
          now: datetime) -> Pending | None:
    """Claim the preview of this file: the row, or None when another event for the same file already has it (a
    preview under way or waiting for its click)."""
    ensure_workspace(session, workspace_id)
    existing = session.scalars(select(PendingImport).where(
        PendingImport.workspace_id == workspace_id, PendingImport.file_id == file_id)).first()
    if existing is None:
        # Two events for one file may both get here: the unique key lets one insert; the other's flush raises
        # IntegrityError, which the caller takes as "already claimed" (`claimed_start`).
        row = PendingImport(workspace_id=workspace_id, user_id=user_id, file_id=file_id, filename=filename[:255],
                            preset=preset, status="checking", created_at=now)
        session.add(row)
        session.flush()
        return _plain(row)
    claimed: Any = session.execute(
        update(PendingImport)
        .where(PendingImport.id == existing.id,
               PendingImport.status.in_(FINISHED)
               # a preview whose process died before it said anything: the file may be sent again
               | ((PendingImport.status == "checking") & (PendingImport.created_at < now - STALE_CLAIM)))
        .values(status="checking", user_id=user_id, preset=preset, filename=filename[:255], created_at=now,
                summary=None, message_ts=None, slack_channel_id=None, claimed_at=None, finished_at=None)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:
        return None
    session.refresh(existing)
    return _plain(existing)


def claimed_start(db: Database, **kwargs: Any) -> Pending | None:
    """`start` in its own transaction; None as well when another event's insert won the race."""
    try:
        with db.session() as session:
            return start(session, **kwargs)
    except IntegrityError:
        return None


def get(session: Session, *, workspace_id: str, pending_id: int) -> Pending | None:
    row = session.get(PendingImport, pending_id)
    return _plain(row) if row is not None and row.workspace_id == workspace_id else None


def set_message(session: Session, *, pending_id: int, channel: str, ts: str) -> None:
    session.execute(update(PendingImport).where(PendingImport.id == pending_id)
                    .values(slack_channel_id=channel, message_ts=ts))


def finish(session: Session, *, pending_id: int, status: str, summary: str | None, now: datetime,
           filename: str | None = None) -> None:
    """`pending` once previewed (summary: the preview; `filename`: the file's name, known once downloaded),
    `failed` (the reason), `done` (the result)."""
    values: dict[str, object] = {"status": status, "summary": summary}
    if filename:
        values["filename"] = filename[:255]
    if status != "pending":
        values["finished_at"] = now
    session.execute(update(PendingImport).where(PendingImport.id == pending_id).values(**values))


def claim(session: Session, *, workspace_id: str, pending_id: int, now: datetime) -> tuple[bool, Pending | None]:
    """The Import click: (True, row) when this click moved it to `importing`; else (False, row as it is) — already
    importing or imported, cancelled, expired (still `pending` but older than PREVIEW_TTL), or gone (None)."""
    moved: Any = session.execute(
        update(PendingImport)
        .where(PendingImport.id == pending_id, PendingImport.workspace_id == workspace_id,
               PendingImport.created_at >= now - PREVIEW_TTL,
               (PendingImport.status == "pending")
               | ((PendingImport.status == "importing") & (PendingImport.claimed_at < now - STALE_CLAIM)))
        .values(status="importing", claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount), get(session, workspace_id=workspace_id, pending_id=pending_id)


def cancel(session: Session, *, workspace_id: str, pending_id: int, now: datetime) -> tuple[bool, Pending | None]:
    moved: Any = session.execute(
        update(PendingImport)
        .where(PendingImport.id == pending_id, PendingImport.workspace_id == workspace_id,
               PendingImport.status == "pending")
        .values(status="cancelled", finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount), get(session, workspace_id=workspace_id, pending_id=pending_id)


def expired(row: Pending, now: datetime) -> bool:
    return row.status == "pending" and row.created_at < now - PREVIEW_TTL
