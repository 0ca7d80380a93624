"""The victim of the crash harness: works as fast as it can until it is killed.

`python -m kiosk.reliability.crash_worker URL SEED [MAX_LOANS]` lends, returns and renews with the real lending
service (the same transactions as the kiosk) and never stops by itself; the race harness runs several at once
against one database, as several kiosks of a network would.
`python -m kiosk.reliability.crash_worker import URL FILE BRANCH` imports a catalog file with the real reader and
writer (smaller chunks, see `kiosk.reliability.crash_import`) and prints `done` if nobody killed it first.
Both print `ready` once they are about to write.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from sqlalchemy import select

from catalog.db import Database
from catalog.model import Item, ItemStatus, Patron
from kiosk.lending.errors import Refusal
from kiosk.lending.policy import LendingPolicy
from kiosk.lending.service import Circulation


def main(url: str, seed: int, max_loans: int = 8) -> None:
    rng = random.Random(seed)
    db = Database.from_url(url)
    circ = Circulation(db, branch_code="CRASH", kiosk_id=f"crash-{seed}",
                       network_policy=LendingPolicy(max_loans=max_loans))
    with db.read() as s:
        barcodes = list(s.scalars(select(Item.barcode)))
        patrons = list(s.scalars(select(Patron.id)))
    print("ready", flush=True)
    while True:
        action = rng.random()
        try:
            if action < 0.5:
                circ.checkout(rng.choice(patrons), rng.choice(barcodes))
            elif action < 0.85:
                with db.read() as s:
                    lent = s.scalars(select(Item.barcode).where(Item.status == ItemStatus.ON_LOAN).limit(20)).all()
                if lent:
                    circ.checkin(rng.choice(lent))
            else:
                patron = rng.choice(patrons)
                standing = circ.standing(patron)
                if standing.loans:
                    circ.renew(patron, rng.choice(standing.loans).loan_id)
        except Refusal:
            pass


def import_catalog(url: str, path: Path, branch_code: str) -> None:
    import catalog.importers.writer as writer
    from catalog.importers import CatalogWriter, read_file_ahead
    from kiosk.reliability.crash_import import WORKER_CHUNK

    writer.CHUNK = WORKER_CHUNK
    db = Database.from_url(url)
    catalog_writer = CatalogWriter(db, branch_code)
    print("ready", flush=True)
    # As `kiosk catalog import` reads a large file: in a second process (here whatever the size), so that kills
    # also land while that process is reading ahead.
    catalog_writer.write(read_file_ahead(path, stored_isbns=catalog_writer.stored_isbns, min_bytes=0))
    print("done", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "import":
        import_catalog(sys.argv[2], Path(sys.argv[3]), sys.argv[4])
    else:
        main(sys.argv[1], int(sys.argv[2]), *(int(a) for a in sys.argv[3:4]))
