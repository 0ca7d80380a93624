"""Loans per second sustained by N concurrent kiosk processes on one PostgreSQL (the issue asks for 8).

Usage: .venv/bin/python bench/bench_network.py [--kiosks 8] [--seconds 20] [--server postgresql+psycopg://…/postgres]

Each kiosk is its own process with its own engine and pool, lending through the real `Circulation` (the same
transaction as at the touch screen: patron row locked, conditional item update, loan insert, audit entry) to its
own residents, and returning each book a few loans later, so the number of open loans stays steady and the rate is
one that can be sustained, not a burst into an empty table. Every kiosk lends copies of the whole network (the
copies are shared, the residents are not), so kiosks do contend on the items table and its indexes. All start
together on a signal after warming up; the rate is the loans committed in the measured window divided by its
length. A scratch database `kiosk_chaos_network_…` is created on the server and dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from catalog import schema
from catalog.db import Database
from catalog.model import Branch, Item, Patron, Title
from kiosk.lending.errors import Refusal
from kiosk.lending.policy import LendingPolicy
from kiosk.lending.service import Circulation
from kiosk.reliability.network_chaos import scratch_database

ITEMS_PER_KIOSK = 400
PATRONS_PER_KIOSK = 20
OPEN_PER_KIOSK = 40
"""Each kiosk returns its oldest loan once it has this many out."""


def build(url: str, kiosks: int) -> None:
    db = Database.from_url(url)
    try:
        schema.upgrade(db.engine)
        now = datetime.now(UTC)
        with db.unit_of_work() as s:
            s.add_all([Branch(code=f"B{k:02d}", name=f"分馆{k}") for k in range(kiosks)])
            s.flush()
            items = ITEMS_PER_KIOSK * kiosks
            s.execute(insert(Title), [{"title": f"书名{n}", "authors": "作者", "created_at": now, "updated_at": now}
                                      for n in range(items)])
            s.execute(insert(Item), [{"barcode": f"B{n:08d}", "title_id": n + 1, "home_branch_id": n % kiosks + 1,
                                      "current_branch_id": n % kiosks + 1, "status": "available", "reserved": False,
                                      "created_at": now, "updated_at": now} for n in range(items)])
            s.execute(insert(Patron), [{"card_kind": "id_card", "card_key": f"{n:064x}", "masked_card": "x",
                                        "display_name": "张*", "status": "active", "registered_at": now}
                                       for n in range(PATRONS_PER_KIOSK * kiosks)])
    finally:
        db.dispose()


def worker(url: str, kiosk: int, kiosks: int, seconds: float) -> None:
    """One kiosk: warm up, print `ready`, wait for `go`, lend and return for `seconds`, print what it did."""
    db = Database.from_url(url)
    circ = Circulation(db, branch_code=f"B{kiosk:02d}", kiosk_id=f"bench-{kiosk}",
                       network_policy=LendingPolicy(max_loans=100))
    patrons = [kiosk * PATRONS_PER_KIOSK + n + 1 for n in range(PATRONS_PER_KIOSK)]
    # Interleaved copies: kiosk k lends every kiosks-th copy starting at k, i.e. copies of every home branch.
    barcodes = [f"B{n:08d}" for n in range(kiosk, ITEMS_PER_KIOSK * kiosks, kiosks)]
    out: list[str] = []
    turn = 0

    def step(timings: list[float] | None) -> None:
        nonlocal turn
        code = barcodes[turn % len(barcodes)]
        turn += 1
        if len(out) >= OPEN_PER_KIOSK:
            circ.checkin(out.pop(0))
        started = time.perf_counter()
        try:
            circ.checkout(patrons[turn % len(patrons)], code)
        except Refusal:
            return
        if timings is not None:
            timings.append(time.perf_counter() - started)
        out.append(code)

    for _ in range(20):
        step(None)
    print("ready", flush=True)
    sys.stdin.readline()
    timings: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        step(timings)
    print(json.dumps({"loans": len(timings), "p50_ms": statistics.median(timings) * 1000,
                      "p95_ms": statistics.quantiles(timings, n=20)[18] * 1000}), flush=True)
    db.dispose()


def run(url: str, kiosks: int, seconds: float) -> None:
    build(url, kiosks)
    children = [subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", url, str(k),
                                  str(kiosks), str(seconds)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                for k in range(kiosks)]
    for child in children:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise SystemExit("a kiosk process did not start")
    started = time.perf_counter()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    results = []
    for child in children:
        out, _ = child.communicate(timeout=seconds + 60)
        results.append(json.loads(out.strip().splitlines()[-1]))
    elapsed = time.perf_counter() - started
    loans = sum(r["loans"] for r in results)
    print(f"{kiosks} kiosk processes, {seconds:g} s: {loans} loans (and as many returns) = "
          f"{loans / seconds:.0f} loans/s sustained ({elapsed:.1f} s wall incl. start-up); per-loan latency "
          f"median of medians {statistics.median(r['p50_ms'] for r in results):.1f} ms, "
          f"worst p95 {max(r['p95_ms'] for r in results):.1f} ms")


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--kiosks", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with scratch_database(args.server) as url:
        run(url, args.kiosks, args.seconds)


if __name__ == "__main__":
    main()
