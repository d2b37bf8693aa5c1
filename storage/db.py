"""Engine, sessions and the one place that commits."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Dialect, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import PoolProxiedConnection


def normalise_url(url: str) -> str:
    """Plain postgres URLs use psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (so BEGIN IMMEDIATE is possible).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A transaction that reads then writes must hold the write lock from the start, or SQLite
        # fails it with "database is locked" whatever the busy timeout.
        # Straight to the driver: every command runs this, and no result or type handling is needed.
        driver = conn.connection.driver_connection
        driver.execute("BEGIN" if conn.get_execution_options().get("mktbot_read_only") else "BEGIN IMMEDIATE")


class Transaction:
    """What Database.transaction() yields: the dialect, cursors on its connection, and after-commit callbacks."""

    def __init__(self, dialect: Dialect, url: URL, raw: PoolProxiedConnection) -> None:
        self.dialect = dialect
        self.url = url
        self._raw = raw
        self.committed: list[Callable[[], None]] = []

    def cursor(self) -> Any:
        return self._raw.cursor()

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.committed.append(callback)


@dataclass
class Database:
    engine: Engine
    writer: sessionmaker[Session]
    reader: sessionmaker[Session]

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    write_lock: threading.RLock = field(default_factory=threading.RLock)

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error."""
        if write and self.is_sqlite:
            # SQLite has one writer; queueing here is fair and fast, where SQLite's busy handler sleeps
            # in growing steps (seconds at the tail under load). Other processes still meet BEGIN IMMEDIATE.
            with self.write_lock, self._session(write=True) as session:
                yield session
        else:
            with self._session(write=write) as session:
                yield session

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A write transaction straight on a pooled driver connection, without an ORM Session, for the
        busiest commands' prepared statements (storage.prepared): commits on success, rolls back on any error."""
        with self.write_lock if self.is_sqlite else nullcontext():
            raw = self.engine.raw_connection()
            try:
                if self.is_sqlite:
                    raw.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
                transaction = Transaction(self.engine.dialect, self.engine.url, raw)
                try:
                    yield transaction
                except BaseException:
                    raw.rollback()
                    raise
                raw.commit()
                for callback in transaction.committed:
                    callback()
            finally:
                raw.close()

    @contextmanager
    def _session(self, *, write: bool) -> Iterator[Session]:
        factory = self.writer if write else self.reader
        session = factory()
        try:
            yield session
            if write:
                session.commit()
            # A read-only unit just closes: its objects keep their loaded state for rendering.
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, *, migrate: bool = True, **engine_kwargs: Any) -> Database:
    engine = make_engine(url, **engine_kwargs)
    if migrate:
        from storage.migrate import upgrade

        upgrade(engine)
    reader_engine = engine.execution_options(mktbot_read_only=True)
    return Database(
        engine=engine,
        writer=sessionmaker(bind=engine, expire_on_commit=False),
        reader=sessionmaker(bind=reader_engine, expire_on_commit=False),
    )
