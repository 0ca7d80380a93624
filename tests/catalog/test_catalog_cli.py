from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from catalog.db import Database
from catalog.model import Branch, Item, ItemStatus
from kiosk.cli import app
from tests.catalog.process_helpers import child_processes

CSV = (
    "题名,责任者,ISBN,出版社,出版年,中图分类号,索书号,条码号,馆藏地\n"
    "红楼梦,曹雪芹 著,978-7-02-000220-7,人民文学出版社,2008,I242.4,I242.4/C12,TS0000001,F区 1排 2层\n"
    "坏书号,某人,978-7-02-000220-8,某社,2010,I247,,TS0000005,\n"
)


@pytest.fixture
def cli(kiosk_env: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("KIOSK_DATABASE_URL", database_url)
    monkeypatch.setenv("KIOSK_KIOSK_BRANCH", "B1")
    db = Database.from_url(database_url)
    with db.unit_of_work() as s:
        s.add(Branch(code="B1", name="书房"))
    db.dispose()
    return CliRunner()


def _run(cli: CliRunner, *args: str) -> tuple[int, str]:
    result = cli.invoke(app, list(args))
    return result.exit_code, result.output


def test_import_reports_rejected_rows_and_is_idempotent(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "books.csv"
    path.write_bytes(CSV.encode("gbk"))
    errors = tmp_path / "errors.txt"
    code, out = _run(cli, "catalog", "import", str(path), "--errors", str(errors))
    assert code == 3
    assert "books.csv:3: invalid ISBN" in out and "1 added, 0 updated, 0 unchanged, 1 rejected" in out
    assert errors.read_text(encoding="utf-8").startswith("books.csv:3: invalid ISBN")
    code, out = _run(cli, "catalog", "import", str(path), "--json")
    report = json.loads(out[out.index("{"):])
    assert code == 3 and (report["added"], report["unchanged"], report["rejected"]) == (0, 1, 1)


def _large_export(path: Path, rows: int) -> Path:
    from catalog.isbn import isbn13_check_digit

    lines = ["题名,责任者,ISBN,出版社,条码号,馆藏地"]
    for n in range(rows):
        first12 = f"978730{n:06d}"
        isbn13 = first12 + isbn13_check_digit(first12)
        lines.append(f"社区图书馆夜读丛书第{n}册 城市与河流的故事,作者{n % 97} 著,{isbn13},某某人民出版社,LG{n:07d},"
                     f"A区 {n % 9}排")
    path.write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
    return path


def test_a_large_export_is_read_ahead_and_imported_whole(cli: CliRunner, tmp_path: Path, database_url: str) -> None:
    from catalog.importers.ahead import AHEAD_MIN_BYTES

    path = _large_export(tmp_path / "large.csv", 6000)
    assert path.stat().st_size >= AHEAD_MIN_BYTES
    code, out = _run(cli, "catalog", "import", str(path), "--json")
    report = json.loads(out[out.index("{"):])
    assert code == 0 and (report["added"], report["copies_added"], report["rejected"]) == (6000, 6000, 0)
    code, out = _run(cli, "catalog", "search", "第5999册", "--json")
    assert code == 0 and "社区图书馆夜读丛书第5999册 城市与河流的故事" in out and "第5998册" not in out
    code, out = _run(cli, "catalog", "import", str(path), "--json")
    report = json.loads(out[out.index("{"):])
    assert code == 0 and (report["added"], report["updated"], report["unchanged"]) == (0, 0, 6000)


def test_a_file_that_breaks_off_reports_what_was_imported(cli: CliRunner, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The reading process dies (killed for real) after the first chunk was committed: the librarian is told the
    file stopped, the records already in are counted rather than reported as 'unreadable' with zero, and importing
    the file again completes it."""
    from catalog.importers.writer import CHUNK
    from kiosk.cli import catalog_cmd

    path = _large_export(tmp_path / "large.csv", CHUNK * 2 + 500)
    real = catalog_cmd.read_file_ahead

    def killed_after_a_chunk(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for n, record in enumerate(real(*args, **kwargs)):
            if n == CHUNK + 10:  # the first chunk is committed (it is written when the next record arrives)
                for pid in child_processes():
                    os.kill(pid, signal.SIGKILL)
            yield record

    monkeypatch.setattr(catalog_cmd, "read_file_ahead", killed_after_a_chunk)
    code, out = _run(cli, "catalog", "import", str(path), "--json")
    report = json.loads(out[out.index("{"):])
    assert code == 1
    assert report["files"][0]["complete"] is False and report["added"] >= CHUNK
    assert "exited with code -9" in report["unreadable"][0] and "import the file again" in report["unreadable"][0]
    monkeypatch.setattr(catalog_cmd, "read_file_ahead", real)
    code, out = _run(cli, "catalog", "import", str(path), "--json")
    report = json.loads(out[out.index("{"):])
    assert code == 0 and report["files"][0]["complete"] is True
    assert report["added"] + report["unchanged"] == CHUNK * 2 + 500 and report["unchanged"] >= CHUNK


def test_import_dry_run_and_file_errors(cli: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(CSV.splitlines()[0] + "\n" + CSV.splitlines()[1] + "\n", encoding="utf-8")
    code, out = _run(cli, "catalog", "import", str(good), "--dry-run")
    assert code == 0 and "dry run, nothing written: 1 added" in out
    code, out = _run(cli, "catalog", "search", "hlm", "--json")
    assert json.loads(out)["total"] == 0
    code, out = _run(cli, "catalog", "import", str(tmp_path / "missing.csv"))
    assert code == 1 and "file not found" in out
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 not a workbook")
    code, out = _run(cli, "catalog", "import", str(junk))
    assert code == 1 and "junk.xlsx" in out and "xlsx" in out
    code, out = _run(cli, "catalog", "import", str(good), "--branch", "NOPE")
    assert code == 1 and "NOPE" in out
    mapping = tmp_path / "map.toml"
    mapping.write_text('"题名" = "bogus"\n', encoding="utf-8")
    code, out = _run(cli, "catalog", "import", str(good), "--mapping", str(mapping))
    assert code == 1 and "bogus" in out


def test_add_edit_search_withdraw_stats_export(cli: CliRunner, tmp_path: Path, database_url: str) -> None:
    code, out = _run(cli, "catalog", "add", "--title", "边城", "--authors", "沈从文 著", "--isbn", "7-02-000220-X",
                     "--clc", "I246.5", "--json")
    assert code == 0, out
    added = json.loads(out)
    assert (added["isbn13"], added["category"]) == ("9787020002207", "literature")
    code, out = _run(cli, "catalog", "add", "--title", "重复", "--isbn", "9787020002207")
    assert code == 1 and "already title" in out
    code, out = _run(cli, "catalog", "add", "--title", "坏", "--isbn", "123")
    assert code == 1 and "invalid ISBN" in out
    code, out = _run(cli, "catalog", "add", "--title", "坏", "--category", "小说")
    assert code == 1 and "unknown category" in out
    code, out = _run(cli, "catalog", "edit", "9787020002207", "--title", "边城（插图本）", "--category", "文学")
    assert code == 0 and "updated" in out
    code, out = _run(cli, "catalog", "edit", "9787020002207", "--summary", "湘西小镇的故事。",
                     "--summary-en", "A story of a small town in western Hunan.", "--json")
    assert code == 0 and json.loads(out)["summary_en"] == "A story of a small town in western Hunan."
    assert json.loads(out)["summary"] == "湘西小镇的故事。" and json.loads(out)["title"] == "边城（插图本）"
    code, out = _run(cli, "catalog", "edit", "9787020002207")
    assert code == 1 and "nothing to change" in out
    code, out = _run(cli, "catalog", "edit", "999999", "--title", "x")
    assert code == 1 and "no title" in out
    code, out = _run(cli, "catalog", "search", "bcct", "--json")
    assert json.loads(out)["hits"][0]["title"] == "边城（插图本）"
    code, out = _run(cli, "catalog", "search", "边城")
    assert code == 0 and "边城" in out
    code, out = _run(cli, "catalog", "search", "x", "--category", "nope")
    assert code == 1

    db = Database.from_url(database_url)
    with db.unit_of_work() as s:
        s.add(Item(barcode="TS1", title_id=added["id"], home_branch_id=1, current_branch_id=1,
                   status=ItemStatus.ON_LOAN))
        s.add(Item(barcode="TS2", title_id=added["id"], home_branch_id=1, current_branch_id=1))
    code, out = _run(cli, "catalog", "withdraw", "TS2")
    assert code == 1 and "on loan" in out
    with db.unit_of_work() as s:
        s.query(Item).filter_by(barcode="TS1").one().status = ItemStatus.AVAILABLE
    db.dispose()
    code, out = _run(cli, "catalog", "withdraw", str(added["id"]), "--json")
    assert code == 0 and json.loads(out)["withdrawn"] == ["TS1", "TS2"]
    code, out = _run(cli, "catalog", "stats", "--json")
    stats = json.loads(out)
    assert stats["titles"] == 1 and stats["copies"] == {"withdrawn": 2}
    target = tmp_path / "out.csv"
    code, out = _run(cli, "catalog", "export", str(target), "--encoding", "gb18030", "--include-withdrawn")
    assert code == 0 and "wrote 2 rows" in out
    assert "边城（插图本）" in target.read_text(encoding="gb18030")
    code, out = _run(cli, "catalog", "export", str(target), "--format", "pdf")
    assert code == 1
    code, out = _run(cli, "catalog", "reindex")
    assert code == 0 and "rebuilt" in out
