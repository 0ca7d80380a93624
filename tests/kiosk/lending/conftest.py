from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from catalog.db import Database
from catalog.model import Branch, Item, ItemStatus, Patron, PatronStatus, Title
from kiosk.lending.policy import LendingPolicy
from kiosk.lending.service import Circulation


class FakeClock:
    """A settable clock: rules about due dates and overdue blocks are tested at chosen instants."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Room:
    db: Database
    circ: Circulation
    clock: FakeClock
    branch_id: int
    other_branch_id: int
    patron_id: int
    other_patron_id: int


def build_room(db: Database, policy: LendingPolicy | None = None, *, items: int = 8) -> Room:
    clock = FakeClock()
    with db.unit_of_work() as s:
        home = Branch(code="XW01", name="锁金村书房", timezone="Asia/Shanghai")
        other = Branch(code="XW02", name="玄武门书房", timezone="Asia/Shanghai")
        s.add_all([home, other])
        s.flush()
        for n in range(items):
            title = Title(title=f"测试图书{n}", authors="作者", isbn13=f"978711100{n:04d}")
            s.add(title)
            s.flush()
            s.add(Item(barcode=f"TS{n:07d}", title_id=title.id, home_branch_id=home.id, current_branch_id=home.id,
                       shelf_location="A区"))
        s.add(Item(barcode="REF0001", title_id=title.id, home_branch_id=home.id, current_branch_id=home.id,
                   status=ItemStatus.REFERENCE_ONLY))
        s.add(Item(barcode="REP0001", title_id=title.id, home_branch_id=home.id, current_branch_id=home.id,
                   status=ItemStatus.IN_REPAIR))
        s.add(Item(barcode="OTHER01", title_id=title.id, home_branch_id=other.id, current_branch_id=other.id))
        p1 = Patron(card_kind="id_card", card_key="a" * 64, masked_card="3201**********1234", display_name="张*")
        p2 = Patron(card_kind="id_card", card_key="b" * 64, masked_card="3201**********5678", display_name="李*")
        s.add_all([p1, p2])
        s.flush()
        ids = (home.id, other.id, p1.id, p2.id)
    circ = Circulation(db, branch_code="XW01", kiosk_id="k1", network_policy=policy or LendingPolicy(), clock=clock)
    return Room(db, circ, clock, *ids)


@pytest.fixture
def room(database: Database) -> Room:
    return build_room(database)


def set_patron_status(db: Database, patron_id: int, status: PatronStatus) -> None:
    with db.unit_of_work() as s:
        patron = s.get(Patron, patron_id)
        assert patron is not None
        patron.status = status
