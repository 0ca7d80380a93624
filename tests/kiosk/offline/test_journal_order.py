"""Property: whatever residents do offline, in whatever order, the replay leaves the database exactly as the kiosk
told them (same copies out, to the same people), with every journaled action applied once and no exception."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from catalog.db import Database
from catalog.model import Item, Loan
from catalog.offline_model import OfflineAction
from kiosk.lending.errors import Refusal
from tests.kiosk.lending.conftest import build_room
from tests.kiosk.offline.conftest import Link, make_offline

ACTION = st.tuples(st.sampled_from(["checkout", "checkin"]), st.integers(0, 1), st.integers(0, 3))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ACTION, min_size=1, max_size=14), st.integers(0, 14))
def test_replay_reproduces_the_offline_view(_sqlite_template: Path, tmp_path: Path,
                                            actions: list[tuple[str, int, int]], pulled_after: int) -> None:
    work = tmp_path / uuid.uuid4().hex
    work.mkdir()
    shutil.copyfile(_sqlite_template, work / "kiosk.sqlite3")
    url = f"sqlite:///{work / 'kiosk.sqlite3'}"
    central = Database.from_url(url)
    room = build_room(central)
    link = Link(url)
    circ = make_offline(link.db, work / "journal.sqlite3", room.clock, max_loans=100)
    patrons = (room.patron_id, room.other_patron_id)
    try:
        circ.branch()
        circ.refresh_cache(full=True)
        told: dict[str, int | None] = {}
        for n, (action, who, which) in enumerate(actions):
            if n == pulled_after:
                link.pull()  # online before, offline after: the journal starts mid-sequence
            barcode = f"TS000000{which}"
            room.clock.advance(seconds=30)
            try:
                if action == "checkout":
                    circ.checkout(patrons[who], barcode)
                    told[barcode] = patrons[who]
                else:
                    circ.checkin(barcode)
                    told[barcode] = None
            except Refusal:
                pass
        journaled = len(circ.journal.entries())
        link.restore()
        report = circ.replay_now()
        assert report.complete and report.exceptions == 0 and report.applied == journaled
        assert circ.replay_now().applied == 0
        with central.read() as s:
            holders = dict(s.execute(select(Item.barcode, Loan.patron_id).join(Loan, Loan.item_id == Item.id)
                                     .where(Loan.returned_at.is_(None))).all())
            assert s.scalar(select(func.count()).select_from(OfflineAction)) == journaled
        assert holders == {b: p for b, p in told.items() if p is not None}
    finally:
        circ.close()
        link.close()
        central.dispose()
