"""The switch to offline on a link that stops answering (no error at all, just silence), and back."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog.model import Loan
from catalog.offline_model import OfflineAction
from kiosk.offline.backend import OfflineCheckoutResult
from tests.kiosk.offline.conftest import OfflineRoom, make_offline


def _wait(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_blackholed_link_switches_by_the_deadline_and_the_abandoned_call_is_not_applied_twice(
        offline_room: OfflineRoom) -> None:
    r = offline_room
    if r.link.proxy is None:
        pytest.skip("a blackhole is a network fault: PostgreSQL through the loopback proxy")
    r.link.proxy.blackhole = True
    # Without the deadline this call would wait for TCP to give up (minutes): it returns, from the journal.
    result = r.circ.checkout(r.room.patron_id, "TS0000000")
    assert isinstance(result, OfflineCheckoutResult)
    assert not r.circ.is_online and r.circ.switched_at is not None
    assert "no answer" in r.circ.last_reason
    r.link.proxy.blackhole = False  # the abandoned online call may now complete after all
    report = r.circ.replay_now()
    assert report.complete and report.exceptions == 0
    with r.room.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Loan).where(Loan.returned_at.is_(None))) == 1
        assert s.scalar(select(func.count()).select_from(OfflineAction)) == 1


def test_the_background_thread_replays_when_the_database_returns(offline_room: OfflineRoom) -> None:
    r = offline_room
    seen: list[bool] = []
    r.circ.on_connectivity = seen.append
    r.circ.start()
    r.link.pull()
    r.circ.checkout(r.room.patron_id, "TS0000001")
    assert seen == [False]
    r.link.restore()
    assert _wait(lambda: r.circ.backlog() == 0 and r.circ.is_online), (r.circ.last_reason, r.circ.last_replay)
    assert seen == [False, True]


def test_a_journal_backlog_raises_the_alert_and_the_drain_resolves_it(offline_room: OfflineRoom,
                                                                      kiosk_env: Path) -> None:
    from kiosk.config import load_settings
    from kiosk.ops.alerts.dispatcher import AlertDispatcher

    r = offline_room
    dispatcher = AlertDispatcher.from_settings(load_settings())
    circ = make_offline(r.link.db, r.journal_path.with_name("alerting.sqlite3"), r.clock, alert_backlog=2)
    circ.alerts = dispatcher
    try:
        circ.branch()
        circ.refresh_cache(full=True)
        r.link.pull()
        circ.checkout(r.room.patron_id, "TS0000001")
        circ.checkout(r.room.patron_id, "TS0000002")
        circ.start()
        assert _wait(lambda: [c.key for c in dispatcher.outbox.conditions()] == ["journal_backlog:k1"])
        assert dispatcher.outbox.conditions()[0].params == {"actions": 2, "oldest_min": 0}
        r.link.restore()
        assert _wait(lambda: circ.backlog() == 0 and not dispatcher.outbox.conditions())
    finally:
        circ.close()
        dispatcher.outbox.close()


def test_closing_during_a_pass_of_the_background_loop_logs_no_error(offline_room: OfflineRoom,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    """At exit the loop may be half-way through a pass when the journal closes under it: that is shutdown, not a
    fault, and it must not print a traceback (the network chaos run fails on any traceback a kiosk prints)."""
    r = offline_room
    entered = threading.Event()

    def probe_until_closed() -> bool:
        entered.set()
        r.circ._stop.wait(10)
        raise sqlite3.ProgrammingError("Cannot operate on a closed database.")

    monkeypatch.setattr(r.circ, "probe", probe_until_closed)
    r.circ.start()
    assert entered.wait(10)
    with caplog.at_level(logging.INFO, logger="kiosk.offline.backend"):
        r.circ.close()
    records = [rec for rec in caplog.records if rec.name == "kiosk.offline.backend"]
    assert [rec.levelno for rec in records] == [logging.INFO], [rec.getMessage() for rec in records]
    assert "stopped mid-pass" in records[0].getMessage()
