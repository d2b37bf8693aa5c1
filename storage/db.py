"""Engine, sessions and the one place that commits."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Dialect, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import PoolProxiedConnection

log = logging.getLogger(__name__)

T = TypeVar("T")

#: how long a unit of work keeps retrying a lost connection: inside Slack's 3 s ack, with room to answer
RETRY_BUDGET_S = 2.5
#: pauses between attempts (the last one repeats until the budget is spent)
RETRY_BACKOFF_S = (0.05, 0.1, 0.2, 0.4)

_CONNECTION_MESSAGES = (
    "server closed the connection",
    "terminating connection due to administrator command",
    "connection refused",
    "could not connect",
    "connection is closed",
    "connection already closed",
    "the connection is lost",
    "consuming input failed",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "connection reset",
    "broken pipe",
    "ssl syscall error",
    "no connection to the server",
)


def is_connection_error(exc: BaseException) -> bool:
    """A lost or refused database connection (a restart, a failover), not a fault in the statement itself."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    try:
        import psycopg

        if isinstance(original, psycopg.errors.AdminShutdown | psycopg.errors.CannotConnectNow):
            return True
        if not isinstance(original, psycopg.OperationalError | psycopg.InterfaceError):
            return False
    except ImportError:  # pragma: no cover - psycopg ships with mktbot
        pass
    message = str(original).lower()
    return any(m in message for m in _CONNECTION_MESSAGES)


class CommitOutcomeUnknown(Exception):
    """The connection was lost during COMMIT and the server never said whether the transaction committed."""


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
    _ambient: threading.local = field(default_factory=threading.local)

    def _joined(self) -> Session | None:
        return getattr(self._ambient, "session", None)

    def retrying(self, unit: Callable[[Session], T], budget_s: float = RETRY_BUDGET_S) -> T:
        """Run `unit(session)` as one transaction, and on PostgreSQL run it again from the start when the
        connection is lost (a restart), until `budget_s` is spent; then the last error is raised. Every
        `session()` and `transaction()` opened inside the unit joins its transaction, so a retry redoes the
        whole unit or none of it. A commit whose answer was lost is settled with `txid_status` before anything
        is redone, so a write is never made twice. On SQLite the unit runs once, as a plain session."""
        if self.is_sqlite or self._joined() is not None:
            with self.session() as session:
                return unit(session)
        deadline = time.monotonic() + budget_s
        attempt = 0
        while True:
            try:
                return self._attempt(unit, deadline)
            except Exception as exc:
                if not is_connection_error(exc):
                    raise
                pause = RETRY_BACKOFF_S[min(attempt, len(RETRY_BACKOFF_S) - 1)]
                if time.monotonic() + pause >= deadline:
                    log.warning("database unreachable for %.1f s; giving up: %s", budget_s, exc)
                    raise
                log.info("database connection lost (%s); running the unit again", exc.__class__.__name__)
                self.engine.dispose()  # every pooled connection went with the server
                time.sleep(pause)
                attempt += 1

    def run(self, fn: Callable[[], T], budget_s: float = RETRY_BUDGET_S) -> T:
        """`fn()`, whose sessions and transactions make one unit of work retried as `retrying` does; on SQLite
        just `fn()`, each of its sessions on its own as before."""
        if self.is_sqlite:
            return fn()
        return self.retrying(lambda _session: fn(), budget_s)

    def _attempt(self, unit: Callable[[Session], T], deadline: float) -> T:
        session = self.writer()
        self._ambient.session = session
        committed: list[Callable[[], None]] = []
        self._ambient.committed = committed
        try:
            try:
                result = unit(session)
                session.flush()
                # NULL when the unit wrote nothing: then redoing it is harmless anyway
                txid = session.execute(text("SELECT txid_current_if_assigned()")).scalar()
            except BaseException:
                session.rollback()
                raise
            try:
                session.commit()
            except Exception as exc:
                if not is_connection_error(exc) or txid is None:
                    raise
                if not self._settle(int(txid), deadline):
                    raise
                log.info("the commit of transaction %s was lost in transit but had succeeded", txid)
        finally:
            self._ambient.session = None
            self._ambient.committed = None
            session.close()
        for callback in committed:
            callback()
        return result

    def _settle(self, txid: int, deadline: float) -> bool:
        """Whether transaction `txid` committed, asked on a fresh connection; False if it did not (or cannot
        have: 'aborted', or forgotten). Raises CommitOutcomeUnknown when the budget ends first."""
        self.engine.dispose()
        attempt = 0
        while True:
            try:
                with self.engine.connect() as conn:
                    status = conn.execute(text("SELECT txid_status(:txid)"), {"txid": txid}).scalar()
                if status != "in progress":  # the dying backend has not finished yet
                    return status == "committed"
            except Exception as exc:
                if not is_connection_error(exc):
                    raise
                self.engine.dispose()
            pause = RETRY_BACKOFF_S[min(attempt, len(RETRY_BACKOFF_S) - 1)]
            if time.monotonic() + pause >= deadline:
                raise CommitOutcomeUnknown(txid)
            time.sleep(pause)
            attempt += 1

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error (inside `retrying`, joins its unit)."""
        joined = self._joined()
        if joined is not None:
            yield joined
            return
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
        busiest commands' prepared statements (storage.prepared): commits on success, rolls back on any error.
        Inside `retrying`, runs on its unit's connection and transaction."""
        joined = self._joined()
        if joined is not None:
            joined.flush()
            connection = joined.connection()
            transaction = Transaction(connection.dialect, connection.engine.url, connection.connection)
            transaction.committed = self._ambient.committed
            yield transaction
            return
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
