"""A crash-safety sample for CI: SIGKILL a lending process at random points; nothing is ever half-written."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from kiosk.reliability.crash import check_database, prepare, run_crashes


def test_sigkill_at_random_points_leaves_an_intact_database(tmp_path: Path) -> None:
    report = run_crashes(tmp_path, runs=10, seed=5, import_every=5)
    assert report.problems == []
    assert report.runs == 10 and report.import_kills == 2
    assert report.loans_seen > 0, "the worker must have been killed while doing real work"


def test_the_import_check_notices_half_a_record_and_a_missing_one(tmp_path: Path) -> None:
    from catalog.db import Database
    from kiosk.reliability.crash_import import ImportRow, check_import, complete_import, write_import_file

    url = prepare(tmp_path / "x.sqlite3", items=1, patrons=1)
    rows = write_import_file(tmp_path / "a.csv", 0)
    assert complete_import(url, tmp_path / "a.csv", "CRASH") == len(rows)
    assert check_import(url, rows, complete=True) == []
    db = Database.from_url(url)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM items WHERE barcode = :b"), {"b": rows[0].barcode})
    db.dispose()
    assert any("half a record" in p for p in check_import(url, rows, complete=False))
    never_imported = ImportRow("9787020002207", "NEVER1", "A区")
    assert any("still missing" in p for p in check_import(url, [never_imported], complete=True))


def test_the_check_notices_a_broken_database(tmp_path: Path) -> None:
    url = prepare(tmp_path / "x.sqlite3", items=3, patrons=1)
    from catalog.db import Database

    db = Database.from_url(url)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE items SET status = 'on_loan' WHERE id = 1"))
    db.dispose()
    assert any("on loan without an open loan" in p for p in check_database(url))


def test_kiosk_processes_racing_on_one_database_never_double_lend(database_url: str) -> None:
    from kiosk.reliability.crash import run_race

    report = run_race(database_url, kiosks=4, seconds=3, seed=9, max_loans=3)
    assert report.problems == []
    assert report.loans > 20 and report.returns > 0
