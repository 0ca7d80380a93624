"""`kiosk demo --sip2` without a window: the demo kiosk on its simulated devices lends through `Sip2Circulation`
from our own SIP2 server on a loopback port, as it would from a remote library system.

card on the simulated GA 467 reader → book on the simulated scanner → Checkout over SIP2 → committed loan in the
server's database → the title on the visit's view (scan line and account list). The ID number never goes on the
wire (`patron_id = "card_key"`) and never reaches a log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from catalog.model import Item, Loan, Patron
from devices.idcard.demo_cards import DEMO_CARDS
from devices.identity import person_key
from devices.simulators.registry import get_simulator
from kiosk.config import DatabaseSettings, load_settings
from kiosk.demo import DemoSip2, available_barcodes, demo_settings, ensure_demo_data
from kiosk.runtime import KioskRuntime
from kiosk.session.view import Screen
from kiosk.sip2.circulation import Sip2Circulation


def _wait(predicate: Callable[[], bool], what: str, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out: {what}")


def test_demo_kiosk_lends_through_our_sip2_server(kiosk_env: Path, database_url: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    base = replace(load_settings(), database=DatabaseSettings(url=database_url, auto_migrate=True))
    settings = demo_settings(replace(base, kiosk=replace(base.kiosk, demo_data_titles=40)), headless=True,
                             database_url=database_url)
    ensure_demo_data(settings)
    server = DemoSip2(settings)
    runtime = KioskRuntime(server.kiosk_settings(settings))
    try:
        assert isinstance(runtime.circulation, Sip2Circulation)
        runtime.start()
        card = next(c for c in DEMO_CARDS if c.valid_to is None or c.valid_to.year > 2030)
        _wait(lambda: get_simulator("demo-idcard") is not None, "reader simulator")
        get_simulator("demo-idcard").place_card(card)  # type: ignore[union-attr]
        _wait(lambda: runtime.session.current().screen == Screen.MENU, "card identified over SIP2")
        runtime.session.choose(Screen.BORROWING)
        barcode = available_barcodes(runtime)[0]
        get_simulator("demo-scanner").scan(barcode)  # type: ignore[union-attr]
        _wait(lambda: bool(runtime.session.current().scans), "scan answered")
        view = runtime.session.current()
        line = view.scans[-1]
        assert line.ok and line.barcode == barcode, line
        assert view.last is not None and view.last.key == "loan.lent"
        assert [loan.title for loan in view.loans] == [line.title]
        with runtime.db.read() as s:
            loan = s.execute(
                select(Loan.kiosk_id, Patron.card_key).join(Item, Item.id == Loan.item_id)
                .join(Patron, Patron.id == Loan.patron_id)
                .where(Item.barcode == barcode, Loan.returned_at.is_(None))).one()
        assert loan.kiosk_id == f"sip2:{settings.kiosk.branch}"  # made by the SIP2 server, not by the kiosk
        assert loan.card_key == person_key(runtime.secret, card.id_number)
    finally:
        runtime.stop()
        server.stop()
    assert card.id_number not in caplog.text and card.name not in caplog.text


@pytest.fixture(autouse=True)
def _stop_simulators() -> Iterator[None]:
    yield
    from devices.simulators.registry import stop_all

    stop_all()
