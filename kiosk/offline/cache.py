"""The local cache an offline kiosk answers from: patrons, items and open loans, copied from the database.

Kept in the journal file so a kiosk restarted during an outage still knows who may borrow what. Patrons and open
loans are copied whole each refresh (a branch has thousands, not millions); items are copied whole once and then
by `updated_at` with an overlap, because a network catalogue can hold hundreds of thousands of copies. A refresh
never overwrites the cache while journaled actions are pending: the cache then holds what those actions did
locally (this copy went out, that one came back), which the database does not know yet.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import aliased

from catalog.db import Database
from catalog.model import Branch, Item, Loan, Patron, Title
from kiosk.lending.service import BranchRef
from kiosk.offline.journal import Journal, from_iso, iso

ITEM_OVERLAP = timedelta(minutes=5)
"""Items changed this long before the last refresh are fetched again: kiosk clocks and commit order drift."""


@dataclass(frozen=True)
class CacheStats:
    patrons: int
    items: int
    loans: int
    full: bool
    skipped: bool = False


def branch_meta(branch: BranchRef) -> dict[str, object]:
    return {"id": branch.id, "code": branch.code, "name": branch.name, "tz": str(branch.tz),
            "policy": asdict(branch.policy)}


GENERATION_KEY = "cache_generation"
"""Bumped in the transaction of every cache change an online action makes (`bump_generation`)."""


def bump_generation(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO meta (key, value) VALUES (?, '1') "
                 "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1", (GENERATION_KEY,))


def refresh_cache(db: Database, journal: Journal, branch: BranchRef, now: datetime, *,
                  full: bool = False) -> CacheStats:
    last = from_iso(journal.meta("items_refreshed_at"))
    full = full or last is None
    generation = journal.meta(GENERATION_KEY)
    home = aliased(Branch)
    with db.read() as s:
        patrons = s.execute(
            select(Patron.card_key, Patron.id, Patron.card_kind, Patron.masked_card, Patron.display_name,
                   Patron.status, Patron.card_valid_until, Patron.max_loans).where(Patron.card_key.is_not(None))
        ).all()
        items_q = (select(Item.barcode, Item.id, Item.status, Title.title, Item.home_branch_id, home.name,
                          Item.shelf_location, Item.reserved)
                   .join(Title, Title.id == Item.title_id).join(home, home.id == Item.home_branch_id))
        if not full:
            assert last is not None
            items_q = items_q.where(Item.updated_at >= last - ITEM_OVERLAP)
        items = s.execute(items_q).all()
        loans = s.execute(
            select(Item.barcode, Loan.id, Loan.patron_id, Loan.out_at, Loan.due_at, Loan.renewals)
            .join(Item, Item.id == Loan.item_id).where(Loan.returned_at.is_(None), Loan.patron_id.is_not(None))
        ).all()
    with journal.transaction() as conn:
        if conn.execute("SELECT 1 FROM journal WHERE state = 'pending' LIMIT 1").fetchone() is not None:
            return CacheStats(0, 0, 0, full, skipped=True)
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (GENERATION_KEY,)).fetchone()
        if (None if row is None else json.loads(row[0])) != generation:
            # A loan or return this kiosk made while the database was being read: the snapshot may predate it,
            # and writing it would erase it from the cache. The next refresh (a minute on) takes a new snapshot.
            return CacheStats(0, 0, 0, full, skipped=True)
        conn.execute("DELETE FROM cache_patrons")
        conn.executemany(
            "INSERT INTO cache_patrons VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(p[0], p[1], p[2], p[3], p[4], str(p[5]), p[6].isoformat() if p[6] else None, p[7]) for p in patrons])
        if full:
            conn.execute("DELETE FROM cache_items")
        conn.executemany(
            "INSERT INTO cache_items VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (barcode) DO UPDATE SET "
            "item_id = excluded.item_id, status = excluded.status, title = excluded.title, "
            "home_branch_id = excluded.home_branch_id, home_branch = excluded.home_branch, "
            "shelf_location = excluded.shelf_location, reserved = excluded.reserved",
            [(i[0], i[1], str(i[2]), i[3], i[4], i[5], i[6], int(bool(i[7]))) for i in items])
        conn.execute("DELETE FROM cache_loans")
        conn.executemany("INSERT INTO cache_loans VALUES (?, ?, ?, ?, ?, ?)",
                         [(lo[0], lo[1], lo[2], iso(lo[3]), iso(lo[4]), lo[5]) for lo in loans])
        Journal.set_meta(conn, "branch", branch_meta(branch))
        Journal.set_meta(conn, "items_refreshed_at", iso(now))
        Journal.set_meta(conn, "refreshed_at", iso(now))
    return CacheStats(len(patrons), len(items), len(loans), full)
