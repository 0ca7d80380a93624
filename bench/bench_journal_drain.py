"""Offline journal: how fast the kiosk switches offline, journals, and drains 1,000 actions when PostgreSQL returns.

Usage: .venv/bin/python bench/bench_journal_drain.py [--actions 1000] [--admin-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

A scratch database `kiosk_journal_bench_<hex>` is created on the server, migrated, seeded (one branch, 250
patrons, one copy per loan) and dropped at the end. The kiosk reaches it through the loopback fault proxy
(`kiosk.reliability.netproxy`), so the outage is real: connections refused and reset (`REFUSE` + `cut()`), or
silently stalled (`BLACKHOLE`). Measured:

- switch, refused: from the cut to the first action answered offline (issue 8: ≤ 2 s);
- switch, blackholed: the same when the link just stops answering (the deadline's case);
- journaling: mean time to commit one offline action (fsynced SQLite row + cache change);
- drain: from the proxy passing bytes again to an empty journal with the kiosk back online, as the kiosk's own
  background thread does it (probe every second, then the ordered batched replay). 60 % of the actions are loans
  and 40 % returns of those loans, within the default offline limit of 3 per patron.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from catalog import schema
from catalog.db import Database
from catalog.model import Branch, Item, Patron, Title
from catalog.offline_model import OfflineAction
from kiosk.lending.policy import LendingPolicy
from kiosk.lending.service import Circulation
from kiosk.offline.backend import OfflineCheckoutResult, OfflineCirculation
from kiosk.offline.journal import Journal
from kiosk.offline.settings import OfflineSettings
from kiosk.reliability.netproxy import FaultProxy, ProxyMode

PATRONS = 250


def seed(db: Database, items: int) -> list[int]:
    with db.unit_of_work() as s:
        branch = Branch(code="BENCH", name="基准书房", timezone="Asia/Shanghai")
        s.add(branch)
        s.flush()
        title = Title(title="基准图书", authors="作者")
        s.add(title)
        s.flush()
        s.add_all([Item(barcode=f"B{n:07d}", title_id=title.id, home_branch_id=branch.id,
                        current_branch_id=branch.id) for n in range(items)])
        patrons = [Patron(card_kind="id_card", card_key=f"{n:064x}", masked_card="3201**********0000",
                          display_name="张*") for n in range(PATRONS)]
        s.add_all(patrons)
        s.flush()
        return [p.id for p in patrons]


def timed_switch(circ: OfflineCirculation, patron_id: int, barcode: str) -> float:
    start = time.monotonic()
    result = circ.checkout(patron_id, barcode)
    elapsed = time.monotonic() - start
    assert isinstance(result, OfflineCheckoutResult), "the action should have been answered offline"
    return elapsed


def settle(circ: OfflineCirculation) -> None:
    """Back to a clean online state between the switch measurements (the proxy may take a moment to pass)."""
    while not circ.probe():
        time.sleep(0.1)
    while circ.backlog() or not circ.is_online:
        circ.replay_now()
    circ.refresh_cache()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--actions", type=int, default=1000)
    parser.add_argument("--admin-url", default=os.environ.get("KIOSK_TEST_POSTGRES_URL",
                                                              "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    loans = args.actions * 3 // 5
    returns = args.actions - loans
    admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    name = f"kiosk_journal_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.admin_url).set(database=name)
    direct = Database.from_url(url.render_as_string(hide_password=False))
    proxy = FaultProxy((url.host or "127.0.0.1", url.port or 5432))
    work = Path(tempfile.mkdtemp(prefix="journal-bench-"))
    try:
        schema.upgrade(direct.engine)
        patrons = seed(direct, loans + 2)
        db = Database.from_url(proxy.url_for(url.render_as_string(hide_password=False)), connect_timeout_s=2)
        online = Circulation(db, branch_code="BENCH", kiosk_id="bench-1", network_policy=LendingPolicy())
        settings = OfflineSettings(enabled=True, journal_path=work / "journal.sqlite3")
        circ = OfflineCirculation(online, Journal(settings.journal_path, "bench-1"), settings)
        circ.branch()
        circ.refresh_cache(full=True)

        # 1. switch on a refused, reset link
        circ.checkout(patrons[0], f"B{loans:07d}")  # online, warms the pool
        proxy.mode = ProxyMode.REFUSE
        proxy.cut()
        refused_s = timed_switch(circ, patrons[1], f"B{loans + 1:07d}")
        proxy.mode = ProxyMode.PASS
        settle(circ)
        # 2. switch on a blackholed link (a query on an open connection that never answers)
        proxy.mode = ProxyMode.BLACKHOLE
        blackhole_s = timed_switch(circ, patrons[2], f"B{0:07d}")
        proxy.mode = ProxyMode.PASS
        settle(circ)
        circ.checkin(f"B{0:07d}")
        circ.refresh_cache()
        assert circ.backlog() == 0 and circ.is_online

        # 3. journal the offline actions
        proxy.mode = ProxyMode.REFUSE
        proxy.cut()
        circ.checkin(f"B{loans + 1:07d}")  # switches offline (this one is journaled too)
        start = time.monotonic()
        for n in range(loans):
            circ.checkout(patrons[3 + (n // 3) % (PATRONS - 3)], f"B{n:07d}")
        for n in range(returns):
            circ.checkin(f"B{n:07d}")
        journal_s = time.monotonic() - start
        pending = circ.backlog()

        # 4. the database comes back: the kiosk's own thread drains the journal
        circ.start()
        proxy.mode = ProxyMode.PASS
        back = time.monotonic()
        while circ.backlog() or not circ.is_online:
            time.sleep(0.01)
        drain_s = time.monotonic() - back
        circ.close()
        with direct.read() as s:
            ledger = int(s.scalar(select(func.count()).select_from(OfflineAction)) or 0)
        load = os.getloadavg()
        print(f"date: {datetime.now(UTC).isoformat(timespec='seconds')}  load: {load[0]:.2f} {load[1]:.2f} "
              f"{load[2]:.2f}")
        print(f"switch offline, refused+reset link: {refused_s * 1000:.0f} ms")
        print(f"switch offline, blackholed link:    {blackhole_s * 1000:.0f} ms")
        print(f"journaling: {pending} actions in {journal_s:.2f} s ({journal_s / pending * 1000:.1f} ms each)")
        print(f"drain: {pending} actions, database back → empty journal and online: {drain_s:.2f} s "
              f"({pending / drain_s:.0f} actions/s); central ledger rows: {ledger}")
        db.dispose()
    finally:
        proxy.close()
        direct.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
