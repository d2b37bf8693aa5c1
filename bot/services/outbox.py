"""The outbox: a scheduled post is claimed once per slot by a unique key, then delivered until Slack confirms it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, String, Table, bindparam, case, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.services.refs import ensure_workspace
from storage.models import Outbox
from storage.types import utcnow

MAX_ATTEMPTS = 15
LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Post:
    dedupe_key: str
    kind: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    slack_channel_id: str | None = None
    user_id: str | None = None  # a direct message to this user
    thread_ts: str | None = None
    payload: dict[str, Any] | None = None


def enqueue(session: Session, *, workspace_id: str, post: Post, now: datetime | None = None) -> int | None:
    """Insert the post unless its key exists; returns the new id, or None when another process claimed it."""
    ensure_workspace(session, workspace_id)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stamp = now or utcnow()
    result = session.execute(
        insert(Outbox)
        .values(
            workspace_id=workspace_id,
            dedupe_key=post.dedupe_key,
            kind=post.kind,
            slack_channel_id=post.slack_channel_id,
            user_id=post.user_id,
            thread_ts=post.thread_ts,
            text=post.text,
            blocks=json.dumps(post.blocks, ensure_ascii=False) if post.blocks is not None else None,
            payload=json.dumps(post.payload, ensure_ascii=False) if post.payload is not None else None,
            status="pending",
            attempts=0,
            next_attempt_at=stamp,
            created_at=stamp,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Outbox.id)
    ).first()
    return int(result[0]) if result else None


def exists(session: Session, *, dedupe_key: str) -> bool:
    return session.scalar(select(Outbox.id).where(Outbox.dedupe_key == dedupe_key)) is not None


AMBIGUOUS = "ambiguous: "  # last_error prefix: Slack may have the post; look for it before posting again


_table = cast(Table, Outbox.__table__)


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        (Outbox.status == "pending") & (Outbox.next_attempt_at <= now),
        (Outbox.status == "sending") & (Outbox.lease_until < now),
    )


def claim_due(
    session: Session, *, now: datetime, worker: str, limit: int = 100, ids: list[int] | None = None
) -> list[Row[Any]]:
    """Lease up to `limit` due posts to this worker in one statement; returns their rows, oldest due first.

    A row whose lease ran out is still 'sending': its worker died or stalled mid-send, so Slack may have the
    post. The claim counts that attempt and marks the row ambiguous (last_error), so delivery looks for the
    post in the channel's history before posting again. Concurrent claimers never get the same row: on
    PostgreSQL the candidates are locked FOR UPDATE SKIP LOCKED (and re-checked by the UPDATE); SQLite runs
    one writer at a time (BEGIN IMMEDIATE)."""
    candidates = select(Outbox.id).where(_due(now))
    if ids is not None:
        candidates = candidates.where(Outbox.id.in_(ids))
    candidates = candidates.order_by(Outbox.next_attempt_at, Outbox.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    expired = _table.c.status == "sending"
    lease_lost = (
        literal(AMBIGUOUS + "lease expired mid-send (claimed by ", String) + func.coalesce(_table.c.claimed_by, "?") + ")"
    )
    statement = (
        update(_table)
        .where(_table.c.id.in_(candidates.scalar_subquery()), _due(now))
        .values(
            status="sending",
            lease_until=now + LEASE,
            claimed_by=worker,
            attempts=case((expired, _table.c.attempts + 1), else_=_table.c.attempts),
            last_error=case((expired, lease_lost), else_=_table.c.last_error),
        )
        .returning(*_table.columns)
    )
    rows = session.execute(statement).all()
    return sorted(rows, key=lambda r: (r.next_attempt_at, r.id))


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


@dataclass(frozen=True)
class Failure:
    outbox_id: int
    attempts: int  # the row's attempts when it was claimed; this failure adds one
    error: str
    retry_after: float | None = None

    def next_status(self) -> str:
        return "dead" if self.attempts + 1 >= MAX_ATTEMPTS else "pending"


_ours = (_table.c.id == bindparam("b_id")) & (_table.c.status == "sending") & (_table.c.claimed_by == bindparam("b_worker"))


def mark_sent_many(session: Session, sent: Sequence[tuple[int, str | None]], *, worker: str, now: datetime) -> None:
    """Record (outbox id, message ts) pairs as sent, in one executemany.

    Only rows this worker still holds are changed: if its lease ran out and another worker took a row over,
    that worker finds the post in the channel's history and records it itself."""
    if not sent:
        return
    session.execute(
        update(_table)
        .where(_ours)
        .values(status="sent", message_ts=bindparam("b_ts"), sent_at=bindparam("b_now", type_=_table.c.sent_at.type),
                lease_until=None, last_error=None),
        [{"b_id": oid, "b_worker": worker, "b_ts": ts, "b_now": now} for oid, ts in sent],
    )


def mark_failed_many(session: Session, failures: Sequence[Failure], *, worker: str, now: datetime) -> None:
    """Back off each failed post (at least its Retry-After), or end it as dead after MAX_ATTEMPTS; one executemany."""
    if not failures:
        return
    params = []
    for failure in failures:
        delay = backoff(failure.attempts + 1)
        if failure.retry_after is not None:
            delay = max(delay, timedelta(seconds=failure.retry_after))
        params.append({
            "b_id": failure.outbox_id, "b_worker": worker, "b_status": failure.next_status(),
            "b_attempts": failure.attempts + 1, "b_error": failure.error[:2000], "b_next": now + delay,
        })
    session.execute(
        update(_table)
        .where(_ours)
        .values(status=bindparam("b_status"), attempts=bindparam("b_attempts"), last_error=bindparam("b_error"),
                next_attempt_at=bindparam("b_next", type_=_table.c.next_attempt_at.type), lease_until=None),
        params,
    )


def release(session: Session, outbox_ids: Sequence[int], *, worker: str) -> None:
    """Hand claimed posts that were never tried back to the queue, due as before, no attempt counted."""
    if not outbox_ids:
        return
    session.execute(
        update(_table).where(_ours).values(status="pending", lease_until=None, claimed_by=None),
        [{"b_id": oid, "b_worker": worker} for oid in outbox_ids],
    )


def pending_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Outbox).where(Outbox.status.in_(("pending", "sending")))) or 0)
