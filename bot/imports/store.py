"""The import's two statements on the driver, a chunk at a time: the values stored for a range of days (as a
DataFrame of raw micro-units), and the upsert of many values by `/kpi log`'s replace rule (one value per metric,
channel and day: a new one replaces the old). Values go in already in the columns' stored form (micro-units,
the dialect's dates), built per column with numpy rather than per value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from storage.db import Transaction
from storage.models import KpiValue

Unit = Session | Transaction

_STORED = (
    select(KpiValue.metric_id, KpiValue.channel, KpiValue.day, KpiValue.value)
    .where(
        KpiValue.workspace_id == bindparam("workspace_id"),
        KpiValue.day >= bindparam("first"),
        KpiValue.day <= bindparam("last"),
    )
)


def _upsert(insert: Any) -> ClauseElement:
    statement = insert(KpiValue).values({c.name: bindparam(c.name) for c in KpiValue.__table__.columns if c.name != "id"})
    return statement.on_conflict_do_update(
        index_elements=[KpiValue.metric_id, KpiValue.channel, KpiValue.day],
        set_={"value": statement.excluded.value, "user_id": statement.excluded.user_id,
              "updated_at": statement.excluded.updated_at},
    )


_UPSERT = {"sqlite": _upsert(sqlite.insert), "postgresql": _upsert(postgresql.insert)}
_COMPILED: dict[tuple[int, str], SQLCompiler] = {}


def _compiled(statement: ClauseElement, dialect: Dialect) -> SQLCompiler:
    key = (id(statement), dialect.name)
    compiled = _COMPILED.get(key)
    if compiled is None:
        c = statement.compile(dialect=dialect)
        assert isinstance(c, SQLCompiler)
        compiled = _COMPILED[key] = c
    return compiled


def _cursor(unit: Unit) -> tuple[Dialect, Any]:
    if isinstance(unit, Session):
        connection = unit.connection()
        return connection.dialect, connection.connection.cursor()
    return unit.dialect, unit.cursor()


def _bind(dialect: Dialect, column: str, value: Any) -> Any:
    processor = KpiValue.__table__.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    return processor(value) if processor is not None and value is not None else value


def _params(compiled: SQLCompiler, values: Mapping[str, Any]) -> Any:
    if compiled.positional:
        return tuple(values[name] for name in compiled.positiontup or ())
    return dict(values)


def stored_values(unit: Unit, *, workspace_id: str, first: date, last: date) -> pd.DataFrame:
    """metric_id, channel, day (datetime64) and old (micro-units) of every value stored for those days."""
    dialect, cursor = _cursor(unit)
    compiled = _compiled(_STORED, dialect)
    params = {"workspace_id": workspace_id, "first": _bind(dialect, "day", first), "last": _bind(dialect, "day", last)}
    try:
        cursor.execute(str(compiled), _params(compiled, params))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    frame = pd.DataFrame.from_records(rows, columns=["metric_id", "channel", "day", "old"])
    frame["metric_id"] = frame["metric_id"].astype("int64")
    frame["day"] = pd.to_datetime(frame["day"]).astype("datetime64[ns]")
    frame["old"] = frame["old"].astype("int64")
    return frame


def upsert_values(
    unit: Unit, *, workspace_id: str, metric_ids: np.ndarray, channels: Sequence[str], days: pd.Series,
    micros: np.ndarray, user_id: str | None, now: datetime,
) -> None:
    """Write values (replacing what is stored for the same metric, channel and day)."""
    if not len(micros):
        return
    dialect, cursor = _cursor(unit)
    compiled = _compiled(_UPSERT[dialect.name], dialect)
    codes, uniques = pd.factorize(days)
    stored_days = np.array([_bind(dialect, "day", d.date()) for d in pd.DatetimeIndex(uniques)], dtype=object)
    stamp = _bind(dialect, "created_at", now)
    columns: dict[str, Any] = {
        "workspace_id": repeat(workspace_id), "metric_id": metric_ids.tolist(), "channel": channels,
        "day": stored_days[codes].tolist(), "value": micros.tolist(), "user_id": repeat(user_id),
        "created_at": repeat(stamp), "updated_at": repeat(stamp),
    }
    if compiled.positional:
        rows: list[Any] = list(zip(*(columns[name] for name in compiled.positiontup or ()), strict=False))
    else:
        names = list(columns)
        rows = [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=False)]
    try:
        cursor.executemany(str(compiled), rows)
    finally:
        cursor.close()
