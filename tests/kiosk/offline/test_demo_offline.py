"""The demo's offline scenario, headless: pull the database from the strip, keep lending, restore, see it drain."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from catalog.model import Patron
from devices.events import CardKind, CardPresented
from kiosk.config import load_settings
from kiosk.demo import DemoDatabaseLink, available_barcodes, demo_settings, ensure_demo_data, lent_barcodes
from kiosk.offline.backend import OfflineCirculation
from kiosk.runtime import KioskRuntime
from kiosk.session.view import Screen


def _wait(condition: object, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


def test_pull_the_database_keep_lending_restore_and_the_journal_drains(kiosk_env: Path) -> None:
    base = load_settings()
    settings = demo_settings(replace(base, kiosk=replace(base.kiosk, demo_data_titles=30)), headless=True)
    settings = replace(settings, devices=replace(settings.devices, idcard="", scanner="", printer="",
                                                 door_counter=""))
    ensure_demo_data(settings)
    settings, link = DemoDatabaseLink.for_settings(settings)
    runtime = KioskRuntime(settings)
    link.attach(runtime)
    circ = runtime.circulation
    assert isinstance(circ, OfflineCirculation) and link.available
    runtime.start()
    try:
        with runtime.db.read() as s:
            card = s.scalars(select(Patron).order_by(Patron.id)).first()
        assert card is not None
        patron_id = card.id
        first, second = available_barcodes(runtime, limit=2)
        circ.checkout(patron_id, first)
        link.pull()
        # Nobody touches the kiosk: the probe notices, and the screen's badge says offline.
        assert _wait(lambda: runtime.session.current().offline)
        assert lent_barcodes(runtime) == [first]  # the strip's "return a book" works from the cache
        runtime.session.scan(first)  # a walk-up return, through the real session worker
        assert runtime.session.wait_idle()
        assert runtime.session.current().scans[-1].ok
        assert runtime.session.current().last.key == "return.ok_offline"  # "confirmed when the network is back"
        # A resident's card offline: welcomed from the cache (the staff-card check must not break it), then a loan.
        runtime.session.post(CardPresented("idcard", CardKind.ID_CARD, card.card_key or "", card.masked_card,
                                           card.display_name))
        runtime.session.scan(second)
        assert runtime.session.wait_idle()
        view = runtime.session.current()
        assert view.screen is Screen.BORROWING and view.last is not None, view
        assert view.last.key == "loan.lent_offline" and view.offline
        assert circ.backlog() == 2
        link.restore()
        assert _wait(lambda: circ.backlog() == 0 and not runtime.session.current().offline)
        assert lent_barcodes(runtime) == [second]
    finally:
        runtime.stop()
        link.close()
