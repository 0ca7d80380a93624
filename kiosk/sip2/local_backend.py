"""Thin adapter from SIP2 requests to the kiosk's own lending service (`kiosk.lending.service.Circulation`).

No lending rule lives here: checkout, checkin and renew are the Circulation's transactions (with their audit and
race-freedom). This module only turns a SIP2 patron identifier into a patron, a barcode into a loan id, and reads
an item's shelf state for Item Information (17), which changes nothing.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import NoResultFound, OperationalError

from catalog.db import Database
from catalog.model import Item, Loan, Title
from catalog.offline_model import CirculationException
from devices.identity import card_key, is_valid_id_number, person_key
from kiosk.lending.errors import NotOnLoan
from kiosk.lending.policy import LendingPolicy
from kiosk.lending.service import CheckinResult, CheckoutResult, Circulation, PatronStanding, RenewResult
from kiosk.offline.journal import JournalEntry, iso
from kiosk.offline.replay import Replayer

_SQLITE_WRITERS = threading.Lock()
CARD_KEY = re.compile(r"[0-9a-f]{64}")
PATRON_ID_TTL_S = 30.0
RETRIES = 3
RETRY_SQLSTATES = ("40P01", "40001")  # deadlock detected, serialization failure
T = TypeVar("T")
log = logging.getLogger(__name__)
PATRON_ID_CACHE = 4096
FORWARD_NAMESPACE = uuid.UUID("6f1c2a52-5d0e-4d7e-9a59-2f3c0c1b7e11")
"""uuid5 namespace of store-and-forward actions: the same request resent after a crash maps to the same UUID."""


@dataclass(frozen=True)
class Forwarded:
    """What became of a store-and-forward Checkout/Checkin: `applied`, else `reason` (an `exception.*` key)."""

    applied: bool
    reason: str
    already: bool
    """The same action (same client, patron, copy and transaction date) had been forwarded before."""


class _ForwardApplier(Replayer):
    """The offline replay's per-row rules (the action's own time, the UUID ledger `offline_actions`, conflicts to
    `circulation_exceptions`) for actions a SIP2 client journaled: they arrive one by one over the wire, so there is
    no local journal to drain or mark and only `apply` is used."""

    def __init__(self, circulation: Circulation) -> None:
        self.circulation = circulation
        self.db = circulation.db
        self.run = lambda fn: fn()
        self._failures = {}


@dataclass(frozen=True)
class ItemInfo:
    barcode: str
    title: str
    status: str
    due_at: datetime | None
    shelf_location: str


class LocalBackend:
    """One institution (branch) as seen by SIP2 clients logged in to it."""

    def __init__(self, db: Database, *, secret: bytes, branch_code: str, kiosk_id: str,
                 network_policy: LendingPolicy) -> None:
        self.circulation = Circulation(db, branch_code=branch_code, kiosk_id=kiosk_id, network_policy=network_policy)
        self._db = db
        self._secret = secret
        self._patron_ids: dict[str, tuple[int, float]] = {}
        pool_size = getattr(db.engine.pool, "size", lambda: 2)()
        self._pg_writers = threading.BoundedSemaphore(max(1, int(pool_size) // 2))
        self._forwarder = _ForwardApplier(self.circulation)

    @property
    def branch_name(self) -> str:
        return self.circulation.branch().name

    def patron_key(self, identifier: str) -> str:
        """A resident ID number maps through `person_key` (both cards of a resident are one patron); anything
        else is a library card number, keyed as the card readers key it (`card_key(secret, "card", number)`).
        A 64-hex-digit identifier is already such a key: a kiosk of this network with `patron_id = "card_key"`
        sends it so that no card or ID number travels at all (only holders of the network secret can make one)."""
        number = identifier.strip()
        if CARD_KEY.fullmatch(number):
            return number
        if is_valid_id_number(number):
            return person_key(self._secret, number)
        return card_key(self._secret, "card", number)

    def find_patron_id(self, identifier: str) -> int | None:
        """Just the id: checkout needs no more, since the Circulation checks standing itself (under its lock).

        Known ids are remembered for `PATRON_ID_TTL_S`, keyed by the card key (never the raw identifier): a
        self-check machine sends the same patron for every book, and this read was one of the few round trips per
        request that is ours to save. A patron row never changes id; one forgotten meanwhile makes the checkout
        find no patron (`forget_patron_id`), which is answered as an unknown patron."""
        if not identifier.strip():
            return None
        key = self.patron_key(identifier)
        now = time.monotonic()
        cached = self._patron_ids.get(key)
        if cached is not None and now - cached[1] < PATRON_ID_TTL_S:
            return cached[0]
        patron_id = self.circulation.find_patron(key)
        if patron_id is not None:
            if len(self._patron_ids) >= PATRON_ID_CACHE:
                self._patron_ids.clear()
            self._patron_ids[key] = (patron_id, now)
        return patron_id

    def forget_patron_id(self, identifier: str) -> None:
        self._patron_ids.pop(self.patron_key(identifier), None)

    def find_patron(self, identifier: str) -> PatronStanding | None:
        patron_id = self.find_patron_id(identifier)
        if patron_id is None:
            return None
        try:
            return self.circulation.standing(patron_id)
        except LookupError:
            return None

    def _writing(self) -> AbstractContextManager[object]:
        """SQLite has one writer at a time; its busy handler makes the losers sleep in growing steps (up to
        100 ms each), which with 20 self-check machines gave multi-second tails. Queuing this process's writers
        on a lock instead wakes the next one as soon as the previous commits. PostgreSQL needs no such lock."""
        return _SQLITE_WRITERS if self._db.is_sqlite else self._pg_writers

    def _retrying(self, action: Callable[[], T]) -> T:
        """PostgreSQL may abort one of two transactions that lock the same patron and item in opposite orders
        (a checkout's `FOR UPDATE` against another machine's refusal audit, whose foreign keys take `KEY SHARE`
        locks): measured with 20 machines lending on one card at once. Every action here is one transaction
        that either committed or changed nothing, so running it again is safe; the loser then gets its real
        answer instead of a dropped connection."""
        for attempt in range(RETRIES + 1):
            try:
                with self._writing():
                    return action()
            except OperationalError as exc:
                if getattr(exc.orig, "sqlstate", None) not in RETRY_SQLSTATES or attempt == RETRIES:
                    raise
                log.info("sip2 transaction aborted by the database (%s): retrying", exc.orig.sqlstate)  # type: ignore[union-attr]
        raise AssertionError("unreachable")

    def checkout(self, patron_id: int, barcode: str) -> CheckoutResult:
        """Raises `LookupError` (answered as unknown patron) when the patron row is gone."""
        try:
            return self._retrying(lambda: self.circulation.checkout(patron_id, barcode))
        except NoResultFound:
            raise LookupError(f"patron {patron_id} not found") from None

    def checkin(self, barcode: str) -> CheckinResult:
        return self._retrying(lambda: self.circulation.checkin(barcode))

    def renew(self, standing: PatronStanding, barcode: str) -> RenewResult:
        for loan in standing.loans:
            if loan.barcode == barcode:
                return self._renew(standing.patron.id, loan.loan_id)
        raise NotOnLoan(title="")

    def _renew(self, patron_id: int, loan_id: int) -> RenewResult:
        return self._retrying(lambda: self.circulation.renew(patron_id, loan_id))

    def forward(self, action: str, *, source: str, identifier: str, barcode: str, at: datetime,
                due_at: datetime | None = None) -> Forwarded:
        """Apply a Checkout or Checkin the client already did while we were unreachable (`no_block = Y`).

        It happened: a loan is recorded from `at` with the due date the resident was promised even if the card is
        blocked or at its limit now (an exception tells the librarians), a return closes the loan at `at`. What
        cannot be recorded as it happened (the copy was lent to someone else meanwhile, is unknown, was returned
        already) is refused and becomes a `circulation_exceptions` row. The UUID is derived from the request, so a
        client resending it after a crash gets the first answer again and nothing is applied twice."""
        key = self.patron_key(identifier) if identifier.strip() else None
        name = "|".join((self.circulation.kiosk_id, source, action, key or "", barcode, iso(at)))
        entry = JournalEntry(str(uuid.uuid5(FORWARD_NAMESPACE, name)), 0, self.circulation.kiosk_id, action, key,
                             barcode, "", at, "pending", None, {"due_at": iso(due_at)} if due_at else {})
        state, seen = self._retrying(lambda: self._forwarder.apply(entry))
        with self._db.read() as s:
            reason = s.scalar(select(CirculationException.reason).where(CirculationException.uuid == entry.uuid))
        return Forwarded(state == "applied", reason or "", seen)

    def item(self, barcode: str) -> ItemInfo | None:
        with self._db.read() as s:
            row = s.execute(
                select(Item.barcode, Title.title, Item.status, Item.shelf_location, Item.id)
                .join(Title, Title.id == Item.title_id).where(Item.barcode == barcode)
            ).one_or_none()
            if row is None:
                return None
            due = s.scalar(select(Loan.due_at).where(Loan.item_id == row.id, Loan.returned_at.is_(None)))
            return ItemInfo(row.barcode, row.title, row.status, due, row.shelf_location)
