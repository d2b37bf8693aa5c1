"""The schema comes from the migrations, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from sqlalchemy import inspect, text

from storage.db import Database, open_database
from storage.migrate import current_revision, upgrade
from storage.models import Base


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


def test_upgrade_is_idempotent(db: Database) -> None:
    upgrade(db.engine)
    upgrade(db.engine)


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
