"""The victim of the crash harness: lends, returns and renews as fast as it can until it is killed.

Run as `python -m kiosk.reliability.crash_worker URL SEED [MAX_LOANS]`. It uses the real lending service (the same
transactions as the kiosk), prints `ready` once it has started working, and never stops by itself. The race harness
runs several at once against one database, as several kiosks of a network would.
"""

from __future__ import annotations

import random
import sys

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


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), *(int(a) for a in sys.argv[3:4]))
