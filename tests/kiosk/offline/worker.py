"""A kiosk process for the SIGKILL tests: `offline` lends and returns from the journal until killed, printing each
acknowledged action; `replay` replays the journal until killed (or done)."""

from __future__ import annotations

import sys
from pathlib import Path

from catalog.db import Database
from kiosk.lending.policy import LendingPolicy
from kiosk.lending.service import Circulation
from kiosk.offline.backend import OfflineCirculation
from kiosk.offline.journal import Journal
from kiosk.offline.settings import OfflineSettings


def main(mode: str, url: str, journal_path: str, patron_id: str = "0") -> None:
    db = Database.from_url(url, connect_timeout_s=1)
    online = Circulation(db, branch_code="XW01", kiosk_id="k1", network_policy=LendingPolicy())
    settings = OfflineSettings(enabled=True, journal_path=Path(journal_path), max_loans=100_000)
    circ = OfflineCirculation(online, Journal(Path(journal_path), "k1"), settings)
    if mode == "offline":
        n = 0
        while True:
            barcode = f"TS000000{n % 4}"
            out = circ.checkout(int(patron_id), barcode)
            print(f"checkout {getattr(out, 'uuid', '')}", flush=True)
            back = circ.checkin(barcode)
            print(f"checkin {getattr(back, 'uuid', '')}", flush=True)
            n += 1
    else:
        print("replaying", flush=True)
        report = circ.replay_now(batch=5)  # small batches: the kill must be able to land between commits
        print(f"done {report.applied} {report.remaining}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
