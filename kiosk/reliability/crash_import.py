"""Crash safety of a catalog import: SIGKILL `kiosk catalog import`'s writer mid-way, then prove every record is whole.

A librarian imports a city-library export at night; the power cable is kicked, or the watchdog kills a hung
kiosk. What must hold afterwards, checked in a fresh connection after each kill:
- each record of the file is either wholly in the catalog (its title, its copy linked to that title, and the
  title's search tokens) or not at all: never a title without its copy, a copy without its title, or a title that
  search cannot find;
- an update of an earlier record (a copy moved to another shelf) is either the old row or the new row;
- running the same import again completes it: afterwards every record is there exactly once (one title per ISBN,
  one copy per barcode), however many times the import was killed before.

The worker (`kiosk.reliability.crash_worker import`) runs the real reader and `CatalogWriter`; it only makes the
chunks smaller than the 5,000 records of a production import, so that one kill can land before, inside or after
any of a dozen commits of a file small enough to kill 25 times in a couple of minutes. The transaction per chunk
is the same code.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from catalog import isbn
from catalog.db import Database
from catalog.importers import CatalogWriter, read_file
from catalog.model import Item, Title
from catalog.search import TitleToken

RECORDS_PER_FILE = 600
MOVED_PER_FILE = 60
"""Records of the previous file repeated with a new shelf: the import updates copies as well as adding them."""
WORKER_CHUNK = 50


@dataclass(frozen=True)
class ImportRow:
    isbn13: str
    barcode: str
    shelf: str


def _isbn(number: int) -> str:
    first12 = f"978{number:09d}"
    return first12 + isbn.isbn13_check_digit(first12)


def write_import_file(path: Path, run: int) -> list[ImportRow]:
    """The export of run `run`: 600 new titles with one copy each, then 60 of the previous run's copies moved."""
    rows = [ImportRow(_isbn(run * RECORDS_PER_FILE + k), f"IMP{run * RECORDS_PER_FILE + k:08d}", "A区 1排")
            for k in range(RECORDS_PER_FILE)]
    if run > 0:
        rows += [ImportRow(_isbn((run - 1) * RECORDS_PER_FILE + k), f"IMP{(run - 1) * RECORDS_PER_FILE + k:08d}",
                           f"B区 {run}排") for k in range(MOVED_PER_FILE)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["题名", "责任者", "ISBN", "条码号", "馆藏地"])
        for row in rows:
            number = int(row.barcode[3:])
            out.writerow([f"夜间导入测试第{number}册 社区图书馆藏", f"作者{number % 97}", row.isbn13, row.barcode,
                          row.shelf])
    return rows


def check_import(url: str, rows: list[ImportRow], *, complete: bool) -> list[str]:
    """Every row whole or absent (`complete`: every row present, exactly once)."""
    db = Database.from_url(url)
    problems: list[str] = []
    try:
        with db.read() as s:
            titles = dict(s.execute(select(Title.isbn13, Title.id)
                                    .where(Title.isbn13.in_([r.isbn13 for r in rows]))).all())
            copies = {barcode: (title_id, shelf) for barcode, title_id, shelf in s.execute(
                select(Item.barcode, Item.title_id, Item.shelf_location)
                .where(Item.barcode.in_([r.barcode for r in rows]))).all()}
            indexed = set(s.scalars(select(TitleToken.title_id).where(TitleToken.title_id.in_(list(titles.values())))
                                    .distinct()))
            duplicated = s.execute(select(Title.isbn13, func.count()).where(Title.isbn13.in_(list(titles)))
                                   .group_by(Title.isbn13).having(func.count() > 1)).all()
        problems += [f"ISBN {code} imported as {count} titles" for code, count in duplicated]
        for row in rows:
            title_id, copy = titles.get(row.isbn13), copies.get(row.barcode)
            if title_id is None and copy is None:
                if complete:
                    problems.append(f"{row.barcode} still missing after the import was run again")
                continue
            if title_id is None or copy is None:
                problems.append(f"{row.barcode}: half a record (title {'present' if title_id else 'missing'}, "
                                f"copy {'present' if copy else 'missing'})")
            elif copy[0] != title_id:
                problems.append(f"{row.barcode}: the copy belongs to another title")
            elif title_id not in indexed:
                problems.append(f"{row.barcode}: title {title_id} has no search tokens")
            elif complete and copy[1] != row.shelf:
                problems.append(f"{row.barcode}: shelf {copy[1]!r}, the file says {row.shelf!r}")
    finally:
        db.dispose()
    return problems


def complete_import(url: str, path: Path, branch_code: str) -> int:
    """Run the interrupted import again, as a librarian would: the records it adds (0 if the kill came late)."""
    db = Database.from_url(url)
    try:
        return CatalogWriter(db, branch_code).write(read_file(path)).added
    finally:
        db.dispose()
