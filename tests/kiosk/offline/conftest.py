"""An offline-capable kiosk on a real database whose link can really be pulled.

PostgreSQL is reached through a loopback TCP proxy that refuses connections and resets open ones; SQLite through
the same refusing engine the demo uses (`kiosk.offline.cutoff`). `Link.pull()` / `Link.restore()` switch them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from catalog.db import Database
from kiosk.lending.policy import LendingPolicy
from kiosk.lending.service import Circulation
from kiosk.offline.backend import OfflineCirculation
from kiosk.offline.cutoff import SqliteCutoff
from kiosk.offline.journal import Journal
from kiosk.offline.settings import OfflineSettings
from tests.kiosk.lending.conftest import FakeClock, Room, build_room
from tests.kiosk.offline.tcp_proxy import LoopbackProxy


class Link:
    """The kiosk's path to its database, which a test can pull and restore."""

    def __init__(self, url: str) -> None:
        self.proxy: LoopbackProxy | None = None
        self.cutoff: SqliteCutoff | None = None
        if url.startswith("postgresql"):
            parsed = make_url(url)
            self.proxy = LoopbackProxy((parsed.host or "127.0.0.1", parsed.port or 5432))
            self.db = Database.from_url(self.proxy.url_for(url), connect_timeout_s=1, statement_timeout_s=5)
        else:
            self.db = Database.from_url(url)
            self.cutoff = SqliteCutoff(self.db.engine)

    def pull(self) -> None:
        if self.proxy is not None:
            self.proxy.refuse()
        else:
            assert self.cutoff is not None
            self.cutoff.pull()

    def restore(self) -> None:
        if self.proxy is not None:
            self.proxy.open()
        else:
            assert self.cutoff is not None
            self.cutoff.restore()

    def close(self) -> None:
        self.db.dispose()
        if self.proxy is not None:
            self.proxy.close()


@dataclass
class OfflineRoom:
    room: Room
    """Seeded data and a direct (never pulled) handle on the central database."""
    link: Link
    circ: OfflineCirculation
    clock: FakeClock
    journal_path: Path

    def reopen(self) -> OfflineCirculation:
        """A new backend on the same journal file: what a restarted kiosk process gets."""
        return make_offline(self.link.db, self.journal_path, self.clock)


def make_offline(db: Database, journal_path: Path, clock: FakeClock, **settings: object) -> OfflineCirculation:
    online = Circulation(db, branch_code="XW01", kiosk_id="k1", network_policy=LendingPolicy(), clock=clock)
    values: dict[str, object] = {"enabled": True, "journal_path": journal_path, "probe_s": 0.2, **settings}
    return OfflineCirculation(online, Journal(journal_path, "k1"), OfflineSettings(**values))  # type: ignore[arg-type]


@pytest.fixture
def offline_room(database: Database, database_url: str, tmp_path: Path) -> Iterator[OfflineRoom]:
    room = build_room(database)
    link = Link(database_url)
    circ = make_offline(link.db, tmp_path / "journal.sqlite3", room.clock)
    circ.branch()
    circ.refresh_cache(full=True)
    try:
        yield OfflineRoom(room, link, circ, room.clock, tmp_path / "journal.sqlite3")
    finally:
        circ.close()
        link.close()
