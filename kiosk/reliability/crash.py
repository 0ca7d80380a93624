"""Crash safety: SIGKILL a lending process at random points, then prove nothing is half-written.

Each run starts `kiosk.reliability.crash_worker` on the same SQLite file, lets it work for a random 50–400 ms (so the
kill lands anywhere: mid-transaction, mid-commit, between statements), kills it with SIGKILL — no handler, no
cleanup, like a power cut for the process — and then checks, in a fresh connection:
- `PRAGMA integrity_check` is `ok` and `PRAGMA foreign_key_check` finds nothing;
- the circulation invariants (`kiosk.simulate_day.check_invariants`): every item's status agrees with its open loan,
  nobody over the limit, every loan and return audited (an audit entry is written in the same transaction as the
  change it records, so a kill can never separate them).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, text

from catalog import schema
from catalog.db import Database
from catalog.model import Branch, Item, Loan, Patron, Title
from kiosk.lending.policy import LendingPolicy
from kiosk.simulate_day import check_invariants


@dataclass
class CrashReport:
    runs: int = 0
    loans_seen: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def prepare(path: Path, *, items: int = 60, patrons: int = 12) -> str:
    url = f"sqlite:///{path}"
    db = Database.from_url(url)
    try:
        schema.upgrade(db.engine)
        with db.unit_of_work() as s:
            branch = Branch(code="CRASH", name="崩溃测试书房")
            s.add(branch)
            s.flush()
            for n in range(items):
                title = Title(title=f"崩溃测试{n}")
                s.add(title)
                s.flush()
                s.add(Item(barcode=f"C{n:05d}", title_id=title.id, home_branch_id=branch.id,
                           current_branch_id=branch.id))
            for n in range(patrons):
                s.add(Patron(card_kind="id_card", card_key=f"{n:064x}", masked_card="x", display_name="某*"))
    finally:
        db.dispose()
    return url


def check_database(url: str) -> list[str]:
    db = Database.from_url(url)
    try:
        with db.engine.connect() as conn:
            integrity = conn.execute(text("PRAGMA integrity_check")).scalar()
            foreign = conn.execute(text("PRAGMA foreign_key_check")).all()
        problems = [] if integrity == "ok" else [f"integrity_check: {integrity}"]
        problems += [f"foreign key violation: {row}" for row in foreign]
        return problems + check_invariants(db, LendingPolicy(max_loans=8))
    finally:
        db.dispose()


def run_crashes(workdir: Path, *, runs: int, seed: int) -> CrashReport:
    rng = random.Random(seed)
    url = prepare(workdir / "crash.sqlite3")
    report = CrashReport()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for n in range(runs):
        child = subprocess.Popen([sys.executable, "-m", "kiosk.reliability.crash_worker", url, str(seed * 1000 + n)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        assert child.stdout is not None
        ready = child.stdout.readline().strip()
        if ready != b"ready":
            child.kill()
            report.problems.append(f"run {n}: worker did not start: {child.stderr.read().decode()[-400:]}"
                                   if child.stderr else f"run {n}: worker did not start")
            break
        time.sleep(rng.uniform(0.05, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()
        problems = check_database(url)
        report.problems += [f"run {n}: {p}" for p in problems]
        report.runs += 1
        if problems:
            break
    db = Database.from_url(url)
    try:
        with db.read() as s:
            report.loans_seen = int(s.scalar(select(func.count()).select_from(Loan)) or 0)
    finally:
        db.dispose()
    return report
