"""SIP2 server throughput: checkout+checkin pairs from 20 concurrent clients on loopback.

Usage: .venv/bin/python bench/bench_sip2.py [--clients 20] [--pairs 50] [--interval-ms 0] [--database-url URL]
       [--switch-interval-ms 5]

With `--interval-ms 0` the clients fire back to back: that measures capacity, and latency is then queueing.
`--interval-ms 1000` paces each machine to one pair a second (20 pairs/s in all, already far above a busy
reading room) and measures latency under load.

The machines run in a child process (each its own thread and TCP connection), the server in this one, so the
client side does not compete for the server's interpreter lock. Each machine is our `Sip2Client` with its own
patron (library card) and items. A pair is Checkout (11→12) then Checkin (09→10), each one committed
transaction with audit through `kiosk.lending.service.Circulation`; latency is measured per pair, from send to
reply. `--switch-interval-ms` sets the server process's `sys.setswitchinterval` (Python's default is 5 ms).
Default database: a fresh SQLite file (synchronous=FULL); pass a PostgreSQL URL (an empty, scratch database) to
measure that instead.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from catalog import schema
from catalog.db import Database
from catalog.model import Branch, Item, Patron, Title
from devices.identity import card_key
from kiosk.lending.policy import LendingPolicy
from kiosk.sip2.client import Sip2Client
from kiosk.sip2.local_backend import LocalBackend
from kiosk.sip2.server import Sip2Server, backends_for
from kiosk.sip2.settings import Sip2Account, Sip2Settings

SECRET = bytes(range(32))


def build(db: Database, clients: int, items_each: int) -> None:
    with db.unit_of_work() as s:
        branch = Branch(code="BENCH", name="基准书房", timezone="Asia/Shanghai")
        s.add(branch)
        s.flush()
        title = Title(title="基准图书", authors="作者")
        s.add(title)
        s.flush()
        for c in range(clients):
            s.add(Patron(card_kind="library_card", card_key=card_key(SECRET, "card", f"CARD{c:04d}"),
                         masked_card="****", display_name="张*", status="active", max_loans=100))
            for n in range(items_each):
                s.add(Item(barcode=f"C{c:03d}I{n:04d}", title_id=title.id, home_branch_id=branch.id,
                           current_branch_id=branch.id))


def drive(port: int, clients: int, pairs: int, interval_ms: float,
          results: multiprocessing.Queue[tuple[list[float], list[str], float]]) -> None:
    """The self-check machines, in their own process: real machines do not share the server's interpreter lock,
    so client work must not be counted as server latency."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)

    def run(c: int) -> None:
        client = Sip2Client("127.0.0.1", port, user=f"sc{c}", password="pw", institution="BENCH", timeout_s=60)
        mine: list[float] = []
        with client:
            client.login()
            start_gate.wait()
            # Stagger the machines across the interval, as real ones are: no synchronised bursts.
            next_at = time.perf_counter() + c * interval_ms / 1000 / clients
            time.sleep(max(0.0, next_at - time.perf_counter()))
            for n in range(pairs):
                next_at += interval_ms / 1000
                barcode = f"C{c:03d}I{n % 5:04d}"
                t0 = time.perf_counter()
                out = client.checkout(f"CARD{c:04d}", barcode)
                back = client.checkin(barcode)
                mine.append(time.perf_counter() - t0)
                if out.fixed["ok"] != "1" or back.fixed["ok"] != "1":
                    with lock:
                        failures.append(f"{barcode}: {out.get_all('AF')} {back.get_all('AF')}")
                time.sleep(max(0.0, next_at - time.perf_counter()))
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(c,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    t0 = time.perf_counter()
    for thread in threads:
        thread.join()
    results.put((latencies, failures, time.perf_counter() - t0))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--pairs", type=int, default=50, help="checkout+checkin pairs per client")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--interval-ms", type=float, default=0.0,
                        help="pace each client to one pair per interval (0: back to back, saturating)")
    parser.add_argument("--switch-interval-ms", type=float, default=None,
                        help="sys.setswitchinterval for the server process (Python's default is 5 ms)")
    args = parser.parse_args()
    if args.switch_interval_ms is not None:
        sys.setswitchinterval(args.switch_interval_ms / 1000)

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        db = Database.from_url(url, pool_size=args.clients + 2)
        schema.upgrade(db.engine)
        build(db, args.clients, 5)
        settings = Sip2Settings(accounts=tuple(Sip2Account(f"sc{c}", "pw", "BENCH") for c in range(args.clients)),
                                language="en")
        backends = backends_for(settings, lambda inst: LocalBackend(
            db, secret=SECRET, branch_code=inst, kiosk_id="sip2-bench", network_policy=LendingPolicy()))
        server = Sip2Server(("127.0.0.1", 0), settings, backends)
        server.start_in_thread()
        ctx = multiprocessing.get_context("spawn")
        results: multiprocessing.Queue[tuple[list[float], list[str], float]] = ctx.Queue()
        machines = ctx.Process(target=drive, args=(server.port, args.clients, args.pairs, args.interval_ms, results))
        machines.start()
        latencies, failures, elapsed = results.get(timeout=3600)
        machines.join(60)
        server.shutdown()
        server.server_close()
        db.dispose()

    latencies.sort()
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    print(f"database: {'SQLite file' if args.database_url is None else 'given URL'}")
    print(f"clients: {args.clients}, interval: {args.interval_ms} ms, pairs: {len(latencies)}, "
          f"failures: {len(failures)}")
    print(f"pairs/s: {len(latencies) / elapsed:.1f}  requests/s: {2 * len(latencies) / elapsed:.1f}")
    print(f"pair latency ms: median {statistics.median(latencies) * 1000:.1f}  p99 {p99 * 1000:.1f}  "
          f"max {latencies[-1] * 1000:.1f}")
    # Latency here is mostly waiting for a core: say how busy the machine was, so runs can be compared honestly.
    print(f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    for failure in failures[:5]:
        print("  failed:", failure)


if __name__ == "__main__":
    main()
