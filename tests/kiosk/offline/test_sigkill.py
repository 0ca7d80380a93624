"""SIGKILL during offline work and during replay loses nothing and applies nothing twice (real processes)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from catalog.model import Loan
from catalog.offline_model import OfflineAction
from tests.kiosk.offline.conftest import OfflineRoom

ROOT = Path(__file__).resolve().parents[3]
DEAD_URL = "postgresql+psycopg://postgres@127.0.0.1:9/nowhere"
"""Port 9 (discard) has no listener on loopback: connection refused, like a database host with PostgreSQL down."""


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.kiosk.offline.worker", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_after(proc: subprocess.Popen[str], lines: int) -> list[str]:
    assert proc.stdout is not None
    seen: list[str] = []
    while len(seen) < lines:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"worker ended early: {proc.stderr.read() if proc.stderr else ''}")
        seen.append(line.split()[-1] if line.split() else "")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    rest, _ = proc.communicate()
    return seen + [line.split()[-1] for line in rest.splitlines() if line.strip()]


def test_sigkill_during_offline_work_loses_no_acknowledged_action(offline_room: OfflineRoom) -> None:
    r = offline_room
    r.circ.close()
    acknowledged = _kill_after(_spawn("offline", DEAD_URL, str(r.journal_path), str(r.room.patron_id)), 40)
    with sqlite3.connect(r.journal_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        journaled = [row[0] for row in conn.execute("SELECT uuid FROM journal ORDER BY seq")]
    assert set(acknowledged) <= set(journaled)
    assert len(journaled) >= 40
    # The database comes back: everything replays, once, in order, and leaves no copy on loan.
    circ = r.reopen()
    try:
        report = circ.replay_now()
        assert report.complete and report.exceptions == 0
        assert report.applied == len(journaled)
    finally:
        circ.close()
    with r.room.db.read() as s:
        assert s.scalar(select(func.count()).select_from(OfflineAction)) == len(journaled)
        checkouts = sum(1 for u in journaled if u)  # every row is an action; half are loans
        assert s.scalar(select(func.count()).select_from(Loan)) == (checkouts + 1) // 2
        assert s.scalar(select(func.count()).select_from(Loan).where(Loan.returned_at.is_(None))) == len(
            journaled) % 2


def test_sigkill_during_replay_applies_every_action_exactly_once(offline_room: OfflineRoom) -> None:
    r = offline_room
    r.circ.close()
    worker = _spawn("offline", DEAD_URL, str(r.journal_path), str(r.room.patron_id))
    journaled = _kill_after(worker, 60)
    with sqlite3.connect(r.journal_path) as conn:
        total = conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
    url = r.link.db.engine.url.render_as_string(hide_password=False)
    replayer = _spawn("replay", url, str(r.journal_path))
    assert replayer.stdout is not None and replayer.stdout.readline().strip() == "replaying"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with r.room.db.read() as s:
            done = int(s.scalar(select(func.count()).select_from(OfflineAction)) or 0)
        if done >= 10:
            break
        time.sleep(0.01)
    os.kill(replayer.pid, signal.SIGKILL)
    replayer.wait(10)
    with r.room.db.read() as s:
        partial = int(s.scalar(select(func.count()).select_from(OfflineAction)) or 0)
    assert 0 < partial < total, "the kill should land mid-replay"
    circ = r.reopen()
    try:
        report = circ.replay_now()
    finally:
        circ.close()
    assert report.complete and report.exceptions == 0
    assert report.applied + report.already + partial >= total
    with r.room.db.read() as s:
        assert s.scalar(select(func.count()).select_from(OfflineAction)) == total
        assert s.scalar(select(func.count()).select_from(Loan)) == (total + 1) // 2
        assert s.scalar(select(func.count(func.distinct(Loan.uuid))).select_from(Loan)) == (total + 1) // 2
    assert len(journaled) >= 60
