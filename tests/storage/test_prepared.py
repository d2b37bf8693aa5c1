"""Prepared statements store and read values exactly as the ORM does, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, insert, select, text

from bot.services.refs import ensure_workspace
from bot.services.tasks import TaskCreate, add_task
from storage.db import Database
from storage.models import KpiValue, Metric, Task
from storage.prepared import Prepared, column_binds

INSERT_METRIC = Prepared(
    insert(Metric)
    .values(workspace_id=bindparam("ws"), number=bindparam("number"), name=bindparam("name"), key=bindparam("key"),
            unit=None, agg="sum", better="up", created_at=bindparam("at"))
    .returning(Metric.id, Metric.created_at)
)
INSERT_VALUE = Prepared(insert(KpiValue).values(column_binds(KpiValue)))
SELECT_VALUES = Prepared(
    select(KpiValue.day, KpiValue.value, KpiValue.created_at, KpiValue.user_id)
    .where(KpiValue.metric_id == bindparam("metric_id"), KpiValue.day >= bindparam("since"))
    .order_by(KpiValue.day)
)


def test_values_round_trip_through_the_orm(db: Database, workspace: str) -> None:
    at = datetime(2026, 11, 11, 8, 30, 15, 123456, tzinfo=UTC)
    with db.session() as session:
        ensure_workspace(session, workspace)
        [(metric_id, created_at)] = INSERT_METRIC.rows(session, {"ws": workspace, "number": 1, "name": "GMV", "key": "gmv", "at": at})
        assert created_at == at  # results go through the column types too
        INSERT_VALUE.many(session, [
            {"workspace_id": workspace, "metric_id": metric_id, "channel": "天猫", "day": date(2026, 11, d),
             "value": Decimal(v), "user_id": user, "created_at": at, "updated_at": at}
            for d, v, user in ((10, "0.000001", "U1"), (11, "12345678.5", None), (12, "-3", "U2"))
        ])
    with db.session(write=False) as session:
        orm = session.scalars(select(KpiValue).where(KpiValue.metric_id == metric_id).order_by(KpiValue.day)).all()
        assert [(v.day, v.value, v.user_id, v.created_at) for v in orm] == [
            (date(2026, 11, 10), Decimal("0.000001"), "U1", at),
            (date(2026, 11, 11), Decimal("12345678.5"), None, at),
            (date(2026, 11, 12), Decimal("-3"), "U2", at),
        ]
        # a date parameter compares as the ORM stores dates
        rows = SELECT_VALUES.rows(session, {"metric_id": metric_id, "since": date(2026, 11, 11)})
        assert rows == [
            (date(2026, 11, 11), Decimal("12345678.5"), at, None),
            (date(2026, 11, 12), Decimal("-3"), at, "U2"),
        ]


def test_stored_text_matches_the_orm(db: Database, workspace: str) -> None:
    """Same bytes on disk: SQLite compares dates and times as text, so a different spelling would mis-sort."""
    on_the_hour = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)  # no microseconds: the spelling most likely to differ
    with db.session() as session:
        ensure_workspace(session, workspace)
        [(prepared_id, _)] = INSERT_METRIC.rows(
            session, {"ws": workspace, "number": 1, "name": "A", "key": "a", "at": on_the_hour}
        )
        orm = Metric(workspace_id=workspace, number=2, name="B", key="b", agg="sum", better="up", created_at=on_the_hour)
        session.add(orm)
        session.flush()
        raw = dict(session.execute(
            text("SELECT id, CAST(created_at AS TEXT) FROM metrics WHERE id IN (:a, :b)"), {"a": prepared_id, "b": orm.id}
        ).all())
    assert raw[prepared_id] == raw[orm.id]


def test_a_failed_unit_of_work_rolls_back_prepared_writes(db: Database, workspace: str) -> None:
    at = datetime(2026, 11, 11, tzinfo=UTC)
    with pytest.raises(RuntimeError), db.session() as session:
        ensure_workspace(session, workspace)
        INSERT_METRIC.rows(session, {"ws": workspace, "number": 7, "name": "Visits", "key": "visits", "at": at})
        raise RuntimeError("a later step failed")
    with db.session(write=False) as session:
        assert session.scalars(select(Metric).where(Metric.workspace_id == workspace)).all() == []


def test_a_missing_parameter_is_an_error_not_a_null(db: Database, workspace: str) -> None:
    with pytest.raises(KeyError, match="'at'"), db.transaction() as connection:
        INSERT_METRIC.rows(connection, {"ws": workspace, "number": 1, "name": "A", "key": "a"})


def test_a_bare_transaction_rolls_back_and_forgets_the_workspace_it_created(db: Database, workspace: str) -> None:
    """The workspace row is remembered only once committed: a rolled-back first command must not leave the
    next one pointing at a workspace row that does not exist."""
    with pytest.raises(RuntimeError), db.transaction() as connection:
        add_task(connection, workspace_id=workspace, data=TaskCreate("first"), user_id="U1")
        raise RuntimeError("a later step failed")
    with db.transaction() as connection:
        task = add_task(connection, workspace_id=workspace, data=TaskCreate("second"), user_id="U1")
    assert task.number == 1
    with db.session(write=False) as session:
        assert [t.title for t in session.scalars(select(Task).where(Task.workspace_id == workspace))] == ["second"]
