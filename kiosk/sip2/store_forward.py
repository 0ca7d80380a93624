"""SIP2 store and forward: the kiosk keeps lending while the library system is unreachable, where it allows that.

SIP2 2.00 lets a self-check machine work offline when the server's SC Status reply (98) says `offline_ok = Y`: it
stores what it did and, once the server answers again, forwards each action with `no block = Y` and the date it
really happened (Checkout 11: `nb_due_date` is the due date the resident was promised; Checkin 09: the return
date is when the book was dropped). The server then records it as done instead of applying today's rules.

What is stored where:
- The actions go into the kiosk's durable offline journal (`kiosk.offline.journal.Journal`, the `[offline]
  journal` file, which backups carry): one fsynced row per action with a UUID, before the resident sees "done".
  The journal knows the patron by card key; the SIP2 patron identifier the server needs is kept in the row's
  detail, which is why a kiosk in `patron_id = "id_number"` mode lends nothing offline to a resident ID card
  (an ID number is never written to disk), though it still takes returns.
- The server's `offline_ok` from the last successful status exchange is kept in the journal's metadata, so a
  kiosk restarted during an outage still knows whether it may lend.
- What the server refuses at forwarding becomes a row in the kiosk database's `circulation_exceptions`
  (`kiosk exceptions list`) carrying the server's own screen message (AF), and the journal row is marked
  `exception`: never a silent drop.

Forwarding is idempotent: a row is marked `applied` only after the server's reply, so a crash in between resends
it, and a resend is harmless: a return of a book the server already has back, or a loan of a book already charged
to the same patron, counts as applied (our own server also recognises the resent request by its contents).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from catalog.db import Database
from catalog.offline_model import CirculationException
from kiosk.config import Settings
from kiosk.offline.errors import OfflineLimitReached
from kiosk.offline.journal import Journal, JournalEntry, from_iso, iso
from kiosk.offline.settings import offline_settings
from kiosk.sip2.client import Sip2Client
from kiosk.sip2.codec import Message

log = logging.getLogger(__name__)

OFFLINE_OK_META = "sip2.offline_ok"
REFUSED = "exception.sip2_refused"
"""The `circulation_exceptions.reason` of an action the library system refused when it was forwarded."""
CHECKED_IN = ("03", "09", "10")
"""Item Information circulation statuses that mean "not on loan": a forwarded return found the book back already."""


def journal_path(settings: Settings) -> Path:
    """The SIP2 kiosk's journal is the kiosk's one offline journal (`[offline] journal`): backups carry it and a
    restore merges it by UUID (`kiosk.ops.backup`), exactly as for a kiosk lending from the database."""
    return offline_settings(settings).journal_path


def remembered_offline_ok(path: Path) -> bool | None:
    """The server's last `offline_ok` as the journal file remembers it, read-only (None: never learnt)."""
    if not path.is_file():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (OFFLINE_OK_META,)).fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()
    value = json.loads(row[0]) if row is not None else None
    return bool(value.get("offline_ok")) if isinstance(value, dict) else None


def screen_text(reply: Message) -> str:
    return " ".join(text.strip() for text in reply.get_all("AF") if text.strip())


@dataclass
class ForwardReport:
    applied: int = 0
    exceptions: int = 0
    uuids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StoredLoan:
    uuid: str
    seq: int
    barcode: str
    at: datetime
    due_at: datetime


class StoreForward:
    """The journal of one SIP2 kiosk and the rules for writing and forwarding it. Thread-safe (the journal is)."""

    def __init__(self, journal: Journal, db: Database, *, max_loans: int = 3, enabled: bool = True) -> None:
        self.journal = journal
        self.db = db
        self.max_loans = max_loans
        """Loans one patron may take while offline (`[offline] max_loans`)."""
        self.enabled = enabled
        """`[sip2.client] offline`: false refuses offline lending even where the server allows it."""
        self._lock = threading.Lock()
        remembered = journal.meta(OFFLINE_OK_META)
        self._offline_ok = bool(remembered.get("offline_ok")) if isinstance(remembered, dict) else False

    @classmethod
    def open(cls, path: Path, kiosk_id: str, db: Database, *, max_loans: int, enabled: bool) -> StoreForward:
        return cls(Journal(path, kiosk_id), db, max_loans=max_loans, enabled=enabled)

    def close(self) -> None:
        self.journal.close()

    # ------------------------------------------------------------------ the server's permission
    @property
    def offline_ok(self) -> bool:
        return self._offline_ok

    def remember_offline_ok(self, allowed: bool, at: datetime) -> None:
        """Keep the server's latest `offline_ok` on disk (written only when it changes: this runs per login)."""
        with self._lock:
            if allowed == self._offline_ok and self.journal.meta(OFFLINE_OK_META) is not None:
                return
            with self.journal.transaction() as conn:
                Journal.set_meta(conn, OFFLINE_OK_META, {"offline_ok": allowed, "at": iso(at)})
            self._offline_ok = allowed

    @property
    def may_lend_offline(self) -> bool:
        return self.enabled and self._offline_ok

    def backlog(self) -> int:
        return self.journal.backlog()

    # ------------------------------------------------------------------ storing
    def stored_loans(self, card_key: str) -> list[StoredLoan]:
        """Loans this card made offline that the server has not confirmed yet (nor a later offline return undid)."""
        with self.journal.reading() as conn:
            rows = conn.execute(
                "SELECT c.uuid, c.seq, c.barcode, c.at, c.detail FROM journal c WHERE c.state = 'pending' "
                "AND c.action = 'checkout' AND c.card_key = ? AND NOT EXISTS (SELECT 1 FROM journal r WHERE "
                "r.state = 'pending' AND r.action = 'checkin' AND r.barcode = c.barcode AND r.seq > c.seq) "
                "ORDER BY c.seq", (card_key,)).fetchall()
        loans: list[StoredLoan] = []
        for row in rows:
            entry_at, due = from_iso(row["at"]), from_iso(_due_of(row["detail"]))
            assert entry_at is not None and due is not None
            loans.append(StoredLoan(str(row["uuid"]), int(row["seq"]), str(row["barcode"]), entry_at, due))
        return loans

    def offline_holder(self, barcode: str) -> str | None:
        """The card key an offline loan of this copy is journaled for (None: not lent offline, or returned since)."""
        with self.journal.reading() as conn:
            row = conn.execute("SELECT action, card_key FROM journal WHERE state = 'pending' AND barcode = ? "
                               "ORDER BY seq DESC LIMIT 1", (barcode,)).fetchone()
        return str(row["card_key"]) if row is not None and row["action"] == "checkout" else None

    def store_checkout(self, *, card_key: str, identifier: str, barcode: str, at: datetime,
                       due_at: datetime) -> tuple[str, int, int]:
        """Journal a loan (fsynced); (uuid, seq, this card's offline loans now). Raises `OfflineLimitReached`."""
        action_id = str(uuid.uuid4())
        with self.journal.transaction() as conn:
            count = int(conn.execute(
                "SELECT COUNT(*) FROM journal WHERE state = 'pending' AND action = 'checkout' AND card_key = ?",
                (card_key,)).fetchone()[0])
            if count >= self.max_loans:
                raise OfflineLimitReached(count=count, max=self.max_loans)
            seq = self.journal.insert(conn, uuid=action_id, action="checkout", card_key=card_key, barcode=barcode,
                                      loan_ref=action_id, at=at, detail={"due_at": iso(due_at), "patron": identifier})
        return action_id, seq, count + 1

    def store_checkin(self, *, barcode: str, at: datetime) -> str:
        """Journal a return (fsynced). Always accepted: a return slot cannot hand a book back."""
        action_id = str(uuid.uuid4())
        with self.journal.transaction() as conn:
            self.journal.insert(conn, uuid=action_id, action="checkin", card_key=None, barcode=barcode, loan_ref="",
                                at=at)
        return action_id

    # ------------------------------------------------------------------ forwarding
    def forward(self, client: Sip2Client, clock: Callable[[], datetime]) -> ForwardReport:
        """Send every pending row, in journal order, with `no_block = Y` and its own dates.

        A connection failure (`Sip2Error`, `OSError`) propagates with the rest still pending: the caller stays
        offline and tries again later. The caller holds the socket's lock."""
        report = ForwardReport()
        while True:
            rows = self.journal.pending(50)
            if not rows:
                return report
            for entry in rows:
                screen = self._send(client, entry)
                if screen is None:
                    self.journal.mark(entry.uuid, "applied", clock())
                    report.applied += 1
                else:
                    self._record_exception(entry, screen, clock())
                    self.journal.mark(entry.uuid, "exception", clock())
                    report.exceptions += 1
                report.uuids.append(entry.uuid)

    def _send(self, client: Sip2Client, entry: JournalEntry) -> str | None:
        """None when the server has the action (now or from an earlier send); else its screen message."""
        if entry.action == "checkout":
            identifier = str(entry.detail.get("patron", ""))
            if not identifier:
                # Journaled by the database-offline backend before this kiosk switched to SIP2: no identifier.
                return "journaled without a SIP2 patron identifier"
            reply = client.checkout(identifier, entry.barcode, at=entry.at, due_at=from_iso(entry.detail["due_at"]))
            if reply.fixed.get("ok") == "1":
                return None
            charged = client.patron_information(identifier, charged=True)
            if entry.barcode in (b.strip() for b in charged.get_all("AU")):
                return None  # charged to this very patron already: an earlier send that lost its answer
            return screen_text(reply)
        if entry.action == "checkin":
            reply = client.checkin(entry.barcode, at=entry.at)
            if reply.fixed.get("ok") == "1":
                return None
            item = client.item_information(entry.barcode)
            if (item.get("AJ") or "") and item.fixed.get("circulation_status") in CHECKED_IN:
                return None  # the server has it back already: nothing was lost
            return screen_text(reply)
        return f"unsupported offline action {entry.action}"

    def _record_exception(self, entry: JournalEntry, screen: str, now: datetime) -> None:
        """One `circulation_exceptions` row per journal UUID (a resend after a crash finds it and adds none)."""
        with self.db.unit_of_work() as s:
            if s.scalar(select(CirculationException.id).where(CirculationException.uuid == entry.uuid)) is not None:
                return
            s.add(CirculationException(uuid=entry.uuid, kiosk_id=entry.kiosk_id, action=entry.action,
                                       barcode=entry.barcode, reason=REFUSED,
                                       detail={"screen_message": screen[:400], "at": entry.at.isoformat(),
                                               "backend": "sip2"},
                                       created_at=now))
        log.warning("sip2 forwarded %s %s refused by the server: circulation exception", entry.action, entry.uuid)


def _due_of(detail: str) -> str | None:
    value = json.loads(detail).get("due_at")
    return str(value) if value else None
