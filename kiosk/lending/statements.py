"""The statements of the hot lending transactions, built once at import.

Building a SQLAlchemy statement per call and running it through the ORM (entity loading, the unit of work's flush)
cost about 3 ms of CPU per checkout or checkin, where the database work itself is under 1 ms (cProfile of the SIP2
server, `bench/bench_sip2.py`): with 20 self-check machines on one server that CPU was the latency tail. These are
Core statements with bound parameters, run on the unit of work's own connection, so they compile once per dialect
(SQLAlchemy's compiled cache) and skip the ORM. The rules and the race-freedom (conditional updates, row locks, the
partial unique index) are the same statements as before.

Bound parameter names start with `p_`: SQLAlchemy refuses an UPDATE whose parameter shares a column's name.
"""

from __future__ import annotations

from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.orm import aliased

from catalog.model import AuditEntry, Branch, Item, ItemStatus, Loan, Patron, Title

PATRON = (
    # The columns of `PatronRecord`, in its order.
    select(Patron.id, Patron.card_kind, Patron.masked_card, Patron.display_name, Patron.status,
           Patron.card_valid_until, Patron.max_loans)
    .where(Patron.id == bindparam("p_patron"))
)
PATRON_FOR_UPDATE = PATRON.with_for_update(key_share=True)

OPEN_LOANS = (
    select(Loan.id, Loan.item_id, Item.barcode, Title.title, Loan.out_at, Loan.due_at, Loan.renewals, Item.reserved)
    .join(Item, Item.id == Loan.item_id).join(Title, Title.id == Item.title_id)
    .where(Loan.patron_id == bindparam("p_patron"), Loan.returned_at.is_(None))
    .order_by(Loan.due_at, Loan.id)
)

FINES_OWED = select(func.coalesce(func.sum(Loan.fine_cents), 0)).where(
    Loan.patron_id == bindparam("p_patron"), Loan.fine_cents > 0, Loan.fine_settled_at.is_(None))

_home = aliased(Branch)
ITEM_FOR_UPDATE = (
    # Title and home branch come in the same round trip; only the item row is locked (`OF items` on PostgreSQL).
    select(Item.id, Item.barcode, Item.status, Item.home_branch_id, Item.shelf_location, Title.title,
           _home.name.label("home_branch"))
    .join(Title, Title.id == Item.title_id).join(_home, _home.id == Item.home_branch_id)
    .where(Item.barcode == bindparam("p_barcode"))
    .with_for_update(key_share=True, of=Item)
)

ItemRow = Row[int, str, str, int, str, str, str]
"""A row of `ITEM_FOR_UPDATE`: id, barcode, status, home_branch_id, shelf_location, title, home_branch."""

CLAIM_ITEM = (
    update(Item).where(Item.id == bindparam("p_item"), Item.status == ItemStatus.AVAILABLE)
    .values(status=ItemStatus.ON_LOAN, current_branch_id=bindparam("p_branch"), updated_at=bindparam("p_now"))
)

SET_ITEM_STATUS = (
    update(Item).where(Item.id == bindparam("p_item"))
    .values(status=bindparam("p_status"), current_branch_id=bindparam("p_branch"), updated_at=bindparam("p_now"))
)

RECEIVE_FROM_TRANSIT = (
    update(Item).where(Item.id == bindparam("p_item"), Item.status == ItemStatus.IN_TRANSIT)
    .values(status=ItemStatus.AVAILABLE, current_branch_id=bindparam("p_branch"), updated_at=bindparam("p_now"))
)

INSERT_LOAN = insert(Loan)

OPEN_LOAN_OF_ITEM = (
    select(Loan.id, Loan.patron_id, Loan.due_at)
    .where(Loan.item_id == bindparam("p_item"), Loan.returned_at.is_(None))
    .with_for_update(key_share=True)
)

CLOSE_LOAN = (
    update(Loan).where(Loan.id == bindparam("p_loan"), Loan.returned_at.is_(None))
    .values(returned_at=bindparam("p_now"), return_branch_id=bindparam("p_branch"),
            return_kiosk_id=bindparam("p_kiosk"))
)

SET_FINE = update(Loan).where(Loan.id == bindparam("p_loan")).values(fine_cents=bindparam("p_fine"))

INSERT_AUDIT = insert(AuditEntry)
