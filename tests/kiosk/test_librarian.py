"""Librarian work at the kiosk on a real database: status by scanning (through the visit machine), the overdue list,
the dashboard's numbers and chart ("no data yet" before the door counter has reported anything)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from PIL import Image
from sqlalchemy import select

from catalog.db import Database
from catalog.model import AuditEntry, Item, ItemStatus
from devices.events import CardKind, CardPresented, DoorCount
from kiosk.librarian import ItemOnLoan, Librarian, UnknownItem
from kiosk.session.view import Screen, SessionView, Severity
from kiosk.session.visit import VisitMachine
from kiosk.staff_accounts import StaffDirectory
from kiosk.traffic.ingest import ingest
from kiosk.traffic.settings import TrafficSettings
from tests.kiosk.lending.conftest import Room, build_room


@pytest.fixture
def room(database: Database) -> Room:
    return build_room(database)


@pytest.fixture
def librarian(room: Room) -> Librarian:
    return Librarian(room.db, branch_code="XW01", kiosk_id="k1", clock=room.clock)


def _status(db: Database, barcode: str) -> str:
    with db.read() as s:
        return str(s.scalar(select(Item.status).where(Item.barcode == barcode)))


def test_set_status_changes_item_and_audits(room: Room, librarian: Librarian) -> None:
    change = librarian.set_status("TS0000001", "lost", staff="王老师")
    assert change.changed and change.title == "测试图书1" and change.after == ItemStatus.LOST
    assert _status(room.db, "TS0000001") == ItemStatus.LOST
    assert not librarian.set_status("TS0000001", "lost").changed
    assert librarian.set_status("REP0001", "available").before == ItemStatus.IN_REPAIR
    assert _status(room.db, "REP0001") == ItemStatus.AVAILABLE
    with room.db.read() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "item_status").order_by(AuditEntry.id)).all()
        assert [(e.outcome, e.detail["to"]) for e in entries] == [("ok", "lost"), ("unchanged", "lost"),
                                                                   ("ok", "available")]
        assert entries[0].detail["staff"] == "王老师"


def test_set_status_refuses_unknown_and_on_loan(room: Room, librarian: Librarian) -> None:
    with pytest.raises(UnknownItem):
        librarian.set_status("NOPE", "withdrawn")
    room.circ.checkout(room.patron_id, "TS0000002")
    with pytest.raises(ItemOnLoan) as refused:
        librarian.set_status("TS0000002", "withdrawn")
    assert refused.value.params["title"] == "测试图书2"
    assert _status(room.db, "TS0000002") == ItemStatus.ON_LOAN


def test_overdue_lists_masked_names_most_late_first_paged(room: Room, librarian: Librarian) -> None:
    assert librarian.overdue().total == 0
    room.circ.checkout(room.patron_id, "TS0000003")
    room.clock.advance(days=2)
    room.circ.checkout(room.other_patron_id, "TS0000004")
    room.circ.checkout(room.other_patron_id, "TS0000005")
    room.circ.checkin("TS0000005")
    room.clock.advance(days=40)
    page = librarian.overdue(offset=0, limit=1)
    assert page.total == 2 and len(page.lines) == 1
    first = page.lines[0]
    assert (first.barcode, first.patron, first.title) == ("TS0000003", "张*", "测试图书3")
    assert first.days_late > librarian.overdue(offset=1, limit=1).lines[0].days_late > 0
    assert librarian.overdue(offset=1, limit=5).lines[0].patron == "李*"


def test_dashboard_says_no_data_then_draws_the_week(room: Room, librarian: Librarian, tmp_path: Path) -> None:
    empty = librarian.dashboard(tmp_path)
    assert empty.visits_today is None and empty.visits_week is None and empty.chart is None
    assert (empty.index_total, empty.index_boards) == (0.0, ("activity",))  # no events held: a fact, not a gap
    start = room.clock.now - timedelta(hours=3)
    events = [DoorCount("door", 10 * n, 9 * n, start + timedelta(minutes=15 * n), start + timedelta(minutes=15 * n))
              for n in range(12)]
    ingest(room.db, "XW01", events, TrafficSettings())
    board = librarian.dashboard(tmp_path, "en")
    assert board.visits_week is not None and board.visits_week > 0
    assert board.visits_today is not None and board.visits_today > 0
    assert board.chart is not None
    assert {"flow", "activity"} <= set(board.index_boards)
    with Image.open(board.chart) as png:
        assert png.size[0] > 500


def test_visit_machine_routes_staff_scans(room: Room, librarian: Librarian, database: Database) -> None:
    staff = StaffDirectory(database, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    staff.add("wang", "2468", display_name="王老师", card_key_value="f" * 64)
    machine = VisitMachine(room.circ, idle_timeout_s=60, idle_warning_s=15, staff=staff, librarian=librarian)
    assert machine.staff_action("lost").staff_mode == ""  # not signed in: nothing changes
    machine.card(CardPresented("card", CardKind.LIBRARY_CARD, "f" * 64, "****", "王*", None))
    view = machine.staff_login("2468")
    assert view.screen == Screen.STAFF
    assert machine.scan("TS0000006").last is not None
    assert _status(database, "TS0000006") == ItemStatus.AVAILABLE  # no mode chosen: scans change nothing
    view = machine.staff_action("in_repair")
    assert view.staff_mode == "in_repair" and view.last is not None and view.last.key == "librarian.prompt.in_repair"
    view = machine.scan("TS0000006")
    assert view.last is not None and view.last.key == "librarian.status_set.in_repair"
    assert view.scans[-1].title == "测试图书6" and view.scans[-1].ok
    assert _status(database, "TS0000006") == ItemStatus.IN_REPAIR
    view = machine.scan("NOPE")
    assert view.last is not None and view.last.key == "librarian.unknown_item" and view.last.severity == Severity.ERROR
    assert machine.staff_exit().staff_mode == ""


def test_add_copy_by_isbn_then_barcode(room: Room, librarian: Librarian, database: Database) -> None:
    machine = VisitMachine(room.circ, idle_timeout_s=60, idle_warning_s=15, librarian=librarian)
    machine.view = SessionView(screen=Screen.STAFF, staff_name="王老师")  # as after staff card + PIN
    machine.staff_action("add_copy")
    view = machine.scan("NEW0001")
    assert view.last is not None and view.last.key == "librarian.add_copy.isbn_first"
    view = machine.scan("9787999999999")
    assert view.last is not None and view.last.key == "librarian.add_copy.unknown_isbn"
    view = machine.scan("9787111000003")
    assert view.last is not None and view.last.key == "librarian.add_copy.scan_barcode"
    assert view.last.params["title"] == "测试图书3"
    view = machine.scan("TS0000001")  # taken by another copy: refused, the ISBN stays chosen
    assert view.last is not None and view.last.key == "librarian.add_copy.barcode_taken"
    view = machine.scan("NEW0001")
    assert view.last is not None and view.last.key == "librarian.add_copy.added"
    assert view.scans[-1].title == "测试图书3" and view.scans[-1].ok
    with database.read() as s:
        item = s.scalars(select(Item).where(Item.barcode == "NEW0001")).one()
        assert item.status == ItemStatus.AVAILABLE and item.home_branch_id == room.branch_id
        assert s.scalar(select(AuditEntry.detail).where(AuditEntry.action == "item_add")) == {
            "isbn": "9787111000003", "staff": "王老师"}
    view = machine.scan("NEW0002")  # the next copy needs its ISBN again
    assert view.last is not None and view.last.key == "librarian.add_copy.isbn_first"
