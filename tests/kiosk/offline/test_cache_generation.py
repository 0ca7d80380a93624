"""A refresh that read the database before this kiosk's own online loan must not erase that loan from the cache."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from catalog.db import Database
from catalog.model import Branch, Item, Title
from kiosk.lending.policy import LendingPolicy
from kiosk.lending.service import Circulation
from kiosk.offline.cache import bump_generation, refresh_cache
from kiosk.offline.journal import Journal


def test_a_refresh_older_than_a_cache_change_is_dropped(database: Database, tmp_path: Path) -> None:
    with database.unit_of_work() as s:
        branch = Branch(code="XW01", name="书房")
        title = Title(title="围城")
        s.add_all([branch, title])
        s.flush()
        s.add(Item(barcode="G0001", title_id=title.id, home_branch_id=branch.id, current_branch_id=branch.id))
    ref = Circulation(database, branch_code="XW01", kiosk_id="k1", network_policy=LendingPolicy()).branch()
    journal = Journal(tmp_path / "journal.sqlite3", "k1")
    try:
        now = datetime.now(UTC)
        assert not refresh_cache(database, journal, ref, now, full=True).skipped

        class BumpingJournal(Journal):
            """The kiosk lends online (and so changes its cache) while the refresh is reading the database."""

            def meta(self, key: str) -> object:
                value = super().meta(key)
                if key == "cache_generation":
                    with self.transaction() as conn:
                        conn.execute("INSERT INTO cache_loans VALUES ('G0001', 7, 1, ?, ?, 0)",
                                     (now.isoformat(), now.isoformat()))
                        bump_generation(conn)
                return value

        racing = BumpingJournal(tmp_path / "journal.sqlite3", "k1")
        try:
            assert refresh_cache(database, racing, ref, now, full=True).skipped
            with racing.reading() as conn:
                assert conn.execute("SELECT loan_id FROM cache_loans WHERE barcode = 'G0001'").fetchone()[0] == 7
            assert not refresh_cache(database, journal, ref, now, full=True).skipped  # the next one goes through
        finally:
            racing.close()
    finally:
        journal.close()
