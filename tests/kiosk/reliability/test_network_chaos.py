"""`kiosk chaos network` for CI, and proof that its checker fails when an invariant is broken."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from typer.testing import CliRunner

from catalog.db import Database
from catalog.model import AuditEntry
from catalog.offline_model import OfflineAction
from kiosk.cli import app
from kiosk.offline.journal import Journal
from kiosk.reliability.network_chaos import check_network, prepare_network, schedule, stderr_problems
from tests.conftest import _postgres_admin_url


def test_three_kiosks_through_a_failing_network_lose_nothing(_postgres_url: str | None) -> None:
    if _postgres_url is None:
        pytest.skip("PostgreSQL not reachable (set KIOSK_TEST_POSTGRES_URL); required in CI")
    result = CliRunner().invoke(app, ["chaos", "network", "--kiosks", "3", "--seed", "1",
                                      "--server", _postgres_admin_url(), "--json"])
    report = json.loads(result.output)
    assert report["problems"] == [] and result.exit_code == 0
    assert report["journaled"] > 20, "the kiosks must really have worked offline"
    assert report["applied"] > 0 and report["connections_cut"] > 0
    start, left = report["killed_backlog"]
    assert 0 < left <= start and report["killed_after_bytes"] > 0, "the SIGKILL must land during the replay"
    assert report["drained_s"] is not None and report["drained_s"] <= 30


def test_the_schedule_is_the_seed(tmp_path: Path) -> None:
    assert schedule(5) == schedule(5) and schedule(5) != schedule(6)
    assert [p.name for p in schedule(1)] == ["online", "refuse", "cut", "delay"]


def _journal(path: Path, kiosk_id: str, rows: list[tuple[str, str, str]]) -> None:
    journal = Journal(path, kiosk_id)
    try:
        at = datetime(2026, 12, 1, 10, tzinfo=UTC)
        for action_id, barcode, state in rows:
            with journal.transaction() as conn:
                journal.insert(conn, uuid=action_id, action="checkout", card_key="k", barcode=barcode,
                               loan_ref=action_id, at=at, detail={})
            if state != "pending":
                journal.mark(action_id, state, at)
    finally:
        journal.close()


def test_the_checker_reports_every_broken_invariant(database_url: str, tmp_path: Path) -> None:
    prepare_network(database_url, 2)
    journal = tmp_path / "journal.sqlite3"
    _journal(journal, "net-1", [("a" * 8 + "-0000-0000-0000-000000000001", "N00001", "pending"),
                                ("b" * 8 + "-0000-0000-0000-000000000002", "N00002", "applied"),
                                ("c" * 8 + "-0000-0000-0000-000000000003", "N00003", "applied"),
                                ("d" * 8 + "-0000-0000-0000-000000000004", "N00004", "exception")])
    assert check_network(database_url, [tmp_path / "none.sqlite3"])[0] == []  # a clean network passes
    db = Database.from_url(database_url)
    try:
        with db.engine.begin() as conn:
            # Two open loans of one copy: the database's own partial unique index forbids it, so drop it first.
            conn.execute(text("DROP INDEX uq_loans_open_item"))
            for _ in range(2):
                conn.execute(text("INSERT INTO loans (uuid, item_id, patron_id, branch_id, kiosk_id, out_at, due_at, "
                                  "renewals, fine_cents) SELECT :u || CAST(COUNT(*) AS TEXT), 1, 1, 1, 'net-1', "
                                  "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0, 0 FROM loans"), {"u": "dup-"})
            conn.execute(text("UPDATE items SET status = 'on_loan' WHERE id = 1"))
        now = datetime.now(UTC)
        with db.unit_of_work() as s:
            # Applied twice (two audit entries name it), and an exception nobody can list.
            s.add(OfflineAction(uuid="c" * 8 + "-0000-0000-0000-000000000003", kiosk_id="net-1", action="checkout",
                                outcome="applied", at=now, detail={"duplicate_of_loan": 1}))
            s.add(OfflineAction(uuid="d" * 8 + "-0000-0000-0000-000000000004", kiosk_id="net-1", action="checkout",
                                outcome="exception", at=now, detail={}))
            s.add(OfflineAction(uuid="e" * 8 + "-0000-0000-0000-000000000005", kiosk_id="net-2", action="checkin",
                                outcome="applied", at=now, detail={}))
            for _ in range(2):
                s.add(AuditEntry(at=now, kiosk_id="net-1", branch_id=1, action="checkout", outcome="ok",
                                 detail={"offline_uuid": "c" * 8 + "-0000-0000-0000-000000000003"}))
    finally:
        db.dispose()
    try:
        problems = "\n".join(check_network(database_url, [journal])[0])
    finally:  # the PostgreSQL test database is shared by the session: put its index back
        db = Database.from_url(database_url)
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM loans WHERE uuid LIKE 'dup-%'"))
            conn.execute(text("CREATE UNIQUE INDEX uq_loans_open_item ON loans (item_id) WHERE returned_at IS NULL"))
        db.dispose()
    assert "item 1 has 2 open loans" in problems
    assert "aaaaaaaa is still pending" in problems
    assert "bbbbbbbb is marked applied in its journal but the database has no record of it" in problems
    assert "cccccccc was applied 2 times" in problems
    assert "dddddddd ended as an exception that `kiosk exceptions list` does not show" in problems
    assert "the ledger lists eeeeeeee" in problems


def test_the_reliability_report_says_when_there_is_no_server_to_run_on(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk.reliability.report import ReportSizes, _network

    monkeypatch.setenv("KIOSK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:1/postgres")
    row = _network(tmp_path, ReportSizes())
    assert not row.ok and row.outcome == "not run: no PostgreSQL server reachable"
    assert row.command == "`kiosk chaos network --kiosks 3 --seed 7`"


CHAINED = """ERROR kiosk.offline.backend: offline journal loop
Traceback (most recent call last):
  File "/k/kiosk/offline/backend.py", line 270, in _run
    self.replay_now()
psycopg.errors.DeadlockDetected: deadlock detected
DETAIL:  Process 1 waits for ShareLock on transaction 2.

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/k/kiosk/offline/replay.py", line 100, in replay
    state, seen = self.run(partial(self.apply, entry))
sqlalchemy.exc.OperationalError: (psycopg.errors.DeadlockDetected) deadlock detected

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/k/kiosk/offline/replay.py", line 150, in _give_up
    self.run(lambda: self._record(entry, outcome))
kiosk.offline.errors.Unreachable: no answer within 5 s
WARNING kiosk.offline.backend: database reachable again
error: ValueError: a bad row"""


def test_a_chained_traceback_is_one_problem_that_names_the_message_the_exceptions_and_the_frame() -> None:
    assert stderr_problems(CHAINED.splitlines()) == [
        "ERROR kiosk.offline.backend: offline journal loop: kiosk.offline.errors.Unreachable: no answer within 5 s "
        "[File \"/k/kiosk/offline/replay.py\", line 150, in _give_up] "
        "(from psycopg.errors.DeadlockDetected: deadlock detected)",
        "error: ValueError: a bad row",
    ]
    assert stderr_problems(["WARNING kiosk.offline.backend: database reachable again", ""]) == []
    assert stderr_problems(["ERROR x: died", "Traceback (most recent call last):", '  File "a.py", line 2']) \
        == ['ERROR x: died: (cut off) [File "a.py", line 2]']
    two = ["ERROR a: one", "Traceback (most recent call last):", '  File "a.py", line 1, in f', "KeyError: 1",
           "ERROR b: two", "Traceback (most recent call last):", '  File "b.py", line 2, in g', "OSError: 2"]
    assert stderr_problems(two) == ['ERROR a: one: KeyError: 1 [File "a.py", line 1, in f]',
                                    'ERROR b: two: OSError: 2 [File "b.py", line 2, in g]']


@given(st.lists(st.one_of(st.sampled_from(["Traceback (most recent call last):", '  File "x.py", line 1, in f',
                                           "    call()", "ValueError: boom", "error: Refused", "", "INFO x: y",
                                           "The above exception was the direct cause of the following exception:",
                                           "During handling of the above exception, another exception occurred:"]),
                          st.text(max_size=40)), max_size=30))
def test_every_traceback_and_error_line_is_reported_and_nothing_else(lines: list[str]) -> None:
    problems = stderr_problems(lines)
    errors = sum(1 for line in lines if line.startswith("error:"))
    tracebacks = sum(1 for line in lines if line.startswith("Traceback"))
    assert errors <= len(problems) <= errors + tracebacks
    if tracebacks:
        assert len(problems) > errors, "a traceback is never dropped"
    else:
        assert problems == [line.strip() for line in lines if line.startswith("error:")]


def test_what_a_kiosk_prints_on_its_way_out_reaches_the_report(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness closed a worker's pipes while its reader could still be reading them (a review lost the last
    traceback in 2 runs of 4 with 3,000-4,000 lines before it); now the pipes are read to the end first."""
    import kiosk.reliability.network_chaos as network_chaos

    monkeypatch.setattr(network_chaos, "WORKER", "tests.kiosk.reliability.noisy_worker")
    kiosk = network_chaos.KioskProcess(tmp_path / "kiosk-1", "unused", 0, 1)
    kiosk.args = ("3000",)
    kiosk.data_dir.mkdir()
    assert kiosk.start() is None
    assert kiosk.exit() == 0
    assert len(kiosk.stderr) > 3000
    [problem] = kiosk.errors
    assert problem.startswith("ERROR noisy: closing failed: KeyError: 'the last words' [File ")
    assert "noisy_worker.py" in problem
    assert (kiosk.data_dir / "stderr.log").read_text(encoding="utf-8").count("\n") == len(kiosk.stderr)
