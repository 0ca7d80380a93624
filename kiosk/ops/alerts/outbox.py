"""The durable outbox: alerts survive a restart, a crash and a night without network.

A plain SQLite file in the data directory (not the catalog database: alerts must still go out when a shared
PostgreSQL is the thing that failed). One row per (alert, channel), so a webhook that works and a broker that is down
are retried independently. The dedupe state (which conditions are raised, when an event key last went out) lives in
the same file, so a kiosk restarted by its watchdog does not re-announce every ongoing condition.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.durable_sqlite import DurableSqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS delivery (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS delivery_due ON delivery (next_attempt_at);
CREATE TABLE IF NOT EXISTS condition (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    params TEXT NOT NULL,
    raised_at REAL NOT NULL,
    last_sent_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS event_sent (
    key TEXT PRIMARY KEY,
    last_sent_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Delivery:
    id: int
    channel: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Condition:
    key: str
    kind: str
    subject: str
    params: dict[str, Any]
    raised_at: float
    last_sent_at: float


class AlertOutbox(DurableSqlite):
    """One connection behind a lock: the dispatcher's thread and the producers' threads share it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA)

    @staticmethod
    def enqueue(conn: sqlite3.Connection, channels: list[str], payload: dict[str, Any], now: float) -> None:
        text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        conn.executemany(
            "INSERT INTO delivery (channel, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?)",
            [(channel, text, now, now) for channel in channels],
        )

    @staticmethod
    def condition(conn: sqlite3.Connection, key: str) -> Condition | None:
        row = conn.execute("SELECT key, kind, subject, params, raised_at, last_sent_at FROM condition WHERE key = ?",
                           (key,)).fetchone()
        return None if row is None else Condition(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5])

    def conditions(self) -> list[Condition]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT key, kind, subject, params, raised_at, last_sent_at FROM condition ORDER BY raised_at"
            ).fetchall()
        return [Condition(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5]) for r in rows]

    def due(self, now: float) -> list[Delivery]:
        """Rows to send now, in order, per channel: a channel whose oldest row is waiting for its retry sends
        nothing newer either, so the librarian never sees "resolved" before "raised"."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, channel, payload, attempts, next_attempt_at FROM delivery ORDER BY id"
            ).fetchall()
        blocked: set[str] = set()
        due: list[Delivery] = []
        for row in rows:
            if row[1] in blocked:
                continue
            if row[4] > now:
                blocked.add(row[1])
                continue
            due.append(Delivery(row[0], row[1], json.loads(row[2]), row[3]))
        return due

    def next_due_at(self) -> float | None:
        """When the oldest row of some channel becomes due (later rows wait behind it)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT MIN(next_attempt_at) FROM delivery WHERE id IN (SELECT MIN(id) FROM delivery GROUP BY channel)"
            ).fetchone()
        return None if row[0] is None else float(row[0])

    def delivered(self, delivery_id: int) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM delivery WHERE id = ?", (delivery_id,))

    def failed(self, delivery_id: int, next_attempt_at: float, error: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE delivery SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
                (next_attempt_at, error[:500], delivery_id),
            )

    def pending(self) -> list[tuple[str, int, str]]:
        """(channel, attempts, last error) of every undelivered row: for `kiosk alerts status` and `doctor`."""
        with self._lock:
            return [(r[0], r[1], r[2]) for r in self._conn.execute(
                "SELECT channel, attempts, last_error FROM delivery ORDER BY id")]

