"""Replaying the journal into the database: in order, each row once, conflicts to librarians.

Each row is one central transaction that (1) looks its UUID up in `offline_actions` and stops if it is there,
(2) applies the loan, return or renewal as it happened at the kiosk (its own time, not the replay's), or records a
`circulation_exceptions` row when the database has moved on (the copy was lent elsewhere, already returned), and
(3) inserts the UUID into `offline_actions`. Only then is the local row marked. A kill between the central commit
and the local mark is harmless: the next replay finds the UUID in step 1. The physical facts win over the rules:
a book the resident carried out is recorded as lent even if their card was blocked meanwhile (with an exception
saying so), because refusing it at replay would lose track of the book.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog.model import AuditEntry, Item, ItemStatus, Loan, Patron, PatronStatus, Rating
from catalog.offline_model import CirculationException, OfflineAction
from kiosk.lending.service import Circulation, _affected
from kiosk.offline.connectivity import is_connectivity_error, is_contention
from kiosk.offline.journal import Journal, JournalEntry, from_iso

log = logging.getLogger(__name__)

DUPLICATE_WINDOW = timedelta(minutes=10)
"""A return found already closed by this very kiosk this close to the journaled time is our own (an online commit
whose answer was lost with the connection), not a conflict."""
BATCH = 50
"""Rows per central transaction while draining (see `Replayer.replay`)."""
MAX_ATTEMPTS = 3
"""A row failing for a reason that is not connectivity is retried this often, then left to a librarian."""


@dataclass
class ReplayReport:
    applied: int = 0
    exceptions: int = 0
    already: int = 0
    """Rows the database had already taken (a replay after a kill, or an online commit whose answer was lost)."""
    remaining: int = 0
    error: str = ""
    uuids: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.remaining == 0 and not self.error


@dataclass(frozen=True)
class _Outcome:
    state: str
    """applied or exception."""
    reason: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


class Replayer:
    def __init__(self, circulation: Circulation, journal: Journal,
                 run: Callable[[Callable[[], Any]], Any] | None = None) -> None:
        self.circulation = circulation
        self.db = circulation.db
        self.journal = journal
        self.run = run or (lambda fn: fn())
        """How each central transaction is run (the backend adds a deadline so a dead link cannot hang replay)."""
        self._failures: dict[str, int] = {}

    def replay(self, batch: int = BATCH) -> ReplayReport:
        """Apply pending rows in journal order until none is left. Connectivity errors propagate to the caller.

        Rows go to the database `batch` at a time, in one transaction with their ledger rows (all or none, so the
        idempotence argument is unchanged): one commit per row made draining 1,000 actions take ~25 s on SQLite,
        mostly fsync. A batch that fails for any reason but connectivity is retried row by row, so one bad row
        cannot hold up the rest.
        """
        report = ReplayReport()
        while True:
            rows = self.journal.pending(batch)
            if not rows:
                break
            try:
                outcomes = self.run(partial(self.apply_batch, rows)) if len(rows) > 1 else None
            except Exception as error:
                if is_connectivity_error(error):
                    raise
                log.warning("replay batch failed, retrying row by row: %s", error)
                outcomes = None
            if outcomes is not None:
                self.journal.mark_many([(e.uuid, state) for e, (state, _) in zip(rows, outcomes, strict=True)],
                                       self.circulation.clock())
                for entry, (state, seen) in zip(rows, outcomes, strict=True):
                    self._count(report, entry, state, seen)
                continue
            for entry in rows:
                try:
                    state, seen = self.run(partial(self.apply, entry))
                except Exception as error:
                    if is_connectivity_error(error):
                        raise
                    if not self._give_up(entry, error):
                        report.error = f"{type(error).__name__}: {error}"[:300]
                        report.remaining = self.journal.backlog()
                        return report
                    state, seen = "exception", False
                self.journal.mark(entry.uuid, state, self.circulation.clock())
                self._count(report, entry, state, seen)
        report.remaining = self.journal.backlog()
        return report

    @staticmethod
    def _count(report: ReplayReport, entry: JournalEntry, state: str, seen: bool) -> None:
        report.uuids.append(entry.uuid)
        if seen:
            report.already += 1
        elif state == "applied":
            report.applied += 1
        else:
            report.exceptions += 1

    def apply_batch(self, entries: list[JournalEntry]) -> list[tuple[str, bool]]:
        """Several rows in one central transaction, in order; raises (and applies none) if any row fails."""
        outcomes: list[tuple[str, bool]] = []
        with self.db.unit_of_work() as s, s.no_autoflush:
            # Round trips are what a drain costs on a network database: one query finds which rows the ledger has,
            # and the ledger and audit rows are sent together at the next flush instead of one INSERT each.
            done = {str(uid): str(outcome) for uid, outcome in s.execute(
                select(OfflineAction.uuid, OfflineAction.outcome)
                .where(OfflineAction.uuid.in_([e.uuid for e in entries])))}
            for entry in entries:
                if entry.uuid in done:
                    outcomes.append((done[entry.uuid], True))
                else:
                    outcomes.append(self._apply_in(s, entry, known_new=True))
        return outcomes

    def _give_up(self, entry: JournalEntry, error: Exception) -> bool:
        """Retry a failing row on later passes; after a few failures make it an exception for the librarians.

        A deadlock or serialisation failure is never counted: it says two kiosks replayed into the same rows at
        once, not that this row is wrong, and a resident's real loan must not become an exception because the
        network's kiosks came back together. Recording the exception can itself fail (the link, a collision):
        then the row stays pending for the next pass, and nothing escapes the replay but a connectivity error."""
        if is_contention(error):
            log.info("replay of %s %s collided with another kiosk's, retried on the next pass: %s",
                     entry.action, entry.uuid, error)
            return False
        count = self._failures.get(entry.uuid, 0) + 1
        self._failures[entry.uuid] = count
        log.warning("replay of %s %s failed (attempt %d): %s", entry.action, entry.uuid, count, error)
        if count < MAX_ATTEMPTS:
            return False
        outcome = _Outcome("exception", "exception.replay_failed", {"error": type(error).__name__})
        try:
            self.run(lambda: self._record(entry, outcome))
        except Exception as record_error:
            if is_connectivity_error(record_error):
                raise
            log.warning("replay of %s %s: its exception not recorded yet: %s", entry.action, entry.uuid,
                        record_error)
            return False
        return True

    # ------------------------------------------------------------------ one row
    def apply(self, entry: JournalEntry) -> tuple[str, bool]:
        """(state, already-in-the-ledger) for one row, in one central transaction."""
        try:
            with self.db.unit_of_work() as s:
                return self._apply_in(s, entry)
        except IntegrityError:
            # Someone (an abandoned call that committed after all) took this UUID first: its outcome stands.
            with self.db.read() as s:
                done = s.get(OfflineAction, entry.uuid)
                if done is None:
                    raise
                return done.outcome, True

    def _apply_in(self, s: Session, entry: JournalEntry, *, known_new: bool = False) -> tuple[str, bool]:
        done = None if known_new else s.get(OfflineAction, entry.uuid)
        if done is not None:
            return done.outcome, True
        handler = {"checkout": self._checkout, "checkin": self._checkin, "renew": self._renew}[entry.action]
        outcome = handler(s, entry)
        self._ledger(s, entry, outcome)
        return outcome.state, False

    def _record(self, entry: JournalEntry, outcome: _Outcome) -> None:
        with self.db.unit_of_work() as s:
            if s.get(OfflineAction, entry.uuid) is None:
                self._ledger(s, entry, outcome)

    def _ledger(self, s: Session, entry: JournalEntry, outcome: _Outcome) -> None:
        now = self.circulation.clock()
        detail = {k: v for k, v in outcome.detail.items() if isinstance(v, str | int | float | bool) or v is None}
        if outcome.reason:
            s.add(CirculationException(uuid=entry.uuid, kiosk_id=entry.kiosk_id, action=entry.action,
                                       barcode=entry.barcode, reason=outcome.reason,
                                       detail={**detail, "at": entry.at.isoformat()}, created_at=now))
        s.add(OfflineAction(uuid=entry.uuid, kiosk_id=entry.kiosk_id, action=entry.action, outcome=outcome.state,
                            at=entry.at, applied_at=now, detail={**detail, "seq": entry.seq}))

    def _audit(self, s: Session, entry: JournalEntry, outcome: str, *, patron_id: int | None, item_id: int | None,
               loan_id: int | None, **detail: Any) -> None:
        s.add(AuditEntry(at=entry.at, kiosk_id=entry.kiosk_id, branch_id=self.circulation.branch().id,
                         action=entry.action, outcome=outcome, patron_id=patron_id, item_id=item_id, loan_id=loan_id,
                         detail={"offline_uuid": entry.uuid, **detail}))

    def _item(self, s: Session, barcode: str) -> Item | None:
        # populate_existing: an earlier row of the same batch changed this copy with a Core UPDATE.
        return s.scalars(select(Item).where(Item.barcode == barcode).with_for_update(key_share=True)
                         .execution_options(populate_existing=True)).one_or_none()

    def _patron(self, s: Session, entry: JournalEntry) -> Patron | None:
        if not entry.card_key:
            return None
        patron = s.scalars(select(Patron).where(Patron.card_key == entry.card_key)
                           .with_for_update(key_share=True)).one_or_none()
        registration = entry.detail.get("register")
        if patron is None and isinstance(registration, dict):
            valid = registration.get("card_valid_until")
            patron = Patron(card_kind=str(registration.get("card_kind", "id_card")), card_key=entry.card_key,
                            masked_card=str(registration.get("masked_card", "")),
                            display_name=str(registration.get("display_name", "")),
                            card_valid_until=date.fromisoformat(valid) if valid else None,
                            status=PatronStatus.ACTIVE, home_branch_id=self.circulation.branch().id,
                            consent_at=entry.at, registered_at=entry.at, last_seen_at=entry.at)
            s.add(patron)
            s.flush()
            self._audit(s, entry, "registered_offline", patron_id=patron.id, item_id=None, loan_id=None)
        return patron

    def _checkout(self, s: Session, entry: JournalEntry) -> _Outcome:
        branch = self.circulation.branch()
        patron = self._patron(s, entry)
        if patron is None:
            return _Outcome("exception", "exception.unknown_patron")
        item = self._item(s, entry.barcode)
        if item is None:
            return _Outcome("exception", "exception.unknown_item")
        open_loan = s.scalars(select(Loan).where(Loan.item_id == item.id, Loan.returned_at.is_(None))
                              .execution_options(populate_existing=True)).one_or_none()
        if open_loan is not None:
            if open_loan.patron_id == patron.id:
                return _Outcome("applied", detail={"duplicate_of_loan": open_loan.id})
            return _Outcome("exception", "exception.on_loan_elsewhere",
                            {"loan_id": open_loan.id, "kiosk": open_loan.kiosk_id})
        if item.status != ItemStatus.AVAILABLE:
            return _Outcome("exception", "exception.not_loanable", {"status": str(item.status)})
        claimed = _affected(s.execute(
            update(Item).where(Item.id == item.id, Item.status == ItemStatus.AVAILABLE)
            .values(status=ItemStatus.ON_LOAN, current_branch_id=branch.id, updated_at=entry.at)
            .execution_options(synchronize_session=False)))
        if claimed != 1:
            return _Outcome("exception", "exception.on_loan_elsewhere")
        due = from_iso(entry.detail.get("due_at")) or self.circulation.due_date(entry.at, branch.policy.loan_days)
        loan = Loan(uuid=entry.uuid, item_id=item.id, patron_id=patron.id, branch_id=branch.id,
                    kiosk_id=entry.kiosk_id, out_at=entry.at, due_at=due)
        s.add(loan)
        s.flush()
        self._audit(s, entry, "ok", patron_id=patron.id, item_id=item.id, loan_id=loan.id, offline=True)
        if patron.status != PatronStatus.ACTIVE:
            # Lent (the book is gone) but the card was not in good standing: a librarian should know.
            return _Outcome("applied", "exception.lent_while_blocked", {"loan_id": loan.id, "status": patron.status})
        return _Outcome("applied", detail={"loan_id": loan.id})

    def _checkin(self, s: Session, entry: JournalEntry) -> _Outcome:
        branch = self.circulation.branch()
        item = self._item(s, entry.barcode)
        if item is None:
            return _Outcome("exception", "exception.unknown_item")
        loan = s.scalars(select(Loan).where(Loan.item_id == item.id, Loan.returned_at.is_(None))
                         .with_for_update(key_share=True).execution_options(populate_existing=True)).one_or_none()
        if loan is None:
            last = s.scalars(select(Loan).where(Loan.item_id == item.id, Loan.returned_at.is_not(None))
                             .order_by(Loan.returned_at.desc()).limit(1)
                             .execution_options(populate_existing=True)).one_or_none()
            if (last is not None and last.returned_at is not None and last.return_kiosk_id == entry.kiosk_id
                    and abs(last.returned_at - entry.at) <= DUPLICATE_WINDOW):
                return _Outcome("applied", detail={"duplicate_of_loan": last.id})
            return _Outcome("exception", "exception.already_returned",
                            {"loan_id": last.id if last else None,
                             "returned_at": last.returned_at.isoformat() if last and last.returned_at else None,
                             "kiosk": last.return_kiosk_id if last else None})
        if loan.out_at > entry.at:
            # Lent again (elsewhere) after the resident put it in this kiosk's return: someone must look.
            return _Outcome("exception", "exception.lent_again", {"loan_id": loan.id, "kiosk": loan.kiosk_id})
        s.execute(update(Loan).where(Loan.id == loan.id, Loan.returned_at.is_(None))
                  .values(returned_at=entry.at, return_branch_id=branch.id, return_kiosk_id=entry.kiosk_id)
                  .execution_options(synchronize_session=False))
        in_transit = item.home_branch_id != branch.id and not branch.policy.floating_collection
        s.execute(update(Item).where(Item.id == item.id)
                  .values(status=ItemStatus.IN_TRANSIT if in_transit else ItemStatus.AVAILABLE,
                          current_branch_id=branch.id, updated_at=entry.at)
                  .execution_options(synchronize_session=False))
        days_late, fine = self.circulation.fine_for(loan.due_at, entry.at)
        if fine:
            s.execute(update(Loan).where(Loan.id == loan.id).values(fine_cents=fine)
                      .execution_options(synchronize_session=False))
        self._audit(s, entry, "in_transit" if in_transit else "ok", patron_id=loan.patron_id, item_id=item.id,
                    loan_id=loan.id, offline=True, days_late=days_late, fine_cents=fine)
        return _Outcome("applied", detail={"loan_id": loan.id})

    def _renew(self, s: Session, entry: JournalEntry) -> _Outcome:
        patron = self._patron(s, entry)
        item = self._item(s, entry.barcode)
        if patron is None or item is None:
            return _Outcome("exception", "exception.renew_conflict")
        loan = s.scalars(select(Loan).where(Loan.item_id == item.id, Loan.returned_at.is_(None))
                         .with_for_update(key_share=True).execution_options(populate_existing=True)).one_or_none()
        before = int(entry.detail.get("renewals_before", -1))
        due = from_iso(entry.detail.get("due_at"))
        if loan is None or loan.patron_id != patron.id or due is None:
            return _Outcome("exception", "exception.renew_conflict")
        if loan.renewals != before:
            if loan.renewals == before + 1 and loan.due_at == due:
                return _Outcome("applied", detail={"duplicate_of_loan": loan.id})
            return _Outcome("exception", "exception.renew_conflict", {"loan_id": loan.id})
        s.execute(update(Loan).where(Loan.id == loan.id).values(due_at=due, renewals=before + 1)
                  .execution_options(synchronize_session=False))
        self._audit(s, entry, "ok", patron_id=patron.id, item_id=item.id, loan_id=loan.id, offline=True)
        return _Outcome("applied", detail={"loan_id": loan.id})


def flush_ratings(circulation: Circulation, journal: Journal) -> int:
    """Ratings given offline, stored afterwards (anonymous, so no idempotence ledger: each row is deleted in the
    same local step that follows its central commit; a kill in between can at worst count one rating twice)."""
    with journal.reading() as conn:
        rows = conn.execute("SELECT id, at, score, tags FROM pending_ratings ORDER BY id").fetchall()
    for row in rows:
        at = from_iso(row["at"])
        assert at is not None
        with circulation.db.unit_of_work() as s:
            s.add(Rating(at=at, branch_id=circulation.branch().id, kiosk_id=circulation.kiosk_id,
                         score=row["score"], tags=json.loads(row["tags"])))
        with journal.transaction() as conn:
            conn.execute("DELETE FROM pending_ratings WHERE id = ?", (row["id"],))
    return len(rows)
