"""A whole visit through the real session (`kiosk.session.runner.SessionRunner` over `VisitMachine` and
`Circulation`) on a real database, driven by device events and taps on the real app: card → menu → borrow → scan →
finish → on-screen receipt → rating → attract. What the widgets show is asserted at each step, and the loan is
committed in the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from catalog.db import Database
from catalog.model import Item, ItemStatus, Loan, Title

pytestmark = pytest.mark.ui


@pytest.fixture
def runner(kiosk_ui: Any, database: Database, secret: bytes) -> Iterator[Any]:
    from catalog.demo import DemoResident, load_demo
    from devices.events import CardKind
    from devices.idcard.demo_cards import DEMO_CARDS
    from devices.identity import mask_id_number, mask_name, person_key
    from kiosk.lending.policy import LendingPolicy
    from kiosk.lending.service import Circulation
    from kiosk.session.runner import SessionRunner
    from kiosk.session.visit import VisitMachine

    card = DEMO_CARDS[0]
    resident = DemoResident(card_kind=CardKind.ID_CARD.value, card_key=person_key(secret, card.id_number),
                            masked_card=mask_id_number(card.id_number), display_name=mask_name(card.name),
                            valid_until=card.valid_to)
    load_demo(database, titles=12, branch_code="DEMO", residents=[resident])
    circulation = Circulation(database, branch_code="DEMO", kiosk_id="kiosk-ui-test", network_policy=LendingPolicy())
    session = SessionRunner(VisitMachine(circulation, idle_timeout_s=600, idle_warning_s=15))
    session.start()
    kiosk_ui.app.attach(session)
    kiosk_ui.session_runner = session
    kiosk_ui.card = (resident, card)
    try:
        yield session
    finally:
        session.stop()


def _settled(h: Any, screen: str) -> None:
    assert h.session_runner.wait_idle(10)
    assert h.wait_for(lambda: h.app.root.manager.current == screen, timeout=10), h.app.root.manager.current
    h.settle()


def _texts(h: Any) -> str:
    return "\n".join(str(getattr(w, "text", "")) for w in h.current_screen().walk(restrict=True))


def test_first_loan_from_card_to_rating(kiosk_ui: Any, runner: Any, database: Database) -> None:
    from devices.events import BarcodeScanned, CardKind, CardPresented

    h = kiosk_ui
    resident, card = h.card
    with database.engine.connect() as conn:
        barcode, title = conn.execute(
            select(Item.barcode, Title.title).join(Title, Title.id == Item.title_id)
            .where(Item.status == ItemStatus.AVAILABLE.value).order_by(Item.barcode).limit(1)).one()

    runner.post(CardPresented(device="idcard", kind=CardKind.ID_CARD, key=resident.card_key,
                              masked_number=resident.masked_card, display_name=resident.display_name,
                              valid_until=card.valid_to))
    _settled(h, "menu")
    assert resident.display_name in h.find("greeting").text
    assert card.name not in _texts(h)  # only the masked name ever reaches the screen

    h.tap("borrow")
    _settled(h, "borrowing")
    runner.post(BarcodeScanned(device="scanner", code=barcode))
    _settled(h, "borrowing")
    assert h.wait_for(lambda: "借书成功" in h.find("last_message").text, timeout=10)
    assert title in h.find("last_message").text
    lines = _texts(h)
    assert title in lines and "应还" in lines
    assert h.find("count").text.startswith("已借 1/")

    h.tap("finish")
    _settled(h, "finishing")
    h.tap("receipt:screen")
    _settled(h, "receipt")
    assert h.find("receipt_qr").texture is not None
    assert resident.display_name in h.find("receipt_text").text
    import ui.qr

    receipt_payload = h.find("receipt_qr").payload
    assert receipt_payload in ui.qr._CACHE

    h.tap("receipt_done")
    _settled(h, "rating")
    assert resident.display_name not in _texts(h)  # the rating is anonymous
    h.tap("tag:fast")
    h.tap("rate:good")
    _settled(h, "attract")
    assert h.find("card_hint").text != ""
    # Finishing wipes the visit from every screen of the session, not only the one in front: each one still in the
    # manager (borrowing, receipt, account, …) now renders the empty attract view. (Browse screens may still show
    # the same title from a visitor's search: that is the catalog, not this visit.)
    from kiosk.session.view import Screen

    visit_screens = [h.app.root.screen(s.value) for s in Screen]
    everything = "\n".join(str(getattr(w, "text", "")) for screen in visit_screens for w in screen.walk(restrict=True))
    assert resident.display_name not in everything and title not in everything
    receipt = h.app.root.screen("receipt")
    assert not [w for w in receipt.walk() if getattr(w, "action", "") == "receipt_qr" and w.payload]
    assert receipt_payload not in ui.qr._CACHE  # the visit's code is not kept in memory either
    with database.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Loan)).scalar_one() == 1
