"""Every lending rule and every refusal, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from catalog.db import Database
from catalog.model import AuditEntry, Item, ItemStatus, Loan, PatronStatus
from kiosk.errors import ConfigError
from kiosk.lending import errors
from kiosk.lending.policy import LendingPolicy, apply_overrides
from kiosk.lending.service import Circulation
from tests.kiosk.lending.conftest import Room, build_room, set_patron_status


def _item_status(db: Database, barcode: str) -> str:
    with db.read() as s:
        return s.scalars(select(Item.status).where(Item.barcode == barcode)).one()


def _open_loans(db: Database) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Loan).where(Loan.returned_at.is_(None))) or 0


def test_checkout_lends_until_end_of_local_day(room: Room) -> None:
    result = room.circ.checkout(room.patron_id, "TS0000000")
    # 2026-11-23 10:00 in Shanghai + 30 days → due 2026-12-23 23:59:59 Shanghai = 15:59:59 UTC.
    assert result.due_at.isoformat() == "2026-12-23T15:59:59+00:00"
    assert (result.loans_after, result.max_loans) == (1, 5)
    assert _item_status(room.db, "TS0000000") == ItemStatus.ON_LOAN
    with room.db.read() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "checkout")).one()
    assert (audit.outcome, audit.patron_id, audit.kiosk_id) == ("ok", room.patron_id, "k1")


@pytest.mark.parametrize(
    ("barcode", "error", "key"),
    [
        ("NOPE999", errors.ItemNotFound, "refusal.unknown_barcode"),
        ("9787111000001", errors.IsbnNotItem, "refusal.isbn_not_item"),
        ("REF0001", errors.ItemNotLoanable, "refusal.not_loanable"),
        ("REP0001", errors.ItemNotLoanable, "refusal.not_loanable"),
    ],
)
def test_item_refusals_change_nothing_and_are_audited(room: Room, barcode: str, error: type, key: str) -> None:
    with pytest.raises(error) as raised:
        room.circ.checkout(room.patron_id, barcode)
    assert raised.value.key == key
    assert _open_loans(room.db) == 0
    with room.db.read() as s:
        outcomes = s.scalars(select(AuditEntry.outcome).where(AuditEntry.action == "checkout")).all()
    assert outcomes == [key]


def test_item_on_loan_to_someone_else(room: Room) -> None:
    room.circ.checkout(room.other_patron_id, "TS0000001")
    with pytest.raises(errors.ItemOnLoanElsewhere):
        room.circ.checkout(room.patron_id, "TS0000001")


def test_item_already_on_your_card(room: Room) -> None:
    first = room.circ.checkout(room.patron_id, "TS0000001")
    with pytest.raises(errors.AlreadyOnYourCard) as raised:
        room.circ.checkout(room.patron_id, "TS0000001")
    assert raised.value.params["loan_id"] == first.loan_id
    assert _open_loans(room.db) == 1


def test_limit_reached_says_count_and_max(database: Database) -> None:
    room = build_room(database, LendingPolicy(max_loans=2))
    room.circ.checkout(room.patron_id, "TS0000000")
    room.circ.checkout(room.patron_id, "TS0000001")
    with pytest.raises(errors.LoanLimitReached) as raised:
        room.circ.checkout(room.patron_id, "TS0000002")
    assert raised.value.params == {"count": 2, "max": 2}


@pytest.mark.parametrize("status", [PatronStatus.BARRED, PatronStatus.CARD_LOST, PatronStatus.PENDING_APPROVAL])
def test_blocked_patrons_cannot_borrow(room: Room, status: PatronStatus) -> None:
    set_patron_status(room.db, room.patron_id, status)
    with pytest.raises(errors.PatronBlocked) as raised:
        room.circ.checkout(room.patron_id, "TS0000000")
    assert raised.value.params["reason"] == status


def test_expired_card_blocks(room: Room) -> None:
    room.circ.touch_patron(room.patron_id, card_valid_until=date(2020, 1, 1))
    with pytest.raises(errors.PatronBlocked) as raised:
        room.circ.checkout(room.patron_id, "TS0000000")
    assert raised.value.params["reason"] == "card_expired"


def test_long_overdue_loan_blocks_new_loans(room: Room) -> None:
    room.circ.checkout(room.patron_id, "TS0000000")
    room.clock.advance(days=61)
    with pytest.raises(errors.PatronBlocked) as raised:
        room.circ.checkout(room.patron_id, "TS0000001")
    assert raised.value.params["reason"] == "overdue"


def test_return_needs_no_patron_and_frees_the_item(room: Room) -> None:
    room.circ.checkout(room.patron_id, "TS0000003")
    result = room.circ.checkin("TS0000003")
    assert (result.patron_id, result.in_transit, result.was_overdue) == (room.patron_id, False, False)
    assert _item_status(room.db, "TS0000003") == ItemStatus.AVAILABLE
    with pytest.raises(errors.NotOnLoan):
        room.circ.checkin("TS0000003")


def test_return_of_another_branchs_item_puts_it_in_transit(room: Room) -> None:
    away = Circulation(room.db, branch_code="XW02", kiosk_id="k2", network_policy=LendingPolicy(),
                       clock=room.clock)
    away.checkout(room.patron_id, "OTHER01")
    result = room.circ.checkin("OTHER01")
    assert result.in_transit and result.home_branch == "玄武门书房"
    assert _item_status(room.db, "OTHER01") == ItemStatus.IN_TRANSIT


def test_floating_collection_keeps_returned_items(database: Database) -> None:
    room = build_room(database, LendingPolicy(floating_collection=True))
    away = Circulation(room.db, branch_code="XW02", kiosk_id="k2", network_policy=LendingPolicy(),
                       clock=room.clock)
    away.checkout(room.patron_id, "OTHER01")
    assert not room.circ.checkin("OTHER01").in_transit
    assert _item_status(room.db, "OTHER01") == ItemStatus.AVAILABLE


def test_overdue_return_is_flagged(room: Room) -> None:
    room.circ.checkout(room.patron_id, "TS0000000")
    room.clock.advance(days=40)
    assert room.circ.checkin("TS0000000").was_overdue


def test_renewal_extends_from_due_date_once(room: Room) -> None:
    loan = room.circ.checkout(room.patron_id, "TS0000000")
    renewed = room.circ.renew(room.patron_id, loan.loan_id)
    assert renewed.due_at - loan.due_at == timedelta(days=30)
    with pytest.raises(errors.RenewalRefused) as raised:
        room.circ.renew(room.patron_id, loan.loan_id)
    assert raised.value.params["reason"] == "max_renewals"


def test_reserved_item_cannot_be_renewed(room: Room) -> None:
    loan = room.circ.checkout(room.patron_id, "TS0000000")
    with room.db.unit_of_work() as s:
        item = s.scalars(select(Item).where(Item.barcode == "TS0000000")).one()
        item.reserved = True
    with pytest.raises(errors.RenewalRefused) as raised:
        room.circ.renew(room.patron_id, loan.loan_id)
    assert raised.value.params["reason"] == "reserved"


def test_overdue_loan_cannot_be_renewed(room: Room) -> None:
    loan = room.circ.checkout(room.patron_id, "TS0000000")
    room.clock.advance(days=35)
    with pytest.raises(errors.RenewalRefused) as raised:
        room.circ.renew(room.patron_id, loan.loan_id)
    assert raised.value.params["reason"] == "too_overdue"


def test_someone_elses_loan_cannot_be_renewed(room: Room) -> None:
    loan = room.circ.checkout(room.other_patron_id, "TS0000000")
    with pytest.raises(errors.NotOnLoan):
        room.circ.renew(room.patron_id, loan.loan_id)


def test_registration_after_consent_is_idempotent(room: Room) -> None:
    kwargs = {"card_kind": "id_card", "card_key": "c" * 64, "masked_card": "1101**********002X",
              "display_name": "王*", "card_valid_until": None}
    first = room.circ.register(**kwargs)
    assert room.circ.register(**kwargs) == first
    assert room.circ.find_patron("c" * 64) == first


def test_staff_approval_policy_registers_as_pending(database: Database) -> None:
    room = build_room(database, LendingPolicy(require_staff_approval=True))
    patron = room.circ.register(card_kind="id_card", card_key="d" * 64, masked_card="x", display_name="赵*",
                                card_valid_until=None)
    assert room.circ.standing(patron).patron.status == PatronStatus.PENDING_APPROVAL


def test_history_is_anonymised_after_retention(room: Room) -> None:
    room.circ.checkout(room.patron_id, "TS0000000")
    room.circ.checkin("TS0000000")
    room.circ.checkout(room.patron_id, "TS0000001")
    assert room.circ.anonymise_history() == 0
    room.clock.advance(days=400)
    assert room.circ.anonymise_history() == 1
    with room.db.read() as s:
        patrons = s.scalars(select(Loan.patron_id).order_by(Loan.id)).all()
    assert patrons == [None, room.patron_id]  # the open loan keeps its borrower


def test_branch_policy_overrides_network_policy() -> None:
    policy = apply_overrides(LendingPolicy(), {"max_loans": 10, "floating_collection": True}, "branch X")
    assert (policy.max_loans, policy.floating_collection, policy.loan_days) == (10, True, 30)
    with pytest.raises(ConfigError, match="unknown lending rule"):
        apply_overrides(LendingPolicy(), {"max_books": 3}, "lending")
    with pytest.raises(ConfigError):
        apply_overrides(LendingPolicy(), {"max_loans": "many"}, "lending")


def test_two_kiosks_lending_one_item_exactly_one_wins(database: Database) -> None:
    room = build_room(database)
    other_kiosk = Circulation(room.db, branch_code="XW01", kiosk_id="k2", network_policy=LendingPolicy(),
                              clock=room.clock)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def lend(circ: Circulation, patron_id: int) -> None:
        barrier.wait()
        try:
            circ.checkout(patron_id, "TS0000005")
            outcomes.append("won")
        except errors.Refusal as refusal:
            outcomes.append(refusal.key)

    threads = [threading.Thread(target=lend, args=(room.circ, room.patron_id)),
               threading.Thread(target=lend, args=(other_kiosk, room.other_patron_id))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["refusal.on_loan_elsewhere", "won"]
    assert _open_loans(room.db) == 1


def test_limit_holds_under_concurrency(database: Database) -> None:
    room = build_room(database, LendingPolicy(max_loans=3), items=8)
    kiosks = [Circulation(room.db, branch_code="XW01", kiosk_id=f"k{n}", network_policy=LendingPolicy(max_loans=3),
                          clock=room.clock) for n in range(6)]
    barrier = threading.Barrier(len(kiosks))

    def lend(circ: Circulation, n: int) -> None:
        barrier.wait()
        with contextlib.suppress(errors.Refusal):
            circ.checkout(room.patron_id, f"TS{n:07d}")

    threads = [threading.Thread(target=lend, args=(c, n)) for n, c in enumerate(kiosks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(room.circ.standing(room.patron_id).loans) == 3


def test_no_fines_by_default(room: Room) -> None:
    room.circ.checkout(room.patron_id, "TS0000000")
    room.clock.advance(days=45)
    result = room.circ.checkin("TS0000000")
    assert result.was_overdue and (result.days_late, result.fine_cents) == (15, 0)


def test_optional_fines_are_charged_capped_and_can_block(database: Database) -> None:
    policy = LendingPolicy(fine_per_day_cents=10, fine_cap_cents=500, block_when_fines_cents=100)
    room = build_room(database, policy)
    room.circ.checkout(room.patron_id, "TS0000000")
    room.circ.checkout(room.patron_id, "TS0000001")
    room.clock.advance(days=33)  # due 2026-12-23 (local); returned 2026-12-26: three whole days late
    assert room.circ.checkin("TS0000000").fine_cents == 30
    room.clock.advance(days=100)
    assert room.circ.checkin("TS0000001").fine_cents == 500
    with pytest.raises(errors.PatronBlocked) as raised:
        room.circ.checkout(room.patron_id, "TS0000002")
    assert raised.value.params == {"reason": "fines", "amount": "5.30"}
    assert room.circ.settle_fines(room.patron_id) == 530
    room.circ.checkout(room.patron_id, "TS0000002")


def test_checkout_and_checkin_write_whole_rows(room: Room) -> None:
    """The Core statements write what the ORM wrote: Python defaults (loans.uuid, renewals, fine_cents), aware UTC
    timestamps through UtcDateTime in UPDATE ... SET (bindparam), updated_at set, the audit's at and detail."""
    lent = room.circ.checkout(room.patron_id, "TS0000004")
    out_at = room.clock()
    room.clock.advance(days=3)
    back = room.circ.checkin("TS0000004")
    with room.db.read() as s:
        loan = s.get(Loan, lent.loan_id)
        assert loan is not None
        assert len(loan.uuid) == 36 and (loan.renewals, loan.fine_cents) == (0, 0)
        assert (loan.out_at, loan.due_at, loan.returned_at) == (out_at, lent.due_at, room.clock())
        assert (loan.branch_id, loan.kiosk_id, loan.return_branch_id, loan.return_kiosk_id) == (
            room.branch_id, "k1", room.branch_id, "k1")
        item = s.scalars(select(Item).where(Item.barcode == "TS0000004")).one()
        assert (item.status, item.current_branch_id, item.updated_at) == (ItemStatus.AVAILABLE, room.branch_id,
                                                                          room.clock())
        audits = s.scalars(select(AuditEntry).where(AuditEntry.item_id == item.id).order_by(AuditEntry.id)).all()
    assert [(a.action, a.outcome, a.loan_id, a.at) for a in audits] == [
        ("checkout", "ok", lent.loan_id, out_at), ("checkin", "ok", lent.loan_id, room.clock())]
    assert audits[0].detail == {} and audits[1].detail == {"overdue": False, "days_late": 0, "fine_cents": 0}
    assert (back.title, back.home_branch, back.shelf_location) == ("测试图书4", "锁金村书房", "A区")
    other = room.circ.checkout(room.other_patron_id, "TS0000004")
    with room.db.read() as s:
        uuids = s.scalars(select(Loan.uuid).where(Loan.id.in_([lent.loan_id, other.loan_id]))).all()
    assert len(set(uuids)) == 2
