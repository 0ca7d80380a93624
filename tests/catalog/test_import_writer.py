from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog.db import Database
from catalog.exporters import export
from catalog.importers import CatalogWriter, UnknownBranch, read_bytes, read_file
from catalog.model import Branch, Item, Title
from catalog.search import search_catalog

CSV = (
    "题名,责任者,ISBN,出版社,出版年,中图分类号,索书号,条码号,馆藏地\n"
    "红楼梦,曹雪芹 著,978-7-02-000220-7,人民文学出版社,2008,I242.4,I242.4/C12,TS0000001,F区 1排 2层\n"
    "红楼梦,曹雪芹 著,978-7-02-000220-7,人民文学出版社,2008,I242.4,I242.4/C12,TS0000002,F区 1排 2层\n"
    "中国历史十五讲,张岂之 主编,7301058470,北京大学出版社,2003,K20,K20/Z15,TS0000003,D区 2排 1层\n"
    "无书号的书,佚名,,某出版社,1999,I247,I247/1,TS0000004,F区\n"
    "坏书号,某人,978-7-02-000220-8,某社,2010,I247,,TS0000005,\n"
)


@pytest.fixture
def branch(database: Database) -> str:
    with database.unit_of_work() as s:
        s.add(Branch(code="B1", name="书房"))
    return "B1"


def _import(db: Database, text: str, *, dry_run: bool = False, name: str = "books.csv"):  # type: ignore[no-untyped-def]
    return CatalogWriter(db, "B1", dry_run=dry_run).write(read_bytes(text.encode("gb18030"), name, "csv"))


def _count(db: Database, model: type) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_import_is_idempotent(database: Database, branch: str) -> None:
    first = _import(database, CSV)
    assert (first.added, first.updated, first.unchanged, first.rejected) == (3, 1, 0, 1)
    assert first.copies_added == 4
    assert [str(e) for e in first.errors] == [
        "books.csv:6: invalid ISBN '978-7-02-000220-8': ISBN-13 check digit should be 7"]
    again = _import(database, CSV)
    assert (again.added, again.updated, again.unchanged, again.rejected) == (0, 0, 4, 1)
    assert _count(database, Title) == 3 and _count(database, Item) == 4
    with database.read() as s:
        hit = search_catalog(s, "hlm").hits[0]
        assert (hit.title, hit.copies, hit.category) == ("红楼梦", 2, "literature")
        assert search_catalog(s, "历史").hits[0].title == "中国历史十五讲"


def test_changed_rows_update_and_never_blank_fields(database: Database, branch: str) -> None:
    _import(database, CSV)
    changed = ("题名,ISBN,出版年,条码号,馆藏地\n"
               "红楼梦（校注本）,9787020002207,2009,TS0000001,F区 3排 1层\n")
    result = _import(database, changed)
    assert (result.added, result.updated) == (0, 1)
    with database.read() as s:
        title = s.scalars(select(Title).where(Title.isbn13 == "9787020002207")).one()
        assert (title.title, title.pub_year, title.authors, title.publisher) == (
            "红楼梦（校注本）", 2009, "曹雪芹 著", "人民文学出版社")
        assert title.title_initials == "hlmjzb"
        item = s.scalars(select(Item).where(Item.barcode == "TS0000001")).one()
        assert item.shelf_location == "F区 3排 1层"
        assert search_catalog(s, "校注").hits[0].title_id == title.id


def test_duplicate_barcodes_are_rejected_whole(database: Database, branch: str) -> None:
    _import(database, CSV)
    clash = ("题名,ISBN,条码号\n"
             "三体,9787536692930,TS0000003\n"  # barcode of another title
             "活着,9787506365437,TS0000010\n"
             "兄弟,9787506365444,TS0000010\n")  # same new barcode for two titles
    result = _import(database, clash, name="clash.csv")
    assert result.added == 1 and result.rejected == 2
    reasons = [str(e) for e in result.errors]
    assert reasons[0].startswith("clash.csv:2: barcode TS0000003 already belongs to another title")
    assert reasons[1].startswith("clash.csv:4: barcode TS0000010 is given to two different titles")
    with database.read() as s:
        titles = set(s.scalars(select(Title.title)))
    assert "三体" not in titles and "兄弟" not in titles and "活着" in titles  # nothing half-written


def test_dry_run_counts_but_writes_nothing(database: Database, branch: str) -> None:
    result = _import(database, CSV, dry_run=True)
    assert (result.added, result.updated, result.rejected) == (3, 1, 1)
    assert _count(database, Title) == 0 and _count(database, Item) == 0


def test_unknown_branch(database: Database) -> None:
    with pytest.raises(UnknownBranch):
        CatalogWriter(database, "NOPE")


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "marc"])
def test_export_then_import_reproduces_the_catalog(database: Database, branch: str, tmp_path: Path,
                                                   fmt: str) -> None:
    _import(database, CSV)
    path = tmp_path / f"out.{ 'mrc' if fmt == 'marc' else fmt}"
    with database.read() as s:
        export(s, path, fmt, encoding="gb18030")
    again = CatalogWriter(database, "B1").write(read_file(path))
    assert (again.added, again.updated, again.rejected) == (0, 0, 0)
    assert again.unchanged == (3 if fmt == "marc" else 4)
