"""The outbox: a scheduled post is claimed once per slot by a unique key, then delivered until Slack confirms it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
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


def claim_due(
    session: Session, *, now: datetime, worker: str, limit: int = 100, ids: list[int] | None = None
) -> list[Outbox]:
    """Lease due posts to this worker; a crashed worker's lease runs out and another takes over."""
    query = select(Outbox.id).where(
        or_(
            (Outbox.status == "pending") & (Outbox.next_attempt_at <= now),
            (Outbox.status == "sending") & (Outbox.lease_until < now),
        )
    )
    if ids is not None:
        query = query.where(Outbox.id.in_(ids))
    candidates = session.scalars(query.order_by(Outbox.next_attempt_at, Outbox.id).limit(limit)).all()
    claimed: list[Outbox] = []
    for outbox_id in candidates:
        updated = session.execute(
            update(Outbox)
            .where(
                Outbox.id == outbox_id,
                or_(
                    (Outbox.status == "pending") & (Outbox.next_attempt_at <= now),
                    (Outbox.status == "sending") & (Outbox.lease_until < now),
                ),
            )
            .values(status="sending", lease_until=now + LEASE, claimed_by=worker)
            .execution_options(synchronize_session=False)
        )
        if updated.rowcount == 1:  # type: ignore[attr-defined]
            row = session.get(Outbox, outbox_id)
            if row is not None:
                claimed.append(row)
    return claimed


def mark_sent(session: Session, *, outbox_id: int, message_ts: str | None, now: datetime) -> None:
    session.execute(
        update(Outbox)
        .where(Outbox.id == outbox_id)
        .values(status="sent", message_ts=message_ts, sent_at=now, lease_until=None, last_error=None)
    )


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def mark_failed(session: Session, *, outbox_id: int, error: str, now: datetime, retry_after: float | None = None) -> str:
    row = session.get(Outbox, outbox_id)
    if row is None:
        return "missing"
    row.attempts += 1
    row.last_error = error[:2000]
    row.lease_until = None
    if row.attempts >= MAX_ATTEMPTS:
        row.status = "dead"
    else:
        row.status = "pending"
        delay = backoff(row.attempts)
        if retry_after is not None:
            delay = max(delay, timedelta(seconds=retry_after))
        row.next_attempt_at = now + delay
    return row.status


def pending_count(session: Session) -> int:
    return len(session.scalars(select(Outbox.id).where(Outbox.status.in_(("pending", "sending")))).all())
