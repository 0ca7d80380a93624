"""Offline lending on both backends: journaled while the database is pulled, replayed exactly once when it is back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from catalog.model import Item, ItemStatus, Loan, Rating
from catalog.offline_model import CirculationException, OfflineAction
from kiosk.lending.errors import ItemOnLoanElsewhere, LoanLimitReached, NotOnLoan, RenewalRefused, UnknownCard
from kiosk.offline.backend import OfflineCheckinResult, OfflineCheckoutResult
from kiosk.offline.errors import OfflineLimitReached
from tests.kiosk.offline.conftest import OfflineRoom, make_offline


def _status(room: OfflineRoom, barcode: str) -> str:
    with room.room.db.read() as s:
        return str(s.scalar(select(Item.status).where(Item.barcode == barcode)))


def test_offline_checkout_and_checkin_are_journaled_and_replayed_once(offline_room: OfflineRoom) -> None:
    r = offline_room
    lent = r.circ.checkout(r.room.patron_id, "TS0000000")
    assert not isinstance(lent, OfflineCheckoutResult) and r.circ.is_online
    r.link.pull()
    returned = r.circ.checkin("TS0000000")
    assert isinstance(returned, OfflineCheckinResult) and not r.circ.is_online
    r.clock.advance(minutes=1)
    offline_loan = r.circ.checkout(r.room.patron_id, "TS0000001")
    assert isinstance(offline_loan, OfflineCheckoutResult) and offline_loan.loan_id < 0
    assert r.circ.backlog() == 2
    assert _status(r, "TS0000000") == ItemStatus.ON_LOAN  # the database knows nothing yet
    # The resident sees their offline loan on their account, from the cache.
    standing = r.circ.standing(r.room.patron_id)
    assert [loan.barcode for loan in standing.loans] == ["TS0000001"]

    report = r.circ.replay_now()
    assert report.error and r.circ.backlog() == 2  # still unreachable: nothing applied, nothing lost
    r.link.restore()
    report = r.circ.replay_now()
    assert (report.applied, report.exceptions, report.remaining) == (2, 0, 0)
    assert r.circ.is_online
    assert _status(r, "TS0000000") == ItemStatus.AVAILABLE
    assert _status(r, "TS0000001") == ItemStatus.ON_LOAN
    with r.room.db.read() as s:
        assert s.scalar(select(func.count()).select_from(OfflineAction)) == 2
        loan = s.scalars(select(Loan).where(Loan.uuid == offline_loan.uuid)).one()
        assert loan.out_at == r.clock.now and loan.returned_at is None
    again = r.circ.replay_now()
    assert (again.applied, again.already, again.exceptions) == (0, 0, 0)
    assert {e.state for e in r.circ.journal.entries()} == {"applied"}


def test_a_conflict_becomes_an_exception_not_an_overwrite(offline_room: OfflineRoom) -> None:
    r = offline_room
    r.link.pull()
    r.circ.checkout(r.room.patron_id, "TS0000002")
    # Meanwhile another kiosk, still online, lends the same copy to someone else.
    r.room.circ.checkout(r.room.other_patron_id, "TS0000002")
    r.link.restore()
    report = r.circ.replay_now()
    assert (report.applied, report.exceptions) == (0, 1)
    with r.room.db.read() as s:
        exception = s.scalars(select(CirculationException)).one()
        assert exception.reason == "exception.on_loan_elsewhere" and exception.barcode == "TS0000002"
        open_loans = s.scalars(select(Loan).where(Loan.returned_at.is_(None))).all()
        assert [loan.patron_id for loan in open_loans] == [r.room.other_patron_id]
    assert r.circ.journal.entries()[0].state == "exception"


def test_returning_twice_offline_and_online_is_an_exception(offline_room: OfflineRoom) -> None:
    r = offline_room
    r.circ.checkout(r.room.patron_id, "TS0000003")
    r.link.pull()
    r.circ.checkin("TS0000003")
    r.clock.advance(hours=1)
    r.room.clock.advance(minutes=0)
    r.room.circ.kiosk_id = "k2"
    r.room.circ.checkin("TS0000003")  # the loan closed at another kiosk meanwhile
    r.link.restore()
    report = r.circ.replay_now()
    assert report.exceptions == 1
    with r.room.db.read() as s:
        assert s.scalars(select(CirculationException.reason)).one() == "exception.already_returned"


def test_offline_limits_and_unknown_cards(offline_room: OfflineRoom) -> None:
    r = offline_room
    r.link.pull()
    for n in range(3):
        r.circ.checkout(r.room.patron_id, f"TS000000{n}")
    with pytest.raises(OfflineLimitReached):
        r.circ.checkout(r.room.patron_id, "TS0000004")
    with pytest.raises(ItemOnLoanElsewhere):
        r.circ.checkout(r.room.other_patron_id, "TS0000000")
    with pytest.raises(NotOnLoan):
        r.circ.checkin("TS0000005")
    assert r.circ.find_patron("c" * 64) is None
    assert not r.circ.branch().policy.self_registration
    with pytest.raises(UnknownCard):
        r.circ.register(card_kind="id_card", card_key="c" * 64, masked_card="1", display_name="王*",
                        card_valid_until=None)
    assert r.circ.backlog() == 3  # refusals journal nothing


def test_an_unknown_patron_may_borrow_offline_where_the_branch_allows(offline_room: OfflineRoom) -> None:
    r = offline_room
    circ = make_offline(r.link.db, r.journal_path.with_name("j2.sqlite3"), r.clock, allow_unknown_patrons=True)
    try:
        circ.branch()
        circ.refresh_cache(full=True)
        r.link.pull()
        local_id = circ.register(card_kind="id_card", card_key="c" * 64, masked_card="3201**********9999",
                                 display_name="王*", card_valid_until=None)
        assert local_id < 0 and circ.find_patron("c" * 64) == local_id
        circ.checkout(local_id, "TS0000006")
        r.link.restore()
        assert circ.replay_now().applied == 1
        with r.room.db.read() as s:
            loan = s.scalars(select(Loan).where(Loan.returned_at.is_(None))).one()
        assert r.room.circ.find_patron("c" * 64) == loan.patron_id
        assert circ.standing(local_id).loans[0].barcode == "TS0000006"
    finally:
        circ.close()


def test_the_regular_limit_still_counts_open_loans_offline(offline_room: OfflineRoom) -> None:
    r = offline_room
    for n in range(5):
        r.circ.checkout(r.room.patron_id, f"TS000000{n}")
    r.link.pull()
    with pytest.raises(LoanLimitReached):
        r.circ.checkout(r.room.patron_id, "TS0000005")


def test_replaying_a_copy_of_the_journal_applies_nothing_twice(offline_room: OfflineRoom) -> None:
    r = offline_room
    r.link.pull()
    r.circ.checkout(r.room.patron_id, "TS0000001")
    r.circ.checkin("TS0000001")
    # Crash after the central commit, before the local mark: apply without marking.
    r.link.restore()
    first = r.circ.journal.pending()[0]
    assert r.circ.replayer.apply(first) == ("applied", False)
    report = r.circ.replay_now()
    assert (report.already, report.applied) == (1, 1)
    with r.room.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Loan)) == 1
        assert s.scalar(select(func.count()).select_from(OfflineAction)) == 2


def test_renewals_and_ratings_given_offline_reach_the_database(offline_room: OfflineRoom) -> None:
    r = offline_room
    lent = r.circ.checkout(r.room.patron_id, "TS0000004")
    new_id = r.circ.register(card_kind="id_card", card_key="d" * 64, masked_card="3201**********4321",
                             display_name="赵*", card_valid_until=None)
    r.link.pull()
    assert r.circ.find_patron("d" * 64) == new_id  # registered online a moment ago: known offline at once
    renewed = r.circ.renew(r.room.patron_id, lent.loan_id)
    assert renewed.renewals == 1 and renewed.due_at > lent.due_at
    offline_loan = r.circ.checkout(new_id, "TS0000005")
    with pytest.raises(RenewalRefused):
        r.circ.renew(new_id, offline_loan.loan_id)  # no loan number until the database has it
    r.circ.record_rating("good", ("安静",))
    r.link.restore()
    report = r.circ.replay_now()
    assert (report.applied, report.exceptions) == (2, 0)
    with r.room.db.read() as s:
        loan = s.get(Loan, lent.loan_id)
        assert loan is not None and loan.renewals == 1 and loan.due_at == renewed.due_at
        assert s.scalars(select(Rating.tags)).one() == ["安静"]
