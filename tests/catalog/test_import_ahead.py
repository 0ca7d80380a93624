"""Reading an import file in a second process (`read_file_ahead`): same records, same index, errors carried over,
and no reading process left behind when the importing one stops or is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from catalog.db import Database
from catalog.importers import (
    CatalogWriter,
    PreparedRecord,
    RecordError,
    UnreadableFile,
    read_file,
    read_file_ahead,
)
from catalog.importers.ahead import ReaderFailed
from catalog.importers.prepared import prepare
from catalog.model import Branch
from catalog.search import TitleToken, reindex_all, search_catalog
from tests.catalog.process_helpers import alive as _alive
from tests.catalog.process_helpers import child_processes as _children

ROWS = [
    "红楼梦,曹雪芹 著,978-7-02-000220-7,人民文学出版社,2008,I242.4,I242.4/C12,TS0000001,F区 1排 2层",
    "红楼梦,曹雪芹 著,978-7-02-000220-7,人民文学出版社,2008,I242.4,I242.4/C12,TS0000002,F区 1排 2层",
    "中国历史十五讲,张岂之 主编,7301058470,北京大学出版社,2003,K20,K20/Z15,TS0000003,D区 2排 1层",
    "无书号的书,佚名,,某出版社,1999,I247,I247/1,TS0000004,F区",
    "坏书号,某人,978-7-02-000220-8,某社,2010,I247,,TS0000005,",
    "Python编程：从入门到实践,[美] 埃里克·马瑟斯 著,9787115428028,人民邮电出版社,2016,TP311.561,TP311.561/M47,"
    "TS0000006,A区",
]
HEADER = "题名,责任者,ISBN,出版社,出版年,中图分类号,索书号,条码号,馆藏地"


def _export(path: Path, rows: list[str]) -> Path:
    path.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode("gb18030"))
    return path


def _started_reader(path: Path, **kwargs: Any) -> tuple[Iterator[Any], int]:
    """The records of `read_file_ahead` with its first one taken, and the pid of the reading process it started."""
    before = _children()
    records = read_file_ahead(path, min_bytes=0, **kwargs)
    next(iter(records))
    (child,) = _children() - before
    return records, child


def _comparable(record: PreparedRecord | RecordError) -> object:
    """Tokens come out of sets, whose order differs between processes (string hashing): compare them as sets."""
    if isinstance(record, RecordError):
        return record
    rows = json.loads("[" + record.tokens.replace("#", "0") + "]")
    return record.record, record.pinyin, {tuple(row) for row in rows}


def test_the_reading_process_yields_what_read_file_and_prepare_give(tmp_path: Path) -> None:
    path = _export(tmp_path / "books.csv", ROWS * 3)
    inline = [r if isinstance(r, RecordError) else prepare(r) for r in read_file(path)]
    ahead = list(read_file_ahead(path, chunk=2, min_bytes=0))
    assert all(isinstance(r, PreparedRecord | RecordError) for r in ahead)
    assert [_comparable(r) for r in ahead] == [_comparable(r) for r in inline]
    assert sum(isinstance(r, RecordError) for r in ahead) == 3


def test_records_of_stored_isbns_come_unprepared(tmp_path: Path) -> None:
    path = _export(tmp_path / "books.csv", ROWS)
    ahead = list(read_file_ahead(path, min_bytes=0, stored_isbns=lambda: {"9787020002207"}))
    prepared = {r.record.title: r.tokens is not None for r in ahead if isinstance(r, PreparedRecord)}
    assert prepared == {"红楼梦": False, "中国历史十五讲": True, "无书号的书": True, "Python编程：从入门到实践": True}


def test_small_files_are_read_in_this_process(tmp_path: Path) -> None:
    path = _export(tmp_path / "books.csv", ROWS)
    before = _children()
    records = read_file_ahead(path)
    first = next(iter(records))
    assert not isinstance(first, PreparedRecord)
    assert _children() == before


def _tokens(db: Database) -> set[tuple[str, int, int]]:
    with db.read() as s:
        return {tuple(row) for row in s.execute(select(TitleToken.token, TitleToken.title_id, TitleToken.field))}


def test_an_import_read_ahead_indexes_as_reindexing_does(database: Database, tmp_path: Path) -> None:
    with database.unit_of_work() as s:
        s.add(Branch(code="B1", name="书房"))
    path = _export(tmp_path / "books.csv", ROWS)
    # A wrong hint (红楼梦 is not stored yet): its records come unprepared and the writer prepares them itself.
    wrong = CatalogWriter(database, "B1").write(read_file_ahead(path, chunk=2, min_bytes=0,
                                                                stored_isbns=lambda: {"9787020002207"}))
    assert (wrong.added, wrong.rejected, wrong.copies_added) == (4, 1, 5)
    written = _tokens(database)
    with database.unit_of_work() as s:
        reindex_all(s)
    assert _tokens(database) == written and written
    with database.read() as s:
        assert [h.title for h in search_catalog(s, "hlm").hits] == ["红楼梦"]
        assert [h.title for h in search_catalog(s, "python 编程").hits] == ["Python编程：从入门到实践"]
    writer = CatalogWriter(database, "B1")
    assert writer.stored_isbns() == {"9787020002207", "9787301058473", "9787115428028"}
    again = writer.write(read_file_ahead(path, chunk=2, min_bytes=0, stored_isbns=writer.stored_isbns))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)
    assert _tokens(database) == written


def test_an_unreadable_file_is_reported_from_the_reading_process(tmp_path: Path) -> None:
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really a workbook" * 100)
    with pytest.raises(UnreadableFile, match=r"junk\.xlsx: not a readable \.xlsx workbook"):
        list(read_file_ahead(junk, min_bytes=0))


def test_stopping_early_ends_the_reading_process(tmp_path: Path) -> None:
    path = _export(tmp_path / "books.csv", ROWS * 2000)
    records, child = _started_reader(path, chunk=100)
    records.close()  # type: ignore[attr-defined]
    assert not _alive(child)


def test_a_reading_process_that_dies_is_an_import_error(tmp_path: Path) -> None:
    path = _export(tmp_path / "books.csv", ROWS * 2000)
    records, child = _started_reader(path, chunk=100)
    os.kill(child, signal.SIGKILL)
    with pytest.raises(ReaderFailed, match=r"books\.csv exited with code -9 before the end of the file"):
        list(records)
    assert not _alive(child)


WORKER = """
import sys, time
from pathlib import Path
from catalog.importers import read_file_ahead
records = read_file_ahead(Path(sys.argv[1]), chunk=100, min_bytes=0)
next(iter(records))
print("reading", flush=True)
time.sleep(60)
"""


def test_killing_the_importing_process_ends_the_reading_process(tmp_path: Path) -> None:
    path = _export(tmp_path / "books.csv", ROWS * 2000)
    importer = subprocess.Popen([sys.executable, "-c", WORKER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert importer.stdout is not None and importer.stdout.readline() == "reading\n"
        with open(f"/proc/{importer.pid}/task/{importer.pid}/children") as handle:
            (reader,) = (int(p) for p in handle.read().split())
        os.kill(importer.pid, signal.SIGKILL)
        importer.wait()
        deadline = time.monotonic() + 20
        while _alive(reader) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(reader), "the reading process outlived the import it was reading for"
    finally:
        if importer.poll() is None:
            importer.kill()
            importer.wait()


def test_tokens_that_would_need_escaping_are_stored_as_they_are(database: Database,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The token alphabet has no quotes, commas, brackets, backslashes or `#`; if it ever had, the rows still hold
    exactly the tokens (the JSON and CSV paths must not split or mangle them)."""
    from catalog.model import Title
    from catalog.search import index

    with database.unit_of_work() as s:
        title = Title(title="红楼梦")
        s.add(title)
        s.flush()
        title_id = title.id
    odd = ['a#,"[]\\b', "x],[y", "c,d", "引号\"", "tab\tline\n"]
    monkeypatch.setattr(index, "title_tokens", lambda **_: [(t, 1) for t in odd])
    plain = index.tokens_json(title="红楼梦")
    monkeypatch.setattr(index, "title_tokens", lambda **_: [("e", 1), ("f", 2)])
    simple = index.tokens_json(title="红楼梦")
    with database.unit_of_work() as s:
        s.execute(TitleToken.__table__.delete())
        index.insert_title_tokens(s.connection(), [(title_id, plain)])
    assert _tokens(database) == {(t, title_id, 1) for t in odd}
    with database.unit_of_work() as s:
        s.execute(TitleToken.__table__.delete())
        index.insert_title_tokens(s.connection(), [(title_id, simple), (title_id, "")])
    assert _tokens(database) == {("e", title_id, 1), ("f", title_id, 2)}


def _blocked_writing_to_the_pipe(pid: int) -> bool:
    with open(f"/proc/{pid}/wchan") as handle:
        return "pipe_write" in handle.read()


def test_a_reading_process_killed_in_the_middle_of_a_chunk_is_an_import_error(tmp_path: Path) -> None:
    """The reader is usually one chunk ahead, blocked writing a chunk larger than the pipe: killed there, it leaves
    half a pickle in the pipe, which must be a ReaderFailed (reported per file), not an UnpicklingError."""
    path = _export(tmp_path / "books.csv", ROWS * 2000)
    records, child = _started_reader(path, chunk=1000)
    deadline = time.monotonic() + 30
    while not _blocked_writing_to_the_pipe(child):
        assert time.monotonic() < deadline, "the reading process never filled the pipe"
        time.sleep(0.05)
    os.kill(child, signal.SIGKILL)
    with pytest.raises(ReaderFailed, match=r"books\.csv exited with code -9 before the end of the file"):
        list(records)
    assert not _alive(child)


def test_an_edited_row_of_a_stored_isbn_is_updated_and_reindexed(database: Database, tmp_path: Path) -> None:
    """The hint only spares preparing tokens: a record whose ISBN is stored still goes through the writer's
    comparison, so a corrected row updates its title, pinyin and tokens."""
    with database.unit_of_work() as s:
        s.add(Branch(code="B1", name="书房"))
    path = _export(tmp_path / "books.csv", ROWS)
    writer = CatalogWriter(database, "B1")
    writer.write(read_file_ahead(path, chunk=2, min_bytes=0, stored_isbns=writer.stored_isbns))
    edited = [row.replace("中国历史十五讲,张岂之 主编", "中国通史十五讲,张岂之 编") for row in ROWS]
    _export(path, edited)
    again = writer.write(read_file_ahead(path, chunk=2, min_bytes=0, stored_isbns=writer.stored_isbns))
    assert (again.added, again.updated, again.unchanged) == (0, 1, 4)
    written = _tokens(database)
    with database.unit_of_work() as s:
        reindex_all(s)
    assert _tokens(database) == written
    with database.read() as s:
        assert [h.title for h in search_catalog(s, "zgts").hits] == ["中国通史十五讲"]
        assert not search_catalog(s, "历史").hits
