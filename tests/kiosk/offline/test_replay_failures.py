"""A row that fails to replay: kept for the next pass, an exception after a few real failures, never because two
kiosks collided, and never a crash of the replay because recording the exception failed too.

The failures are injected through the replayer's `run` (the seam the backend uses to put a deadline on every
central transaction), so every query still runs on the real database.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from catalog.offline_model import CirculationException, OfflineAction
from kiosk.offline.replay import MAX_ATTEMPTS
from tests.kiosk.offline.conftest import OfflineRoom


def _journal_two_loans(r: OfflineRoom) -> tuple[str, str]:
    r.link.pull()
    first = r.circ.checkout(r.room.patron_id, "TS0000003")
    second = r.circ.checkout(r.room.patron_id, "TS0000004")
    r.link.restore()
    return first.uuid, second.uuid  # type: ignore[attr-defined]


def _touches(fn: Callable[[], Any], action_id: str) -> bool:
    """Does this central transaction replay the row `action_id` (alone or in a batch)?"""
    if not isinstance(fn, partial) or not fn.args:
        return False
    entries = fn.args[0] if isinstance(fn.args[0], list) else [fn.args[0]]
    return any(getattr(e, "uuid", None) == action_id for e in entries)


def _deadlock() -> OperationalError:
    """What SQLAlchemy raises when PostgreSQL breaks a deadlock between two kiosks' replays."""
    return OperationalError("SELECT … FOR NO KEY UPDATE", {}, psycopg.errors.DeadlockDetected("deadlock detected"))


def _outcomes(r: OfflineRoom) -> dict[str, str]:
    with r.room.db.read() as s:
        return {a.uuid: a.outcome for a in s.scalars(select(OfflineAction))}


def test_a_row_that_keeps_failing_becomes_an_exception_and_the_rows_after_it_are_applied(
        offline_room: OfflineRoom) -> None:
    r = offline_room
    bad, good = _journal_two_loans(r)
    real_run = r.circ.replayer.run

    def failing(fn: Callable[[], Any]) -> Any:
        if _touches(fn, bad):
            raise ValueError("a row the database cannot take")
        return real_run(fn)

    r.circ.replayer.run = failing
    for _ in range(MAX_ATTEMPTS - 1):
        report = r.circ.replay_now()
        assert report.error.startswith("ValueError") and r.circ.backlog() == 2  # kept, in order, for the next pass
    report = r.circ.replay_now()
    assert (report.applied, report.exceptions, report.remaining) == (1, 1, 0)
    assert _outcomes(r) == {bad: "exception", good: "applied"}
    with r.room.db.read() as s:
        assert s.scalars(select(CirculationException.reason)).one() == "exception.replay_failed"


def test_a_deadlock_is_retried_however_often_it_happens_and_never_made_an_exception(
        offline_room: OfflineRoom) -> None:
    r = offline_room
    first, second = _journal_two_loans(r)
    real_run = r.circ.replayer.run
    collisions = {"left": MAX_ATTEMPTS * 3}

    def colliding(fn: Callable[[], Any]) -> Any:
        if _touches(fn, first) and collisions["left"] > 0:
            collisions["left"] -= 1
            raise _deadlock()
        return real_run(fn)

    r.circ.replayer.run = colliding
    passes = 0
    while collisions["left"] > 0:
        report = r.circ.replay_now()
        passes += 1
        assert report.exceptions == 0
        assert r.circ.backlog() == 2 or collisions["left"] == 0  # the colliding row waits, and so does the next
    assert passes > MAX_ATTEMPTS
    assert r.circ.replay_now().complete
    assert _outcomes(r) == {first: "applied", second: "applied"}


def test_when_recording_the_exception_fails_too_the_row_waits_and_nothing_escapes(offline_room: OfflineRoom) -> None:
    r = offline_room
    bad, good = _journal_two_loans(r)
    real_run = r.circ.replayer.run
    records = {"failures": 1}

    def failing(fn: Callable[[], Any]) -> Any:
        if _touches(fn, bad):
            raise ValueError("a row the database cannot take")
        if not isinstance(fn, partial) and records["failures"] > 0:  # the give-up's own transaction
            records["failures"] -= 1
            raise _deadlock()
        return real_run(fn)

    r.circ.replayer.run = failing
    for _ in range(MAX_ATTEMPTS):
        report = r.circ.replay_now()  # the last of these fails to record the exception: it must not raise
        assert r.circ.backlog() == 2 and report.error
    report = r.circ.replay_now()
    assert (report.applied, report.exceptions, report.remaining) == (1, 1, 0)
    assert _outcomes(r) == {bad: "exception", good: "applied"}
