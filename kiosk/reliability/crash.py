"""Crash safety: SIGKILL a lending process at random points, then prove nothing is half-written.

Each run starts `kiosk.reliability.crash_worker` on the same SQLite file, lets it work for a random 50–400 ms (so the
kill lands anywhere: mid-transaction, mid-commit, between statements), kills it with SIGKILL — no handler, no
cleanup, like a power cut for the process — and then checks, in a fresh connection:
- `PRAGMA integrity_check` is `ok` and `PRAGMA foreign_key_check` finds nothing;
- the circulation invariants (`kiosk.simulate_day.check_invariants`): every item's status agrees with its open loan,
  nobody over the limit, every loan and return audited (an audit entry is written in the same transaction as the
  change it records, so a kill can never separate them).
Every `import_every`-th run kills a catalog import instead (`kiosk.reliability.crash_import`): then each record of
the file must be whole or absent, and running the import again must complete it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from catalog import schema
from catalog.db import Database
from catalog.model import Branch, Item, Loan, Patron, Title
from kiosk.lending.policy import LendingPolicy
from kiosk.reliability.crash_import import RECORDS_PER_FILE, check_import, complete_import, write_import_file
from kiosk.reliability.processes import sigkill, spawn, wait_ready
from kiosk.simulate_day import check_invariants


@dataclass
class CrashReport:
    runs: int = 0
    loans_seen: int = 0
    import_kills: int = 0
    imports_cut_mid_way: int = 0
    """Import kills that left some of the file's records in and some out (the interesting case)."""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def add_copies(s: Session, branch_ids: list[int], count: int, barcode: Callable[[int], str], title: str) -> None:
    """`count` titles of one copy each, dealt round the branches as their home and shelf."""
    for n in range(count):
        row = Title(title=f"{title}{n}")
        s.add(row)
        s.flush()
        home = branch_ids[n % len(branch_ids)]
        s.add(Item(barcode=barcode(n), title_id=row.id, home_branch_id=home, current_branch_id=home))


def prepare(path: Path | str, *, items: int = 60, patrons: int = 12) -> str:
    """A small branch to fight over: a SQLite file path, or the URL of an empty migrated-or-not database."""
    url = path if isinstance(path, str) else f"sqlite:///{path}"
    db = Database.from_url(url)
    try:
        schema.upgrade(db.engine)
        with db.unit_of_work() as s:
            branch = Branch(code="CRASH", name="崩溃测试书房")
            s.add(branch)
            s.flush()
            add_copies(s, [branch.id], items, lambda n: f"C{n:05d}", "崩溃测试")
            for n in range(patrons):
                s.add(Patron(card_kind="id_card", card_key=f"{n:064x}", masked_card="x", display_name="某*"))
    finally:
        db.dispose()
    return url


def check_database(url: str, max_loans: int = 8) -> list[str]:
    db = Database.from_url(url)
    try:
        problems: list[str] = []
        if db.is_sqlite:  # PostgreSQL enforces both itself, transactionally
            with db.engine.connect() as conn:
                integrity = conn.execute(text("PRAGMA integrity_check")).scalar()
                foreign = conn.execute(text("PRAGMA foreign_key_check")).all()
            problems += [] if integrity == "ok" else [f"integrity_check: {integrity}"]
            problems += [f"foreign key violation: {row}" for row in foreign]
        return problems + check_invariants(db, LendingPolicy(max_loans=max_loans))
    finally:
        db.dispose()


def _kill_worker(args: list[str], delay: float) -> str | None:
    """Start a worker, SIGKILL it `delay` seconds after it said `ready`; an error text if it never started."""
    child = spawn("kiosk.reliability.crash_worker", *args)
    error = wait_ready(child)
    if error is None:
        time.sleep(delay)
        sigkill(child)
    return error


def run_crashes(workdir: Path, *, runs: int, seed: int, import_every: int = 4) -> CrashReport:
    """`runs` SIGKILLs; every `import_every`-th kills a catalog import instead of lending (0: never)."""
    rng = random.Random(seed)
    url = prepare(workdir / "crash.sqlite3")
    report = CrashReport()
    for n in range(runs):
        importing = bool(import_every) and n % import_every == import_every - 1
        if importing:
            csv_path = workdir / f"import-{report.import_kills}.csv"
            rows = write_import_file(csv_path, report.import_kills)
            error = _kill_worker(["import", url, str(csv_path), "CRASH"], rng.uniform(0.0, 1.5))
        else:
            error = _kill_worker([url, str(seed * 1000 + n)], rng.uniform(0.05, 0.4))
        if error is not None:
            report.problems.append(f"run {n}: {error}")
            break
        problems = check_database(url)
        if importing:
            report.import_kills += 1
            problems += check_import(url, rows, complete=False)
            added = complete_import(url, csv_path, "CRASH")
            report.imports_cut_mid_way += 0 < added < RECORDS_PER_FILE
            problems += check_import(url, rows, complete=True) + check_database(url)
        report.problems += [f"run {n}{' (import)' if importing else ''}: {p}" for p in problems]
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


@dataclass
class RaceReport:
    kiosks: int = 0
    seconds: float = 0.0
    loans: int = 0
    returns: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def run_race(url: str, *, kiosks: int, seconds: float, seed: int, max_loans: int = 3) -> RaceReport:
    """Several kiosk processes lend, return and renew the same 60 copies to the same 12 patrons at once; then no
    copy may have two open loans and no patron may hold more than `max_loans`."""
    prepare(url)
    children = [spawn("kiosk.reliability.crash_worker", url, str(seed * 100 + n), str(max_loans))
                for n in range(kiosks)]
    report = RaceReport(kiosks=kiosks, seconds=seconds)
    try:
        report.problems += [error for error in map(wait_ready, children) if error is not None]
        time.sleep(seconds)
    finally:
        for child in children:
            sigkill(child)
    report.problems += check_database(url, max_loans=max_loans)
    db = Database.from_url(url)
    try:
        with db.read() as s:
            report.loans = int(s.scalar(select(func.count()).select_from(Loan)) or 0)
            report.returns = int(s.scalar(select(func.count()).select_from(Loan)
                                          .where(Loan.returned_at.is_not(None))) or 0)
    finally:
        db.dispose()
    return report
