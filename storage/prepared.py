"""Prepared statements for the ack path: a Core statement compiled once per dialect and run on the driver.

For a one-row insert, SQLAlchemy's per-execution work (cache lookup, parameter and result set-up, events)
costs several times what SQLite itself spends. The busiest commands (`/task add`, `/kpi log`) run their
few statements this way in a bare `Database.transaction()`; the same statements also run on a Session's
own connection, inside its unit of work (forms, retros, the demo). Types are still converted by the
columns' own dialect-level bind and result processors, so values are stored exactly as the ORM stores them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter

from storage.db import Transaction

Processor = Any  # a column type's bind or result processor (or None)
Unit = Session | Transaction  # where a prepared statement runs: a unit of work, or a bare transaction


def dialect_of(unit: Unit) -> Dialect:
    return unit.get_bind().dialect if isinstance(unit, Session) else unit.dialect


def _cursor(unit: Unit) -> tuple[Dialect, Any]:
    """The dialect and a cursor in the unit's transaction; a Session first flushes what it has pending."""
    if isinstance(unit, Session):
        unit.flush()
        connection = unit.connection()
        return connection.dialect, connection.connection.cursor()
    return unit.dialect, unit.cursor()


def column_binds(model: Any) -> dict[str, BindParameter[Any]]:
    """A parameter named after each column but the id, for an INSERT that sets them all (column defaults do
    not apply to prepared statements)."""
    return {c.name: bindparam(c.name) for c in model.__table__.columns if c.name != "id"}


def per_dialect(build: Callable[[Any], ClauseElement]) -> dict[str, Prepared]:
    """A statement built with each dialect's own `insert` (for ON CONFLICT), by dialect name."""
    return {"postgresql": Prepared(build(postgresql.insert)), "sqlite": Prepared(build(sqlite.insert))}


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    binds: tuple[tuple[str, Processor, Any, bool], ...]  # (name, processor, literal value, required)
    converted: tuple[tuple[int, Processor], ...]  # (position, processor) of the result columns that need one


class Prepared:
    """`Prepared(insert(Task).values(title=bindparam("title"), …).returning(Task.id))`, then
    `.rows(unit, {"title": …})` on a Session or a Database.transaction(). Parameters are named by their bindparam;
    literal values are kept."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            c = self.statement.compile(dialect=dialect)
            assert isinstance(c, SQLCompiler)
            names = c.positiontup if c.positional and c.positiontup is not None else list(c.binds)
            # the dialect's own implementation of each type: e.g. SQLite keeps dates and times as text
            binds = tuple(
                (name, c.binds[name].type.dialect_impl(dialect).bind_processor(dialect), c.binds[name].value,
                 c.binds[name].required)
                for name in names
            )
            columns = getattr(self.statement, "selected_columns", None) or getattr(self.statement, "exported_columns", [])
            results = (column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
            converted = tuple((i, p) for i, p in enumerate(results) if p is not None)
            compiled = _Compiled(str(c), bool(c.positional), binds, converted)
            self._compiled[dialect.name] = compiled
        return compiled

    def _parameters(self, compiled: _Compiled, params: Mapping[str, Any]) -> Any:
        values = []
        for name, processor, default, required in compiled.binds:
            if required and name not in params:
                # a missing value would be stored as NULL: column defaults do not apply to prepared statements
                raise KeyError(f"no value for the parameter {name!r}")
            value = params.get(name, default)
            values.append(processor(value) if processor is not None and value is not None else value)
        if compiled.positional:
            return tuple(values)
        return {name: value for (name, _p, _d, _r), value in zip(compiled.binds, values, strict=True)}

    def rows(self, unit: Unit, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run once with `params`; the returned or selected rows (none for a plain write), converted by the
        column types."""
        dialect, cursor = _cursor(unit)
        compiled = self._compile(dialect)
        try:
            cursor.execute(compiled.sql, self._parameters(compiled, params))
            raw = cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()
        converted = compiled.converted
        if not converted:
            return [tuple(row) for row in raw]
        out = []
        for row in raw:
            values = list(row)
            for i, processor in converted:
                values[i] = processor(values[i])
            out.append(tuple(values))
        return out

    def many(self, unit: Unit, params: Sequence[Mapping[str, Any]]) -> None:
        """Run once per parameter set (a statement without results)."""
        dialect, cursor = _cursor(unit)
        compiled = self._compile(dialect)
        try:
            cursor.executemany(compiled.sql, [self._parameters(compiled, p) for p in params])
        finally:
            cursor.close()
