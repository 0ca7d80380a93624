"""SIP2 store and forward: how fast a kiosk's offline journal drains into `kiosk sip2 serve` once it answers again.

Usage: .venv/bin/python bench/bench_sip2_forward.py [--pairs 200] [--database-url URL]

A journal of `--pairs` offline loans and returns (each copy lent, then returned: 2 × pairs rows) is written with
`StoreForward` as the kiosk writes it in an outage, then forwarded over loopback by our `Sip2Client` to our server
(an account with `offline = true`): each row is one Checkout/Checkin with `no_block = Y` and its own dates, applied
by the server with the offline replay's rules (a UUID in `offline_actions` per request), then marked in the fsynced
journal. Default database: a fresh SQLite file; pass a scratch PostgreSQL URL to measure that instead. The kiosk's
own database (for exception rows) is the same one, as in the tests.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_sip2 import SECRET, build  # this directory is on sys.path when the script runs

from catalog import schema
from catalog.db import Database
from devices.identity import card_key
from kiosk.lending.policy import LendingPolicy
from kiosk.sip2.client import Sip2Client
from kiosk.sip2.local_backend import LocalBackend
from kiosk.sip2.server import Sip2Server, backends_for
from kiosk.sip2.settings import Sip2Account, Sip2Settings
from kiosk.sip2.store_forward import StoreForward

CARD = "CARD0000"
"""The one patron `bench_sip2.build(db, 1, pairs)` makes; its copies are C000I0000…"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        db = Database.from_url(url)
        schema.upgrade(db.engine)
        build(db, 1, args.pairs)
        settings = Sip2Settings(accounts=(Sip2Account("sc1", "pw", "BENCH", offline=True),), language="en")
        backends = backends_for(settings, lambda inst: LocalBackend(
            db, secret=SECRET, branch_code=inst, kiosk_id=f"sip2:{inst}", network_policy=LendingPolicy()))
        server = Sip2Server(("127.0.0.1", 0), settings, backends)
        server.start_in_thread()
        store = StoreForward.open(Path(tmp) / "sip2-journal.sqlite3", "bench", db, max_loans=args.pairs,
                                  enabled=True)
        key = card_key(SECRET, "card", CARD)
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)
        written = time.perf_counter()
        for n in range(args.pairs):
            at = start + timedelta(seconds=2 * n)
            store.store_checkout(card_key=key, identifier=CARD, barcode=f"C000I{n:04d}", at=at,
                                 due_at=at + timedelta(days=30))
            store.store_checkin(barcode=f"C000I{n:04d}", at=at + timedelta(seconds=1))
        journaled_s = time.perf_counter() - written
        try:
            with Sip2Client("127.0.0.1", server.port, user="sc1", password="pw", institution="BENCH") as client:
                assert client.login()
                began = time.perf_counter()
                report = store.forward(client, lambda: datetime.now(UTC))
                elapsed = time.perf_counter() - began
        finally:
            store.close()
            server.shutdown()
            server.server_close()
            db.dispose()
    rows = 2 * args.pairs
    assert report.applied == rows and report.exceptions == 0, report
    print(f"journaled {rows} rows in {journaled_s:.2f} s ({rows / journaled_s:.0f} rows/s, fsynced each)")
    print(f"forwarded {rows} rows in {elapsed:.2f} s: {rows / elapsed:.1f} rows/s, "
          f"{1000 * elapsed / rows:.1f} ms per row")


if __name__ == "__main__":
    main()
