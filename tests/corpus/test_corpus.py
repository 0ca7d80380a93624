"""Every stored bad input still gets exactly the behaviour written down for it in `expected.json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.reliability.corpus import CorpusOutcome, cases, check_corpus, write_corpus
from kiosk.reliability.parsers import TARGETS

HERE = Path(__file__).parent


@pytest.mark.parametrize("outcome", check_corpus(HERE), ids=lambda o: f"{o.target}/{o.case}")
def test_each_stored_input_gets_its_expected_behaviour(outcome: CorpusOutcome) -> None:
    assert outcome.got == outcome.expected


def test_every_parser_has_a_corpus_and_every_file_an_expectation() -> None:
    folders = {p.name for p in HERE.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert folders == set(TARGETS)
    for folder in folders:
        table = json.loads((HERE / folder / "expected.json").read_text(encoding="utf-8"))
        assert {p.name for p in (HERE / folder).glob("*.bin")} == set(table), folder
        assert all(entry.get("why") for entry in table.values()), folder
        assert len(table) >= 3, f"{folder}: too few cases to mean anything"


def test_the_stored_corpus_is_what_the_case_table_writes(tmp_path: Path) -> None:
    """A case edited in `kiosk.reliability.corpus` without regenerating the files is caught here."""
    assert write_corpus(tmp_path) == sum(1 for _ in cases())
    for written in tmp_path.rglob("*"):
        if written.is_file():
            stored = HERE / written.relative_to(tmp_path)
            assert stored.is_file(), stored
            if written.parent.name != "import_xlsx":  # a spreadsheet's ZIP carries the time it was written
                assert stored.read_bytes() == written.read_bytes(), stored


def test_an_undocumented_exception_is_reported_not_swallowed(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    (tmp_path / "printer_status" / "empty.bin").write_bytes(b"")
    table_path = tmp_path / "printer_status" / "expected.json"
    table = json.loads(table_path.read_text(encoding="utf-8"))
    table["empty.bin"] = {"ok": {"out": False, "near_end": False}, "why": "a deliberately wrong expectation"}
    table_path.write_text(json.dumps(table), encoding="utf-8")
    wrong = [o for o in check_corpus(tmp_path) if not o.ok]
    assert [(o.case, o.got) for o in wrong] == [("empty.bin", {"refused": "FrameError"})]
