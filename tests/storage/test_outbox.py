"""The outbox's claim and its bulk outcome writes, on both databases and on both write paths (a Session and a
bare transaction)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from bot.services import outbox
from storage.db import Database
from storage.models import Outbox

# Long before any other test's posts: a claim here never takes theirs (the database is shared by the run).
NOW = datetime(2001, 11, 11, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _drop_posts(db: Database, workspace: str) -> Iterator[None]:
    """Posts left pending here would be due for every later delivery test: remove them."""
    yield
    with db.session() as session:
        session.execute(delete(Outbox).where(Outbox.workspace_id == workspace))


def _queue(db: Database, workspace: str, n: int) -> list[int]:
    ids = []
    with db.session() as session:
        for i in range(n):
            new_id = outbox.enqueue(session, workspace_id=workspace, now=NOW, post=outbox.Post(
                dedupe_key=f"{workspace}:digest:{i}", kind="digest", text=f"双十一 digest {i}", slack_channel_id=f"C{i:04d}"))
            assert new_id is not None
            ids.append(new_id)
    return ids


def _rows(db: Database, ids: list[int]) -> dict[int, Outbox]:
    with db.session(write=False) as session:
        return {row.id: row for row in session.scalars(select(Outbox).where(Outbox.id.in_(ids)))}


@pytest.mark.parametrize("bare", [True, False], ids=["transaction", "session"])
def test_claim_leases_due_posts_once_with_what_delivery_reads(db: Database, workspace: str, bare: bool) -> None:
    ids = _queue(db, workspace, 5)
    with db.transaction() if bare else db.session() as unit:
        claimed = [r for r in outbox.claim_due(unit, now=NOW, worker="w1", limit=1000) if r.id in ids]
    assert [r.id for r in claimed] == ids  # oldest due first, then by id
    first = claimed[0]
    assert (first.status, first.attempts, first.last_error, first.slack_channel_id) == ("sending", 0, None, "C0000")
    assert first.text == "双十一 digest 0" and first.created_at == NOW and first.next_attempt_at == NOW
    with db.transaction() as unit:  # leased: nobody else gets them
        assert not [r for r in outbox.claim_due(unit, now=NOW, worker="w2", limit=1000) if r.id in ids]
    rows = _rows(db, ids)
    assert {r.claimed_by for r in rows.values()} == {"w1"}
    assert {r.lease_until for r in rows.values()} == {NOW + outbox.LEASE}


@pytest.mark.parametrize("one_statement", [True, False], ids=["one-statement", "executemany"])
@pytest.mark.parametrize("bare", [True, False], ids=["transaction", "session"])
def test_mark_sent_many_writes_each_ts_and_only_rows_this_worker_holds(
    db: Database, workspace: str, bare: bool, one_statement: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "_SQLITE_UPDATE_FROM", one_statement)  # older SQLite: one UPDATE per row
    ids = _queue(db, workspace, 4)
    with db.transaction() as unit:
        outbox.claim_due(unit, now=NOW, worker="w1", limit=1000)
    later = NOW + outbox.LEASE + timedelta(seconds=1)
    with db.session() as session:  # the last post's lease ran out and another worker took it over
        outbox.claim_due(session, now=later, worker="w2", limit=10, ids=[ids[3]])
    sent = [(ids[0], "1700000000.000100"), (ids[1], None), (ids[3], "1700000000.000300")]
    with db.transaction() if bare else db.session() as unit:
        outbox.mark_sent_many(unit, sent, worker="w1", now=later)
    rows = _rows(db, ids)
    assert (rows[ids[0]].status, rows[ids[0]].message_ts, rows[ids[0]].sent_at) == ("sent", "1700000000.000100", later)
    assert rows[ids[0]].lease_until is None and rows[ids[0]].last_error is None
    assert (rows[ids[1]].status, rows[ids[1]].message_ts) == ("sent", None)
    assert rows[ids[2]].status == "sending"  # not in the batch
    taken = rows[ids[3]]  # w2 holds it now: w1's outcome must not land on it
    assert (taken.status, taken.claimed_by, taken.message_ts, taken.sent_at) == ("sending", "w2", None, None)


def test_failures_and_releases_are_written_in_bulk(db: Database, workspace: str) -> None:
    ids = _queue(db, workspace, 4)
    with db.transaction() as unit:
        outbox.claim_due(unit, now=NOW, worker="w1", limit=1000)
        outbox.mark_failed_many(unit, [outbox.Failure(ids[0], 0, "internal_error"),
                                       outbox.Failure(ids[1], outbox.MAX_ATTEMPTS - 1, "HTTP 500", retry_after=7200),
                                       outbox.Failure(ids[3], 0, "channel_not_found")],
                                worker="w1", now=NOW)
        outbox.release(unit, [ids[2]], worker="w1")
    rows = _rows(db, ids)
    assert (rows[ids[0]].status, rows[ids[0]].attempts, rows[ids[0]].last_error) == ("pending", 1, "internal_error")
    assert (rows[ids[3]].status, rows[ids[3]].attempts) == ("dead", 1)  # no retry can change that one
    assert rows[ids[0]].next_attempt_at == NOW + outbox.backoff(1)
    assert (rows[ids[1]].status, rows[ids[1]].attempts) == ("dead", outbox.MAX_ATTEMPTS)
    assert rows[ids[1]].next_attempt_at == NOW + timedelta(seconds=7200)  # at least its Retry-After
    assert (rows[ids[2]].status, rows[ids[2]].claimed_by, rows[ids[2]].attempts) == ("pending", None, 0)


def test_the_one_statement_sent_update_finds_rows_by_primary_key_on_sqlite(sqlite_db: Database) -> None:
    """Each (id, ts) pair is one primary-key lookup, never a scan of the batch per 'sending' row."""
    sql = outbox._MARK_SENT_BATCH["sqlite"]._compile(sqlite_db.engine.dialect).sql
    raw = sqlite_db.engine.raw_connection()
    try:
        plan = [row[3] for row in raw.cursor().execute("EXPLAIN QUERY PLAN " + sql, ("2001-01-01", "[]", "w"))]
    finally:
        raw.close()
    assert any("outbox USING INTEGER PRIMARY KEY" in step for step in plan), plan
    assert not any(step.startswith("SCAN outbox") for step in plan), plan


def test_a_claim_takes_no_more_than_its_limit(db: Database, workspace: str) -> None:
    """On PostgreSQL an IN (… LIMIT n FOR UPDATE SKIP LOCKED) may be rescanned per row and take them all."""
    ids = _queue(db, workspace, 7)
    with db.transaction() as unit:
        first = outbox.claim_due(unit, now=NOW, worker="w1", limit=3)
    assert [r.id for r in first] == ids[:3]
    with db.transaction() as unit:
        second = outbox.claim_due(unit, now=NOW, worker="w2", limit=3)
    assert [r.id for r in second] == ids[3:6]
