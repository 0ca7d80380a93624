"""The visit machine's flows on a real database: what a resident sees after each card, scan and tap."""

from __future__ import annotations

from datetime import date

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from catalog.db import Database
from catalog.model import Rating
from devices.events import CardKind, CardPresented
from kiosk.session.view import Screen, Severity
from kiosk.session.visit import VisitMachine
from kiosk.staff_accounts import StaffDirectory
from tests.kiosk.lending.conftest import Room, build_room


class Ticks:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Printer:
    """The session's printer port with a given outcome (the driver behind it is tested against its simulator)."""

    def __init__(self, problem: str | None, *, known: str | None = None) -> None:
        self.problem = problem
        self.known = known
        self.printed: list[list[str]] = []
        self.codes: list[str | None] = []

    def print_receipt(self, lines: list[str], qr: str | None) -> str | None:
        self.printed.append(lines)
        self.codes.append(qr)
        return self.problem

    def known_problem(self) -> str | None:
        return self.known


def card(key: str = "a" * 64, *, expired: bool = False, kind: CardKind = CardKind.ID_CARD) -> CardPresented:
    return CardPresented("idcard", kind, key, "3201**********1234", "张*", date(2036, 1, 1), expired,
                         patron_identifier="320102198001011234")


@pytest.fixture
def visit(database: Database) -> tuple[VisitMachine, Room, Ticks]:
    room = build_room(database)
    ticks = Ticks()
    return VisitMachine(room.circ, idle_timeout_s=60, idle_warning_s=15, monotonic=ticks), room, ticks


def test_known_card_borrow_then_finish_with_printed_receipt(visit: tuple[VisitMachine, Room, Ticks]) -> None:
    machine, _room, _ = visit
    machine.printer = Printer(None)
    view = machine.card(card())
    assert view.screen == Screen.MENU and view.patron is not None and view.patron.masked_name == "张*"
    view = machine.scan("TS0000000")
    assert view.screen == Screen.BORROWING
    assert view.last is not None and view.last.key == "loan.lent" and view.last.severity == Severity.SUCCESS
    assert view.patron is not None and view.patron.loans_count == 1
    view = machine.scan("TS0000000")
    assert view.last is not None and view.last.key == "loan.already_scanned"
    assert machine.finish().screen == Screen.FINISHING
    view = machine.choose_receipt("print")
    assert view.screen == Screen.RECEIPT and view.receipt is not None and view.receipt.printed
    printed = "\n".join(machine.printer.printed[0])  # type: ignore[union-attr]
    assert "张*" in printed and "320102198001011234" not in printed
    # The QR code holds the receipt as text a phone shows: what was lent and when it is due, no personal data.
    code = machine.printer.codes[0]  # type: ignore[union-attr]
    assert code == view.receipt.qr_payload
    lines = code.splitlines()
    assert lines[0] == "锁金村书房 自助借还凭条" and lines[2].startswith("借出 《测试图书0》 应还 20")
    assert "张" not in code and "3201" not in code and "TS0000000" not in code
    view = machine.finish()
    assert view.screen == Screen.RATING and view.patron is None and view.loans == ()


def test_paper_out_falls_back_to_the_screen(visit: tuple[VisitMachine, Room, Ticks]) -> None:
    machine, _room, _ = visit
    machine.printer = Printer("receipt.paper_out")
    machine.card(card())
    machine.scan("TS0000001")
    machine.finish()
    view = machine.choose_receipt("print")
    assert view.screen == Screen.RECEIPT and view.receipt is not None and not view.receipt.printed
    assert view.last is not None and view.last.key == "receipt.paper_out"


def test_a_known_printer_fault_is_said_before_the_choice_and_printing_stays_offered(
        visit: tuple[VisitMachine, Room, Ticks]) -> None:
    machine, _room, _ = visit
    machine.printer = Printer("receipt.paper_out", known="receipt.paper_out")
    machine.card(card())
    machine.scan("TS0000001")
    view = machine.finish()
    assert view.screen == Screen.FINISHING and view.can_print
    assert view.last is not None and view.last.key == "receipt.choose.paper_out"
    assert view.last.severity == Severity.WARNING
    view = machine.choose_receipt("print")  # paper may have been put in since: trying is allowed
    assert view.screen == Screen.RECEIPT and view.receipt is not None and not view.receipt.printed
    assert len(machine.printer.printed) == 1  # type: ignore[union-attr]


def test_without_a_printer_the_choice_offers_the_screen_only(visit: tuple[VisitMachine, Room, Ticks]) -> None:
    machine, _room, _ = visit
    machine.card(card())
    machine.scan("TS0000001")
    view = machine.finish()
    assert view.screen == Screen.FINISHING and not view.can_print
    assert view.last is not None and view.last.key == "receipt.choose"
    view = machine.choose_receipt("screen")
    assert view.screen == Screen.RECEIPT and view.receipt is not None


def test_unknown_card_asks_consent_before_storing_anything(visit: tuple[VisitMachine, Room, Ticks]) -> None:
    machine, room, _ = visit
    stranger = card("e" * 64)
    assert machine.card(stranger).screen == Screen.CONSENT
    assert room.circ.find_patron("e" * 64) is None
    view = machine.decline_consent()
    assert view.screen == Screen.ATTRACT and view.patron is None
    assert room.circ.find_patron("e" * 64) is None
    machine.card(stranger)
    view = machine.accept_consent()
    assert view.screen == Screen.MENU and room.circ.find_patron("e" * 64) is not None


def test_expired_card_is_refused_on_the_attract_screen(visit: tuple[VisitMachine, Room, Ticks]) -> None:
    machine, _, _ = visit
    view = machine.card(card(expired=True))
    assert view.screen == Screen.ATTRACT and view.last is not None and view.last.key == "session.card_expired"


def test_walk_up_return_needs_no_card(visit: tuple[VisitMachine, Room, Ticks]) -> None:
    machine, room, _ = visit
    room.circ.checkout(room.patron_id, "TS0000002")
    view = machine.scan("TS0000002")
    assert view.screen == Screen.RETURNING and view.patron is None
    assert view.scans[-1].ok and view.last is not None and view.last.key == "return.ok"
    view = machine.scan("TS0000002")
    assert view.last is not None and view.last.key == "refusal.not_on_loan"


def test_item_already_on_card_offers_renewal(visit: tuple[VisitMachine, Room, Ticks]) -> None:
    machine, room, _ = visit
    room.circ.checkout(room.patron_id, "TS0000003")
    machine.card(card())
    view = machine.scan("TS0000003")
    assert view.last is not None and view.last.key == "loan.offer_renewal"
    machine.choose(Screen.ACCOUNT)
    loan = machine.view.loans[0]
    assert loan.renewable
    view = machine.renew(loan.loan_id)
    assert view.last is not None and view.last.key == "renew.ok"
    view = machine.renew_all()
    assert view.last is not None and view.last.params == {"renewed": 0, "refused": 1}


def test_idle_warning_then_timeout_wipes_the_patron(visit: tuple[VisitMachine, Room, Ticks]) -> None:
    machine, _, ticks = visit
    machine.card(card())
    ticks.t += 50
    view = machine.tick()
    assert view.idle_warning_remaining_s == 10
    machine.touch()
    assert machine.view.idle_warning_remaining_s is None
    ticks.t += 61
    view = machine.tick()
    assert view.screen == Screen.ATTRACT and view.patron is None and view.scans == () and view.loans == ()
    assert view.last is not None and view.last.key == "session.timed_out"


def test_rating_is_stored_without_the_patron(visit: tuple[VisitMachine, Room, Ticks], database: Database) -> None:
    machine, _, _ = visit
    machine.card(card())
    machine.finish()
    view = machine.rate("good", ("fast",))
    assert view.screen == Screen.ATTRACT and view.last is not None and view.last.key == "rating.thanks"
    with database.read() as s:
        assert s.scalar(select(func.count()).select_from(Rating)) == 1
        assert not hasattr(Rating, "patron_id")


def test_staff_card_and_pin_open_librarian_mode(visit: tuple[VisitMachine, Room, Ticks], database: Database) -> None:
    machine, _, _ = visit
    staff = StaffDirectory(database, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    staff.add("wang", "2468", display_name="王老师", card_key_value="f" * 64)
    machine.staff = staff
    assert machine.card(card("f" * 64, kind=CardKind.LIBRARY_CARD)).screen == Screen.STAFF_LOGIN
    view = machine.staff_login("9999")
    assert view.screen == Screen.STAFF_LOGIN and view.last is not None and view.last.key == "staff.wrong_pin"
    view = machine.staff_login("2468")
    assert view.screen == Screen.STAFF and view.staff_name == "王老师"
    assert machine.staff_exit().screen == Screen.ATTRACT
