"""Scan → committed loan → new session view published, on SQLite with 100,000 items and 20,000 patrons.

Usage: .venv/bin/python bench/bench_checkout.py [--items 100000] [--patrons 20000] [--loans 500]

Measures the real path: `SessionRunner.scan()` (what the scanner driver's event becomes) through the worker thread,
`VisitMachine`, `Circulation.checkout` (one IMMEDIATE transaction with audit, fsync'd: synchronous=FULL), the
patron refresh, until the subscriber receives the view carrying the new scan line.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert

from catalog import schema
from catalog.db import Database
from catalog.model import Branch, Item, Patron, Title
from devices.events import CardKind, CardPresented
from kiosk.lending.policy import LendingPolicy
from kiosk.lending.service import Circulation
from kiosk.session.runner import SessionRunner
from kiosk.session.view import SessionView
from kiosk.session.visit import VisitMachine


def build(db: Database, items: int, patrons: int) -> None:
    now = datetime.now(UTC)
    with db.unit_of_work() as s:
        s.add(Branch(code="BENCH", name="基准书房"))
        s.flush()
        titles = items // 2
        s.execute(insert(Title), [{"title": f"书名{n}", "authors": "作者", "isbn13": None, "created_at": now,
                                    "updated_at": now} for n in range(titles)])
        s.execute(insert(Item), [{"barcode": f"B{n:08d}", "title_id": n % titles + 1, "home_branch_id": 1,
                                   "current_branch_id": 1, "status": "available", "reserved": False,
                                   "created_at": now, "updated_at": now} for n in range(items)])
        s.execute(insert(Patron), [{"card_kind": "id_card", "card_key": f"{n:064x}", "masked_card": "x",
                                     "display_name": "张*", "status": "active", "registered_at": now}
                                    for n in range(patrons)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--patrons", type=int, default=20_000)
    parser.add_argument("--loans", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.from_url(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        schema.upgrade(db.engine)
        started = time.perf_counter()
        build(db, args.items, args.patrons)
        print(f"built {args.items} items, {args.patrons} patrons in {time.perf_counter() - started:.1f} s")
        policy = LendingPolicy(max_loans=1_000_000)
        circ = Circulation(db, branch_code="BENCH", kiosk_id="bench", network_policy=policy)
        machine = VisitMachine(circ, idle_timeout_s=1e9, idle_warning_s=0)
        runner = SessionRunner(machine)
        arrived = threading.Event()
        wanted = {"barcode": ""}

        def listener(view: SessionView) -> None:
            if view.scans and view.scans[-1].barcode == wanted["barcode"]:
                arrived.set()

        runner.subscribe(listener)
        runner.start()
        samples: list[float] = []
        patron_no = 0
        for n in range(args.loans):
            if n % 5 == 0:  # a new resident every five books, as at a real kiosk
                patron_no += 1
                runner.post(CardPresented("bench", CardKind.ID_CARD, f"{patron_no:064x}", "x", "张*",
                                          date(2040, 1, 1), False))
                runner.wait_idle()
            wanted["barcode"] = f"B{n * 7 % args.items:08d}"
            arrived.clear()
            t0 = time.perf_counter()
            runner.scan(wanted["barcode"])
            if not arrived.wait(10):
                raise SystemExit(f"no view for {wanted['barcode']}")
            samples.append((time.perf_counter() - t0) * 1000)
            assert machine.view.scans[-1].ok, machine.view.scans[-1].outcome
        runner.stop()
        db.dispose()
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(f"scan → committed loan → view: n={len(samples)} p50={p50:.1f} ms p99={p99:.1f} ms max={samples[-1]:.1f} ms")


if __name__ == "__main__":
    main()
