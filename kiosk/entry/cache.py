"""Local cache of the card keys allowed in, for the `let_known_in` outage policy.

Holds HMAC keys only (never a number or a name), of patrons that were active at the last refresh, so a night-time
database outage lets regulars in without making the kiosk a copy of the patron table. Written atomically (temp
file + rename): a crash during a refresh leaves the previous cache, never half a file. A missing or unreadable file
is an empty cache: with it, `let_known_in` behaves like `stay_locked`, the safe side.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from catalog.db import Database
from catalog.model import Patron, PatronStatus

log = logging.getLogger(__name__)


class KnownCardCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._keys: frozenset[str] = frozenset()
        self._lock = threading.Lock()
        self.refreshed_at: datetime | None = None
        self.load()

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._keys

    def __len__(self) -> int:
        with self._lock:
            return len(self._keys)

    def load(self) -> None:
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            keys = document["keys"]
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                raise ValueError("keys must be a list of text")
            refreshed = datetime.fromisoformat(str(document.get("refreshed_at", "")))
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("entry card cache %s unreadable, treated as empty: %s", self.path, type(exc).__name__)
            return
        with self._lock:
            self._keys = frozenset(keys)
            self.refreshed_at = refreshed

    def refresh(self, db: Database) -> int:
        """Replace the cache with the active patrons' keys; raises the database's error if it is unreachable."""
        with db.read() as session:
            keys = sorted(k for k in session.scalars(
                select(Patron.card_key).where(Patron.status == PatronStatus.ACTIVE, Patron.card_key.is_not(None)))
                if k)
        now = datetime.now(UTC)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(self.path.name + ".tmp")
        temp.write_text(json.dumps({"refreshed_at": now.isoformat(), "keys": keys}), encoding="utf-8")
        os.replace(temp, self.path)
        with self._lock:
            self._keys = frozenset(keys)
            self.refreshed_at = now
        return len(keys)
