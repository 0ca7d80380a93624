"""Which failures mean "the database is unreachable" (go offline) rather than "this action is wrong" (report it).

Connection refused, a connect or pool timeout and a connection dropped mid-transaction all surface through
SQLAlchemy as `OperationalError`/`InterfaceError` (psycopg's own classes wrapped) or with `connection_invalidated`
set; SQLite's only equivalent is a file it cannot open. A locked SQLite file or a constraint violation is not an
outage: going offline on those would hide a bug behind the journal.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import exc as sa_exc

T = TypeVar("T")

_SQLITE_GONE = ("unable to open database file", "disk i/o error")


class Unreachable(Exception):
    """The database did not answer (refused, timed out, dropped): the action is done offline instead."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_CONTENTION_SQLSTATES = {"40P01", "40001"}
"""PostgreSQL's deadlock_detected and serialization_failure: OperationalErrors that mean contention, not a lost link."""


def is_contention(error: BaseException) -> bool:
    """A deadlock or serialization failure: the server is there, a retry of the whole transaction settles it."""
    return getattr(getattr(error, "orig", None) or error, "sqlstate", None) in _CONTENTION_SQLSTATES


def is_connectivity_error(error: BaseException) -> bool:
    if isinstance(error, Unreachable | sa_exc.DisconnectionError | sa_exc.TimeoutError | ConnectionError):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        orig = error.orig
        if getattr(orig, "sqlstate", None) in _CONTENTION_SQLSTATES:
            return False  # the server answered: two transactions collided, which a retry settles; not an outage
        if isinstance(orig, sqlite3.Error):
            return any(text in str(orig).lower() for text in _SQLITE_GONE)
        return isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    if getattr(error, "sqlstate", None) in _CONTENTION_SQLSTATES:
        return False
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)


def reason_of(error: BaseException) -> str:
    orig = getattr(error, "orig", None) or error
    text = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {text[0] if text else ''}"[:200]


def call_with_deadline(fn: Callable[[], T], deadline_s: float, name: str = "db-call") -> T:
    """Run `fn` on its own thread and wait at most `deadline_s`.

    Why a thread: a blackholed TCP connection blocks inside libpq until the kernel gives up (minutes), and libpq's
    own connect_timeout cannot go below 2 s; the resident must not wait for either. A call that overruns is
    abandoned, not cancelled: if it commits after all, the replay finds its effect and applies nothing twice.
    """
    box: dict[str, object] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as error:  # handed to the caller's thread
            box["error"] = error
        finally:
            done.set()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    if not done.wait(deadline_s):
        raise Unreachable(f"no answer within {deadline_s:g} s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]
