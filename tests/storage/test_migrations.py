"""The schema comes from the migrations, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine, inspect, text

from storage.db import Database, open_database
from storage.migrate import current_revision, upgrade
from storage.models import Base
from tests.support import factories as make


def test_migrations_build_every_table(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert current_revision(db.engine) is not None


def test_migrations_match_models(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def schema(engine: Engine) -> dict[str, dict[str, Any]]:
    """Every table's columns, keys and indexes, as the database reports them."""
    inspector = inspect(engine)
    return {
        name: {
            "columns": [(c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in inspector.get_columns(name)],
            "primary_key": inspector.get_pk_constraint(name)["constrained_columns"],
            "foreign_keys": sorted(repr(fk) for fk in inspector.get_foreign_keys(name)),
            "unique": sorted(repr(u) for u in inspector.get_unique_constraints(name)),
            "indexes": sorted(repr((i["name"], i["column_names"], bool(i["unique"]))) for i in inspector.get_indexes(name)),
        }
        for name in sorted(inspector.get_table_names())
    }


def contents(engine: Engine) -> dict[str, list[str]]:
    """Every row of every table (alembic_version included)."""
    with engine.connect() as conn:
        return {
            table: sorted(repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table}"')))
            for table in sorted(inspect(conn).get_table_names())
        }


def test_upgrade_is_idempotent(db: Database, workspace: str) -> None:
    with db.session() as s:
        make.log(s, workspace, "visits", 1000, date(2026, 11, 1), channel="天猫")
        goal = make.goal(s, workspace, "visits", 30000)
        make.task(s, workspace, "Banner", goal=goal.number, status="blocked", reason="copy")
        make.campaign(s, workspace, "双十一", date(2026, 11, 1), date(2026, 11, 11), budget=20000, goal=goal.number)
    upgrade(db.engine)
    revision, tables, rows = current_revision(db.engine), schema(db.engine), contents(db.engine)
    assert revision is not None and tables and any(workspace in row for row in rows["tasks"])
    upgrade(db.engine)
    assert current_revision(db.engine) == revision
    assert schema(db.engine) == tables, "a second upgrade changed the schema"
    assert contents(db.engine) == rows, "a second upgrade changed the data"


def test_sqlite_pragmas(tmp_path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    db.dispose()


def test_reads_do_not_take_the_write_lock(tmp_path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.session() as writer, db.session(write=False) as reader:
        writer.execute(text("INSERT INTO workspaces (id, created_at) VALUES ('T1', '2026-01-01 00:00:00')"))
        assert reader.execute(text("SELECT count(*) FROM workspaces")).scalar() == 0
    db.dispose()
