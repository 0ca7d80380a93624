"""Engines and units of work.

SQLite (the embedded default) runs in WAL mode with foreign keys on and `synchronous=FULL`, so a committed loan
survives a power cut. Write transactions start with `BEGIN IMMEDIATE`: two kiosk threads (or processes) that both
read an item and then try to lend it would otherwise deadlock on the upgrade from read to write lock; IMMEDIATE makes
the second wait for the first instead. PostgreSQL relies on conditional updates and row locks (see circulation).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

SQLITE_BUSY_TIMEOUT_MS = 10_000


def _install_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (pysqlite's implicit BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, *, pool_size: int = 5, connect_timeout_s: float = 3.0,
                statement_timeout_s: float = 5.0) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError("the kiosk needs a SQLite file: threads cannot share an in-memory database")
        # A pool, not a connection per unit of work: closing the last connection of a WAL database checkpoints
        # it (measured: 7 ms per loan here), and every new connection re-runs the pragmas.
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            poolclass=QueuePool,
            pool_size=pool_size,
            max_overflow=pool_size * 2,
            pool_timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
        )
        _install_sqlite_pragmas(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            pool_timeout=connect_timeout_s,
            pool_recycle=1800,
            connect_args={
                "connect_timeout": max(1, int(connect_timeout_s)),
                "options": f"-c statement_timeout={int(statement_timeout_s * 1000)}",
                "application_name": "reading-room-kiosk",
            },
        )
    raise ValueError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")


BATCH_STATEMENT_TIMEOUT_S = 600.0
"""The statement bound of batch work on PostgreSQL (`Database.unit_of_work(statement_timeout_s=…)`): long enough
for a chunk of 5,000 imported titles on a Raspberry Pi-class server under load, short of hanging forever."""


class Database:
    """One engine and the two ways of using it: read-only sessions and write units of work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reads = sessionmaker(bind=engine, expire_on_commit=False)
        self._writes = sessionmaker(
            bind=engine.execution_options(sqlite_immediate=True), expire_on_commit=False
        )

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        return cls(make_engine(url, **kwargs))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self._reads()
        try:
            yield session
        finally:
            # close() (not rollback()) ends the transaction without expiring what was loaded, so the caller can
            # still read the detached objects it turns into plain values.
            session.close()

    @contextmanager
    def unit_of_work(self, *, statement_timeout_s: float | None = None) -> Iterator[Session]:
        """One user action = one transaction: committed when the block ends cleanly, rolled back otherwise.

        `statement_timeout_s` replaces the engine's bound (5 s: a kiosk waiting on a stuck server must give up
        and go offline) for this transaction only, on PostgreSQL: batch work (a chunk of an import, a reindex)
        runs single statements that take seconds by design, and on a loaded server more than five."""
        session = self._writes()
        try:
            if statement_timeout_s is not None and self.dialect == "postgresql":
                session.connection().exec_driver_sql(
                    f"SET LOCAL statement_timeout = {max(1, int(statement_timeout_s * 1000))}")
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()

    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)
