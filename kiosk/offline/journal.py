"""The kiosk's durable offline journal: one SQLite file, one row per action, fsynced before the resident sees "done".

Why SQLite and not an append-only text file: a row is written whole or not at all (a SIGKILL or power cut mid-write
leaves no torn record to parse), `synchronous=FULL` makes every commit durable, and the same file holds the local
cache of patrons and items, so the cache changes an offline action implies (this copy is now on loan) commit
atomically with the action itself. Rows are never deleted when replayed: their state changes, so an audit can list
every UUID this kiosk ever journaled and what became of it.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.durable_sqlite import DurableSqlite

ACTIONS = ("checkout", "checkin", "renew")
STATES = ("pending", "applied", "exception")

SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    uuid TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    kiosk_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('checkout', 'checkin', 'renew')),
    card_key TEXT,
    barcode TEXT NOT NULL DEFAULT '',
    loan_ref TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'applied', 'exception')),
    applied_at TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS journal_state_seq ON journal (state, seq);
CREATE TABLE IF NOT EXISTS pending_ratings (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, score TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS cache_patrons (
    card_key TEXT PRIMARY KEY, patron_id INTEGER NOT NULL, card_kind TEXT NOT NULL, masked TEXT NOT NULL,
    display_name TEXT NOT NULL, status TEXT NOT NULL, card_valid_until TEXT, max_loans INTEGER
);
CREATE INDEX IF NOT EXISTS cache_patrons_id ON cache_patrons (patron_id);
CREATE TABLE IF NOT EXISTS cache_items (
    barcode TEXT PRIMARY KEY, item_id INTEGER NOT NULL, status TEXT NOT NULL, title TEXT NOT NULL,
    home_branch_id INTEGER NOT NULL, home_branch TEXT NOT NULL, shelf_location TEXT NOT NULL, reserved INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cache_loans (
    barcode TEXT PRIMARY KEY, loan_id INTEGER NOT NULL, patron_id INTEGER NOT NULL, out_at TEXT NOT NULL,
    due_at TEXT NOT NULL, renewals INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS cache_loans_patron ON cache_loans (patron_id);
CREATE TABLE IF NOT EXISTS local_patrons (
    local_id INTEGER PRIMARY KEY, card_key TEXT NOT NULL UNIQUE, card_kind TEXT NOT NULL, masked TEXT NOT NULL,
    display_name TEXT NOT NULL, card_valid_until TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def iso(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime: the journal stores only aware UTC timestamps")
    return value.astimezone(UTC).isoformat()


def from_iso(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).astimezone(UTC)


@dataclass(frozen=True)
class JournalEntry:
    uuid: str
    seq: int
    kiosk_id: str
    action: str
    card_key: str | None
    barcode: str
    loan_ref: str
    at: datetime
    state: str
    applied_at: datetime | None
    detail: dict[str, Any]

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> JournalEntry:
        at = from_iso(row["at"])
        assert at is not None
        return cls(row["uuid"], row["seq"], row["kiosk_id"], row["action"], row["card_key"], row["barcode"],
                   row["loan_ref"], at, row["state"], from_iso(row["applied_at"]), json.loads(row["detail"]))


class Journal(DurableSqlite):
    """Thread-safe (one connection behind a lock): the session worker appends, the replayer marks, doctor counts."""

    def __init__(self, path: Path, kiosk_id: str) -> None:
        super().__init__(path, SCHEMA)
        self.kiosk_id = kiosk_id
        self._conn.row_factory = sqlite3.Row
        with suppress(OSError):
            path.chmod(0o600)  # it names patrons by card key: owner-only, like the database

    # ------------------------------------------------------------------ rows
    def insert(self, conn: sqlite3.Connection, *, uuid: str, action: str, card_key: str | None, barcode: str,
               loan_ref: str, at: datetime, detail: dict[str, Any] | None = None) -> int:
        """Append one pending row inside an open `transaction()`; returns its sequence number."""
        if action not in ACTIONS:
            raise ValueError(f"unknown journal action {action!r}")
        seq = int(conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM journal").fetchone()[0])
        conn.execute(
            "INSERT INTO journal (uuid, seq, kiosk_id, action, card_key, barcode, loan_ref, at, state, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
            (uuid, seq, self.kiosk_id, action, card_key, barcode, loan_ref, iso(at),
             json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)))
        return seq

    def mark(self, uuid: str, state: str, applied_at: datetime) -> None:
        if state not in STATES[1:]:
            raise ValueError(f"a replayed row is applied or exception, not {state!r}")
        with self.transaction() as conn:
            conn.execute("UPDATE journal SET state = ?, applied_at = ? WHERE uuid = ? AND state = 'pending'",
                         (state, iso(applied_at), uuid))

    def mark_many(self, outcomes: list[tuple[str, str]], applied_at: datetime) -> None:
        with self.transaction() as conn:
            conn.executemany("UPDATE journal SET state = ?, applied_at = ? WHERE uuid = ? AND state = 'pending'",
                             [(state, iso(applied_at), uid) for uid, state in outcomes])

    def pending(self, limit: int = 100) -> list[JournalEntry]:
        with self.reading() as conn:
            rows = conn.execute("SELECT * FROM journal WHERE state = 'pending' ORDER BY seq LIMIT ?",
                                (limit,)).fetchall()
        return [JournalEntry.from_row(r) for r in rows]

    def entries(self) -> list[JournalEntry]:
        with self.reading() as conn:
            rows = conn.execute("SELECT * FROM journal ORDER BY seq").fetchall()
        return [JournalEntry.from_row(r) for r in rows]

    def get(self, uuid: str) -> JournalEntry | None:
        with self.reading() as conn:
            row = conn.execute("SELECT * FROM journal WHERE uuid = ?", (uuid,)).fetchone()
        return None if row is None else JournalEntry.from_row(row)

    def backlog(self) -> int:
        with self.reading() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM journal WHERE state = 'pending'").fetchone()[0])

    def oldest_pending_at(self) -> datetime | None:
        with self.reading() as conn:
            row = conn.execute("SELECT at FROM journal WHERE state = 'pending' ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else from_iso(row[0])

    def counts(self) -> dict[str, int]:
        with self.reading() as conn:
            rows = conn.execute("SELECT state, COUNT(*) FROM journal GROUP BY state").fetchall()
        found = {str(r[0]): int(r[1]) for r in rows}
        return {state: found.get(state, 0) for state in STATES}

    # ------------------------------------------------------------------ meta
    def meta(self, key: str) -> Any:
        with self.reading() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    @staticmethod
    def set_meta(conn: sqlite3.Connection, key: str, value: Any) -> None:
        conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                     (key, json.dumps(value, ensure_ascii=False, sort_keys=True)))


def journal_backlog(path: Path) -> tuple[int, datetime | None, dict[str, int]] | None:
    """(pending, oldest pending, counts by state) of a journal file, read-only; None when there is no journal yet.

    For `kiosk doctor`, which must not create the file or take the kiosk's write lock. A file that is not a
    journal raises `sqlite3.DatabaseError`: doctor must say so, not report an empty backlog."""
    if not path.is_file():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        rows = conn.execute("SELECT state, COUNT(*) FROM journal GROUP BY state").fetchall()
        oldest = conn.execute("SELECT at FROM journal WHERE state = 'pending' ORDER BY seq LIMIT 1").fetchone()
    finally:
        conn.close()
    found = {str(r[0]): int(r[1]) for r in rows}
    counts = {state: found.get(state, 0) for state in STATES}
    return counts["pending"], None if oldest is None else from_iso(oldest[0]), counts


def has_offline_cache(path: Path) -> bool:
    """Whether a journal file holds a cache to lend from (its branch was refreshed from the database once)."""
    if not path.is_file():
        return False
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT 1 FROM meta WHERE key = 'branch'").fetchone() is not None
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False


def merge_journal(source: Path, target: Path, kiosk_id: str) -> int:
    """Add to `target` every journal row of `source` it does not hold (by UUID); returns how many were added.

    This is how a restored backup brings back actions a lost disk took with it, without ever dropping or doubling
    one already here: rows are matched by their client UUID, added rows keep their state and go *before* this
    journal's own rows (a backup is older), and the central `offline_actions` ledger makes a replay of a row the
    database already applied a no-op. Residents registered offline come along, so their journaled loans still
    find them by card key.
    """
    journal = Journal(target, kiosk_id)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        src.row_factory = sqlite3.Row
        try:
            rows = src.execute("SELECT * FROM journal ORDER BY seq").fetchall()
            locals_ = src.execute("SELECT * FROM local_patrons ORDER BY local_id").fetchall()
        finally:
            src.close()
        with journal.transaction() as conn:
            known = {r[0] for r in conn.execute("SELECT uuid FROM journal")}
            missing = [r for r in rows if r["uuid"] not in known]
            first = int(conn.execute("SELECT COALESCE(MIN(seq), 1) FROM journal").fetchone()[0])
            for offset, row in enumerate(missing):
                conn.execute(
                    "INSERT INTO journal (uuid, seq, kiosk_id, action, card_key, barcode, loan_ref, at, state, "
                    "applied_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (row["uuid"], first - len(missing) + offset, row["kiosk_id"], row["action"], row["card_key"],
                     row["barcode"], row["loan_ref"], row["at"], row["state"], row["applied_at"], row["detail"]))
            for patron in locals_:
                conn.execute("INSERT OR IGNORE INTO local_patrons (card_key, card_kind, masked, display_name, "
                             "card_valid_until) VALUES (?, ?, ?, ?, ?)",
                             (patron["card_key"], patron["card_kind"], patron["masked"], patron["display_name"],
                              patron["card_valid_until"]))
        return len(missing)
    finally:
        journal.close()
