"""The switch to offline on a link that stops answering (no error at all, just silence), and back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from catalog.model import Loan
from catalog.offline_model import OfflineAction
from kiosk.offline.backend import OfflineCheckoutResult
from tests.kiosk.offline.conftest import OfflineRoom


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
    import time

    deadline = time.monotonic() + 30
    while r.circ.backlog() and time.monotonic() < deadline:
        time.sleep(0.05)
    while not r.circ.is_online and time.monotonic() < deadline:
        time.sleep(0.05)
    assert r.circ.backlog() == 0 and r.circ.is_online and seen == [False, True]
