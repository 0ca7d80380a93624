"""Borrow, return, renew: each one transaction that applies the rules and writes the audit log.

Race-freedom does not rely on Python: the item's status changes with a conditional UPDATE (`… WHERE status =
'available'`), a return closes the loan with `… WHERE returned_at IS NULL`, the patron row is locked while the
limit is checked, and the database refuses a second open loan of one item through a partial unique index. Two kiosks
lending one copy: exactly one wins. On PostgreSQL the locks are `FOR NO KEY UPDATE`, not `FOR UPDATE`: no action
changes a key, and a plain `FOR UPDATE` also blocks the `KEY SHARE` lock that every audit or loan insert takes on
the patron and item it references, which deadlocked a checkout against another machine's refusal audit. SQLite's
`BEGIN IMMEDIATE` serialises writers.

A refusal rolls the action back and is audited on its own, so the log shows what residents tried and why it failed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, CursorResult, Result, func, select, update
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from catalog.db import Database
from catalog.model import Branch, Item, ItemStatus, Loan, Patron, PatronStatus, Rating, Title
from kiosk.lending import statements as sql
from kiosk.lending.errors import (
    AlreadyOnYourCard,
    IsbnNotItem,
    ItemNotFound,
    ItemNotLoanable,
    ItemOnLoanElsewhere,
    LoanLimitReached,
    NotOnLoan,
    PatronBlocked,
    Refusal,
    RenewalRefused,
)
from kiosk.lending.policy import LendingPolicy, branch_policy

ISBN_LIKE = re.compile(r"^97[89]\d{10}$")
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class BranchRef:
    id: int
    code: str
    name: str
    tz: ZoneInfo
    policy: LendingPolicy


@dataclass(frozen=True)
class PatronRecord:
    id: int
    card_kind: str
    masked_card: str
    display_name: str
    status: str
    card_valid_until: date | None
    max_loans: int | None


@dataclass(frozen=True)
class LoanRecord:
    loan_id: int
    item_id: int
    barcode: str
    title: str
    out_at: datetime
    due_at: datetime
    renewals: int
    reserved: bool


@dataclass(frozen=True)
class PatronStanding:
    """What the kiosk needs to greet a resident: their loans and whatever stops them borrowing."""

    patron: PatronRecord
    loans: tuple[LoanRecord, ...]
    max_loans: int
    blocks: tuple[Refusal, ...]
    overdue: int


@dataclass(frozen=True)
class CheckoutResult:
    loan_id: int
    barcode: str
    title: str
    due_at: datetime
    loans_after: int
    max_loans: int


@dataclass(frozen=True)
class CheckinResult:
    barcode: str
    title: str
    patron_id: int | None
    was_overdue: bool
    in_transit: bool
    home_branch: str
    shelf_location: str
    days_late: int = 0
    fine_cents: int = 0
    transit_received: bool = False
    """No loan was open: the copy came home from transit (the van's delivery scanned in) and is on the shelf again."""


@dataclass(frozen=True)
class RenewResult:
    loan_id: int
    barcode: str
    title: str
    due_at: datetime
    renewals: int


def _affected(result: Result[Any]) -> int:
    """Rows an UPDATE changed: how a conditional update tells who won a race."""
    return int(cast(CursorResult[Any], result).rowcount or 0)


def looks_like_isbn(code: str) -> bool:
    return bool(ISBN_LIKE.match(code))


class Circulation:
    """The lending rules of one kiosk in one branch. Thread-safe: every call opens its own unit of work."""

    def __init__(self, db: Database, *, branch_code: str, kiosk_id: str, network_policy: LendingPolicy,
                 clock: Clock = _utcnow) -> None:
        self.db = db
        self.kiosk_id = kiosk_id
        self.branch_code = branch_code
        self.network_policy = network_policy
        self.clock = clock
        self._branch: BranchRef | None = None

    # ------------------------------------------------------------------ context
    def branch(self) -> BranchRef:
        if self._branch is None:
            with self.db.read() as s:
                row = s.scalars(select(Branch).where(Branch.code == self.branch_code)).one_or_none()
                if row is None:
                    raise LookupError(f"branch {self.branch_code!r} is not in the database (run `kiosk demo-data` "
                                      "or `kiosk branch edit`)")
                self._branch = BranchRef(row.id, row.code, row.name, ZoneInfo(row.timezone),
                                         branch_policy(self.network_policy, row.policy, row.code))
        return self._branch

    def due_date(self, start: datetime, days: int) -> datetime:
        """Due at the end of the local day, `days` later: residents remember dates, not hours."""
        tz = self.branch().tz
        local_day = start.astimezone(tz).date() + timedelta(days=days)
        return datetime.combine(local_day, time(23, 59, 59), tz).astimezone(UTC)

    def _audit(self, s: Session | Connection, action: str, outcome: str, *, patron_id: int | None = None,
               item_id: int | None = None, loan_id: int | None = None, detail: Mapping[str, Any] | None = None) -> None:
        # A Core insert on the transaction's connection: no ORM object to flush (see `kiosk.lending.statements`).
        conn = s.connection() if isinstance(s, Session) else s
        conn.execute(sql.INSERT_AUDIT, {
            "at": self.clock(), "kiosk_id": self.kiosk_id, "branch_id": self.branch().id, "action": action,
            "outcome": outcome, "patron_id": patron_id, "item_id": item_id, "loan_id": loan_id,
            "detail": dict(detail or {})})

    def _audit_refusal(self, action: str, refusal: Refusal, *, patron_id: int | None = None,
                       barcode: str | None = None) -> None:
        with self.db.unit_of_work() as s:
            item_id = None
            if barcode:
                item_id = s.scalar(select(Item.id).where(Item.barcode == barcode))
            detail: dict[str, Any] = {k: v for k, v in refusal.params.items() if isinstance(v, (str, int))}
            self._audit(s, action, refusal.key, patron_id=patron_id, item_id=item_id, detail=detail)

    # ------------------------------------------------------------------ patrons
    def standing(self, patron_id: int) -> PatronStanding:
        with self.db.read() as s:
            conn = s.connection()
            row = conn.execute(sql.PATRON, {"p_patron": patron_id}).one_or_none()
            if row is None:
                raise LookupError(f"patron {patron_id} not found")
            return self._standing(conn, PatronRecord(*row))

    def _loans(self, conn: Connection, patron_id: int) -> tuple[LoanRecord, ...]:
        rows = conn.execute(sql.OPEN_LOANS, {"p_patron": patron_id}).all()
        return tuple(LoanRecord(*row) for row in rows)

    def _standing(self, conn: Connection, patron: PatronRecord) -> PatronStanding:
        policy = self.branch().policy
        loans = self._loans(conn, patron.id)
        now = self.clock()
        overdue = sum(1 for loan in loans if loan.due_at < now)
        blocks: list[Refusal] = []
        if patron.status != PatronStatus.ACTIVE:
            blocks.append(PatronBlocked(reason=patron.status))
        today = now.astimezone(self.branch().tz).date()
        if patron.card_valid_until is not None and patron.card_valid_until < today:
            blocks.append(PatronBlocked(reason="card_expired"))
        limit_days = timedelta(days=policy.block_when_overdue_days)
        if any(now - loan.due_at > limit_days for loan in loans):
            blocks.append(PatronBlocked(reason="overdue", days=policy.block_when_overdue_days))
        if policy.block_when_fines_cents:
            owed = int(conn.execute(sql.FINES_OWED, {"p_patron": patron.id}).scalar() or 0)
            if owed >= policy.block_when_fines_cents:
                blocks.append(PatronBlocked(reason="fines", amount=f"{owed / 100:.2f}"))
        return PatronStanding(patron, loans, patron.max_loans or policy.max_loans, tuple(blocks), overdue)

    def find_patron(self, card_key: str) -> int | None:
        with self.db.read() as s:
            return s.scalar(select(Patron.id).where(Patron.card_key == card_key))

    def touch_patron(self, patron_id: int, *, card_valid_until: date | None) -> None:
        """Record the visit and refresh the card's expiry, which the reader reads afresh each time."""
        with self.db.unit_of_work() as s:
            patron = s.get(Patron, patron_id)
            if patron is None:
                return
            patron.last_seen_at = self.clock()
            if card_valid_until is not None or patron.card_kind in ("id_card", "social_security"):
                patron.card_valid_until = card_valid_until
            self._audit(s, "identify", "ok", patron_id=patron_id)

    def register(self, *, card_kind: str, card_key: str, masked_card: str, display_name: str,
                 card_valid_until: date | None) -> int:
        """Create a patron after the resident consented; idempotent if the card registered meanwhile."""
        policy = self.branch().policy
        with self.db.unit_of_work() as s:
            existing = s.scalars(select(Patron).where(Patron.card_key == card_key)).one_or_none()
            if existing is not None:
                return existing.id
            now = self.clock()
            patron = Patron(card_kind=card_kind, card_key=card_key, masked_card=masked_card,
                            display_name=display_name, card_valid_until=card_valid_until,
                            status=PatronStatus.PENDING_APPROVAL if policy.require_staff_approval
                            else PatronStatus.ACTIVE,
                            home_branch_id=self.branch().id, consent_at=now, registered_at=now, last_seen_at=now)
            s.add(patron)
            s.flush()
            self._audit(s, "register", patron.status, patron_id=patron.id)
            return patron.id

    # ------------------------------------------------------------------ items
    def _item_for_update(self, conn: Connection, barcode: str) -> sql.ItemRow:
        """The copy's row (with its title and home branch name), locked; a refusal when there is none."""
        item = conn.execute(sql.ITEM_FOR_UPDATE, {"p_barcode": barcode}).one_or_none()
        if item is None:
            if looks_like_isbn(barcode):
                raise IsbnNotItem(barcode=barcode)
            raise ItemNotFound(barcode=barcode)
        return item

    def checkout(self, patron_id: int, barcode: str) -> CheckoutResult:
        try:
            return self._checkout(patron_id, barcode)
        except Refusal as refusal:
            self._audit_refusal("checkout", refusal, patron_id=patron_id, barcode=barcode)
            raise

    def _checkout(self, patron_id: int, barcode: str) -> CheckoutResult:
        branch = self.branch()
        now = self.clock()
        with self.db.unit_of_work() as s:
            conn = s.connection()
            patron = conn.execute(sql.PATRON_FOR_UPDATE, {"p_patron": patron_id}).one_or_none()
            if patron is None:
                raise NoResultFound(f"patron {patron_id} not found")
            standing = self._standing(conn, PatronRecord(*patron))
            item = self._item_for_update(conn, barcode)
            title = item.title
            if item.status == ItemStatus.ON_LOAN:
                mine = next((loan for loan in standing.loans if loan.item_id == item.id), None)
                if mine is not None:
                    raise AlreadyOnYourCard(title=title, loan_id=mine.loan_id, due_at=mine.due_at.isoformat())
                raise ItemOnLoanElsewhere(title=title)
            if item.status != ItemStatus.AVAILABLE:
                raise ItemNotLoanable(title=title, status=item.status)
            if standing.blocks:
                raise standing.blocks[0]
            if len(standing.loans) >= standing.max_loans:
                raise LoanLimitReached(count=len(standing.loans), max=standing.max_loans)
            claimed = _affected(conn.execute(sql.CLAIM_ITEM, {"p_item": item.id, "p_branch": branch.id, "p_now": now}))
            if claimed != 1:
                raise ItemOnLoanElsewhere(title=title)
            due_at = self.due_date(now, branch.policy.loan_days)
            inserted = conn.execute(sql.INSERT_LOAN, {
                "item_id": item.id, "patron_id": patron_id, "branch_id": branch.id, "kiosk_id": self.kiosk_id,
                "out_at": now, "due_at": due_at})
            key = inserted.inserted_primary_key
            assert key is not None
            loan_id = int(key[0])
            self._audit(conn, "checkout", "ok", patron_id=patron_id, item_id=item.id, loan_id=loan_id)
            return CheckoutResult(loan_id, barcode, title, due_at, len(standing.loans) + 1, standing.max_loans)

    def checkin(self, barcode: str) -> CheckinResult:
        try:
            return self._checkin(barcode)
        except Refusal as refusal:
            self._audit_refusal("checkin", refusal, barcode=barcode)
            raise

    def _checkin(self, barcode: str) -> CheckinResult:
        branch = self.branch()
        now = self.clock()
        with self.db.unit_of_work() as s:
            conn = s.connection()
            item = self._item_for_update(conn, barcode)
            title = item.title
            loan = conn.execute(sql.OPEN_LOAN_OF_ITEM, {"p_item": item.id}).one_or_none()
            if loan is None:
                if item.status == ItemStatus.IN_TRANSIT and (item.home_branch_id == branch.id
                                                             or branch.policy.floating_collection):
                    return self._receive_from_transit(s, item, now)
                raise NotOnLoan(title=title)
            closed = _affected(conn.execute(sql.CLOSE_LOAN, {"p_loan": loan.id, "p_now": now, "p_branch": branch.id,
                                                             "p_kiosk": self.kiosk_id}))
            if closed != 1:
                raise NotOnLoan(title=title)
            at_home = item.home_branch_id == branch.id
            in_transit = not at_home and not branch.policy.floating_collection
            conn.execute(sql.SET_ITEM_STATUS, {
                "p_item": item.id, "p_status": ItemStatus.IN_TRANSIT if in_transit else ItemStatus.AVAILABLE,
                "p_branch": branch.id, "p_now": now})
            was_overdue = loan.due_at < now
            days_late, fine = self.fine_for(loan.due_at, now)
            if fine:
                conn.execute(sql.SET_FINE, {"p_loan": loan.id, "p_fine": fine})
            self._audit(conn, "checkin", "in_transit" if in_transit else "ok", patron_id=loan.patron_id,
                        item_id=item.id, loan_id=loan.id,
                        detail={"overdue": was_overdue, "days_late": days_late, "fine_cents": fine})
            return CheckinResult(barcode, title, loan.patron_id, was_overdue, in_transit, item.home_branch,
                                 item.shelf_location, days_late, fine)

    def _receive_from_transit(self, s: Session, item: sql.ItemRow, now: datetime) -> CheckinResult:
        """A copy returned at another branch arrives home (or anywhere, for a floating collection): scanning it into
        the return slot puts it back on the shelf here. Elsewhere it stays in transit (the van is passing through)."""
        branch = self.branch()
        s.connection().execute(sql.RECEIVE_FROM_TRANSIT, {"p_item": item.id, "p_branch": branch.id, "p_now": now})
        self._audit(s, "transit_receive", "ok", item_id=item.id)
        return CheckinResult(item.barcode, item.title, None, False, False, branch.name, item.shelf_location,
                             transit_received=True)

    def fine_for(self, due_at: datetime, returned_at: datetime) -> tuple[int, int]:
        """(days late, fine in cents): whole local days after the due date, at the branch's rate, capped."""
        branch = self.branch()
        days = (returned_at.astimezone(branch.tz).date() - due_at.astimezone(branch.tz).date()).days
        days = max(0, days)
        fine = days * branch.policy.fine_per_day_cents
        if branch.policy.fine_cap_cents:
            fine = min(fine, branch.policy.fine_cap_cents)
        return days, fine

    def settle_fines(self, patron_id: int) -> int:
        """Mark a patron's fines paid (at the desk); returns the amount settled, in cents."""
        with self.db.unit_of_work() as s:
            owed = int(s.scalar(select(func.coalesce(func.sum(Loan.fine_cents), 0)).where(
                Loan.patron_id == patron_id, Loan.fine_cents > 0, Loan.fine_settled_at.is_(None))) or 0)
            s.execute(update(Loan).where(Loan.patron_id == patron_id, Loan.fine_cents > 0,
                                         Loan.fine_settled_at.is_(None))
                      .values(fine_settled_at=self.clock()).execution_options(synchronize_session=False))
            self._audit(s, "settle_fines", "ok", patron_id=patron_id, detail={"cents": owed})
            return owed

    def renew(self, patron_id: int, loan_id: int) -> RenewResult:
        try:
            return self._renew(patron_id, loan_id)
        except Refusal as refusal:
            self._audit_refusal("renew", refusal, patron_id=patron_id)
            raise

    def _renew(self, patron_id: int, loan_id: int) -> RenewResult:
        policy = self.branch().policy
        now = self.clock()
        with self.db.unit_of_work() as s:
            patron = s.scalars(select(Patron).where(Patron.id == patron_id).with_for_update(key_share=True)).one()
            loan = s.scalars(select(Loan).where(Loan.id == loan_id, Loan.patron_id == patron_id,
                                                Loan.returned_at.is_(None))).one_or_none()
            if loan is None:
                raise NotOnLoan(title="")
            item = s.get(Item, loan.item_id)
            assert item is not None
            title = s.scalar(select(Title.title).where(Title.id == item.title_id)) or ""
            refusal = self.renewal_refusal(patron, loan, item.reserved, policy, now, title)
            if refusal is not None:
                raise refusal
            new_due = self.due_date(max(now, loan.due_at), policy.renewal_days)
            changed = _affected(s.execute(
                update(Loan).where(Loan.id == loan.id, Loan.renewals == loan.renewals, Loan.returned_at.is_(None))
                .values(due_at=new_due, renewals=loan.renewals + 1)
                .execution_options(synchronize_session=False)
            ))
            if changed != 1:
                raise RenewalRefused(title=title, reason="changed")
            self._audit(s, "renew", "ok", patron_id=patron.id, item_id=item.id, loan_id=loan.id)
            return RenewResult(loan.id, item.barcode, title, new_due, loan.renewals + 1)

    def renewal_refusal(self, patron: Patron | PatronRecord, loan: Loan | LoanRecord, reserved: bool,
                        policy: LendingPolicy, now: datetime, title: str) -> RenewalRefused | None:
        """Why this loan cannot be renewed now, or None. Shared by `renew` and the account screen."""
        if patron.status != PatronStatus.ACTIVE:
            return RenewalRefused(title=title, reason="blocked")
        if reserved:
            return RenewalRefused(title=title, reason="reserved")
        if loan.renewals >= policy.max_renewals:
            return RenewalRefused(title=title, reason="max_renewals", max=policy.max_renewals)
        if now - loan.due_at > timedelta(days=policy.renew_overdue_grace_days):
            return RenewalRefused(title=title, reason="too_overdue")
        return None

    def record_rating(self, score: str, tags: tuple[str, ...] = ()) -> None:
        """Satisfaction feeds the popularity index; it is stored with no link to who gave it."""
        if score not in ("good", "neutral", "bad"):
            raise ValueError(f"unknown rating {score!r}")
        with self.db.unit_of_work() as s:
            s.add(Rating(at=self.clock(), branch_id=self.branch().id, kiosk_id=self.kiosk_id, score=score,
                         tags=[str(t)[:40] for t in tags][:10]))

    # ------------------------------------------------------------------ housekeeping
    def anonymise_history(self) -> int:
        """Unlink returned loans older than the retention period from their patron (PIPL: keep no more than needed)."""
        cutoff = self.clock() - timedelta(days=self.branch().policy.history_retention_days)
        with self.db.unit_of_work() as s:
            count = _affected(s.execute(
                update(Loan).where(Loan.returned_at.is_not(None), Loan.returned_at < cutoff,
                                   Loan.patron_id.is_not(None))
                .values(patron_id=None).execution_options(synchronize_session=False)
            ))
            if count:
                self._audit(s, "anonymise", "ok", detail={"loans": count})
            return int(count or 0)

    def open_loan_count(self) -> int:
        with self.db.read() as s:
            return int(s.scalar(select(func.count()).select_from(Loan).where(Loan.returned_at.is_(None))) or 0)
