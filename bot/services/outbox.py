"""The outbox: a scheduled post is claimed once per slot by a unique key, then delivered until Slack confirms it."""

from __future__ import annotations

import json
import sqlite3
from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, String, Table, bindparam, case, func, literal, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.services.refs import ensure_workspace
from storage.models import Outbox
from storage.prepared import Prepared, Unit, dialect_of
from storage.types import utcnow

MAX_ATTEMPTS = 15
# The bot token itself is refused, or lacks a scope: every post fails the same way until someone fixes the
# app's installation, and a post retried for hours would arrive long after its time.
TOKEN_ERRORS = frozenset({
    "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "missing_scope",
    "no_permission", "ekm_access_denied",
})
# Slack answers that no retry can change: the channel is gone, archived or closed to the bot, or the post
# itself is malformed. Retrying them for hours only delivers a stale post once someone fixes the channel.
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "restricted_action", "restricted_action_read_only_channel",
    "restricted_action_thread_only_channel", "restricted_action_non_threadable_channel", "cannot_reply_to_message",
    "user_not_found", "user_disabled", "cannot_dm_bot", "msg_too_long", "no_text", "too_many_attachments",
    "invalid_blocks", "invalid_blocks_format", "invalid_metadata_format", "invalid_metadata_schema",
    "metadata_too_large", "invalid_arguments", "invalid_arg_name", "invalid_array_arg", "invalid_charset",
    "invalid_form_data", "invalid_post_type", "missing_post_type",
}) | TOKEN_ERRORS
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


def _due(now: Any) -> ColumnElement[bool]:
    return or_(
        (Outbox.status == "pending") & (Outbox.next_attempt_at <= now),
        (Outbox.status == "sending") & (Outbox.lease_until < now),
    )


# What a claim returns: what delivery needs (the lease columns are known to the claimer).
CLAIMED = ("id", "workspace_id", "kind", "slack_channel_id", "user_id", "thread_ts", "text", "blocks", "payload",
           "status", "attempts", "last_error", "next_attempt_at", "created_at")
Claimed = namedtuple("Claimed", CLAIMED)  # type: ignore[misc]


def _claim_statement(*, now: Any, lease_until: Any, worker: Any, limit: Any, ids: list[int] | None,
                     skip_locked: bool) -> Any:
    candidates = select(Outbox.id).where(_due(now))
    if ids is not None:
        candidates = candidates.where(Outbox.id.in_(ids))
    candidates = candidates.order_by(Outbox.next_attempt_at, Outbox.id).limit(limit)
    chosen: Any = candidates.scalar_subquery()
    if skip_locked:
        # PostgreSQL may run an IN (subquery) as a semi-join that rescans it for every outer row, each scan
        # skipping what the last one locked: LIMIT would not hold. A materialized CTE is run exactly once.
        due = candidates.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
        chosen = select(due.c.id)
    expired = _table.c.status == "sending"
    lease_lost = (
        literal(AMBIGUOUS + "lease expired mid-send (claimed by ", String) + func.coalesce(_table.c.claimed_by, "?") + ")"
    )
    return (
        update(_table)
        .where(_table.c.id.in_(chosen), _due(now))
        .values(
            status="sending",
            lease_until=lease_until,
            claimed_by=worker,
            attempts=case((expired, _table.c.attempts + 1), else_=_table.c.attempts),
            last_error=case((expired, lease_lost), else_=_table.c.last_error),
        )
        .returning(*(_table.c[name] for name in CLAIMED))
    )


def _stamp(name: str) -> Any:
    return bindparam(name, type_=_table.c.next_attempt_at.type)


# The fan-out claim: one statement per dialect, compiled once (the ids-restricted claim is built per call).
_CLAIM = {
    dialect: Prepared(_claim_statement(now=_stamp("b_now"), lease_until=_stamp("b_lease"), worker=bindparam("b_worker"),
                                       limit=bindparam("b_limit"), ids=None, skip_locked=dialect == "postgresql"))
    for dialect in ("postgresql", "sqlite")
}


def claim_due(
    unit: Unit, *, now: datetime, worker: str, limit: int = 100, ids: list[int] | None = None
) -> list[Any]:
    """Lease up to `limit` due posts to this worker in one statement; returns their rows (the CLAIMED columns
    as attributes), oldest due first.

    A row whose lease ran out is still 'sending': its worker died or stalled mid-send, so Slack may have the
    post. The claim counts that attempt and marks the row ambiguous (last_error), so delivery looks for the
    post in the channel's history before posting again. Concurrent claimers never get the same row: on
    PostgreSQL the candidates are locked FOR UPDATE SKIP LOCKED (and re-checked by the UPDATE); SQLite runs
    one writer at a time (BEGIN IMMEDIATE)."""
    dialect = dialect_of(unit).name
    rows: list[Any]
    if ids is None:
        params = {"b_now": now, "b_lease": now + LEASE, "b_worker": worker, "b_limit": limit}
        rows = [Claimed(*row) for row in _CLAIM[dialect].rows(unit, params)]
    else:
        assert isinstance(unit, Session), "a claim of chosen posts runs in a Session"
        statement = _claim_statement(now=now, lease_until=now + LEASE, worker=worker, limit=limit, ids=ids,
                                     skip_locked=dialect == "postgresql")
        rows = list(unit.execute(statement).all())
    return sorted(rows, key=lambda r: (r.next_attempt_at, r.id))


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


@dataclass(frozen=True)
class Failure:
    outbox_id: int
    attempts: int  # the row's attempts when it was claimed; this failure adds one
    error: str
    retry_after: float | None = None

    @property
    def permanent(self) -> bool:
        return self.error in PERMANENT_ERRORS

    def next_status(self) -> str:
        return "dead" if self.permanent or self.attempts + 1 >= MAX_ATTEMPTS else "pending"


_ours = (_table.c.id == bindparam("b_id")) & (_table.c.status == "sending") & (_table.c.claimed_by == bindparam("b_worker"))
_MARK_SENT = Prepared(
    update(_table).where(_ours).values(status="sent", message_ts=bindparam("b_ts"), sent_at=_stamp("b_now"),
                                       lease_until=None, last_error=None)
)
# The same for a whole batch in one statement, the (id, ts) pairs joined in as a table: an executemany steps
# the database once per row, and in SQLite each step hands the GIL over to the delivery loop and back.
_SENT_SET = "status = 'sent', message_ts = v.ts, sent_at = :b_now, lease_until = NULL, last_error = NULL"
_SENT_WHERE = "outbox.id = v.id AND {status} = 'sending' AND outbox.claimed_by = :b_worker"
_MARK_SENT_BATCH = {
    "sqlite": Prepared(text(
        f"UPDATE outbox SET {_SENT_SET} FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') "
        # the unary + keeps SQLite's planner on the primary key, not the status index and a scan of v per row
        f"AS ts FROM json_each(:b_pairs)) AS v WHERE {_SENT_WHERE.format(status='+outbox.status')}"
    ).bindparams(_stamp("b_now"))),
    "postgresql": Prepared(text(
        f"UPDATE outbox SET {_SENT_SET} FROM unnest(CAST(:b_ids AS BIGINT[]), CAST(:b_ts AS TEXT[])) AS v(id, ts) "
        f"WHERE {_SENT_WHERE.format(status='outbox.status')}"
    ).bindparams(_stamp("b_now"))),
}
_SQLITE_UPDATE_FROM = sqlite3.sqlite_version_info >= (3, 33, 0)  # UPDATE … FROM came in SQLite 3.33
_MARK_FAILED = Prepared(
    update(_table).where(_ours).values(status=bindparam("b_status"), attempts=bindparam("b_attempts"),
                                       last_error=bindparam("b_error"), next_attempt_at=_stamp("b_next"), lease_until=None)
)
_RELEASE = Prepared(update(_table).where(_ours).values(status="pending", lease_until=None, claimed_by=None))


def mark_sent_many(unit: Unit, sent: Sequence[tuple[int, str | None]], *, worker: str, now: datetime) -> None:
    """Record (outbox id, message ts) pairs as sent, in one executemany.

    Only rows this worker still holds are changed: if its lease ran out and another worker took a row over,
    that worker finds the post in the channel's history and records it itself."""
    if not sent:
        return
    dialect = dialect_of(unit).name
    if dialect == "postgresql":
        _MARK_SENT_BATCH[dialect].rows(unit, {"b_ids": [oid for oid, _ in sent], "b_ts": [ts for _, ts in sent],
                                              "b_now": now, "b_worker": worker})
    elif dialect == "sqlite" and _SQLITE_UPDATE_FROM:
        _MARK_SENT_BATCH[dialect].rows(unit, {"b_pairs": json.dumps(sent), "b_now": now, "b_worker": worker})
    else:
        _MARK_SENT.many(unit, [{"b_id": oid, "b_worker": worker, "b_ts": ts, "b_now": now} for oid, ts in sent])


def mark_failed_many(unit: Unit, failures: Sequence[Failure], *, worker: str, now: datetime) -> None:
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
    _MARK_FAILED.many(unit, params)


def release(unit: Unit, outbox_ids: Sequence[int], *, worker: str) -> None:
    """Hand claimed posts that were never tried back to the queue, due as before, no attempt counted."""
    if outbox_ids:
        _RELEASE.many(unit, [{"b_id": oid, "b_worker": worker} for oid in outbox_ids])


def pending_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Outbox).where(Outbox.status.in_(("pending", "sending")))) or 0)
