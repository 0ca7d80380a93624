"""One kiosk of the network chaos run: lends, returns and renews through the real offline-capable backend.

`python -m kiosk.reliability.network_worker DATA_DIR URL BRANCH KIOSK_ID SEED ITEMS PATRONS BRANCH_NO`

It talks to the central database only through `URL` (the fault proxy), keeps its journal in `DATA_DIR` as a real
kiosk does, and reports on stdout: `ready`, then a JSON status line every 100 ms (online?, backlog, counts) so the
harness can see when the link is down and when a replay is under way. On stdin it obeys `quiet` (stop serving
residents: the harness wants the journal to drain) and `exit`. Started again on the same DATA_DIR after a SIGKILL,
it finds its journal and replays what is pending, which is the point.
"""

from __future__ import annotations

import json
import logging
import random
import sys
import threading
from pathlib import Path

from catalog.db import Database
from kiosk.config import DatabaseSettings, KioskSettings, Settings
from kiosk.lending.errors import Refusal
from kiosk.offline.backend import OfflineCirculation, open_offline_circulation

PROBE_S = 0.25
SWITCH_AFTER_S = 1.0


def card_key(branch_no: int, n: int) -> str:
    """The (already hashed, as everywhere in the kiosk) card key of resident `n` of branch `branch_no`."""
    return f"{branch_no:02x}{n:062x}"


def barcode(n: int) -> str:
    return f"N{n:05d}"


def kiosk_settings(data_dir: Path, url: str, branch: str, kiosk_id: str) -> Settings:
    """A kiosk whose offline switch is quick: the run has seconds, not hours, for each fault."""
    return Settings(config_file=None, data_dir=data_dir, secret_file=data_dir / "network.secret",
                    database=DatabaseSettings(url=url, connect_timeout_s=1.0, statement_timeout_s=3.0),
                    kiosk=KioskSettings(id=kiosk_id, branch=branch),
                    extra={"offline": {"enabled": True, "probe_s": PROBE_S, "switch_after_s": SWITCH_AFTER_S,
                                       "refresh_s": 5.0, "max_loans": 3}})


class Kiosk:
    def __init__(self, circ: OfflineCirculation, rng: random.Random, items: int, patrons: list[int]) -> None:
        self.circ = circ
        self.rng = rng
        self.items = items
        self.patrons = patrons
        self.lent: list[str] = []
        self.counts = {"actions": 0, "done": 0, "pending": 0, "refused": 0, "errors": 0}
        self.quiet = threading.Event()
        self.stop = threading.Event()

    def act(self) -> None:
        """One resident at the kiosk: mostly borrowing and returning (also books lent at other branches)."""
        rng, circ = self.rng, self.circ
        roll = rng.random()
        self.counts["actions"] += 1
        result: object
        try:
            if roll < 0.5:
                code = barcode(rng.randrange(self.items))
                result = circ.checkout(rng.choice(self.patrons), code)
                self.lent.append(code)
            elif roll < 0.9:
                mine = self.lent and rng.random() < 0.7
                code = self.lent.pop(rng.randrange(len(self.lent))) if mine else barcode(rng.randrange(self.items))
                result = circ.checkin(code)
            else:
                patron = rng.choice(self.patrons)
                loans = circ.standing(patron).loans
                if not loans:
                    return
                result = circ.renew(patron, rng.choice(loans).loan_id)
        except Refusal:
            self.counts["refused"] += 1
            return
        except Exception as error:  # the harness counts these as failures: a kiosk must not crash on the network
            self.counts["errors"] += 1
            print(f"error: {type(error).__name__}: {str(error)[:300]}", file=sys.stderr, flush=True)
            return
        self.counts["pending" if getattr(result, "pending", False) else "done"] += 1

    def report(self) -> None:
        while not self.stop.is_set():
            status = {"online": self.circ.is_online, "backlog": self.circ.backlog(), **self.counts}
            print(json.dumps(status), flush=True)
            self.stop.wait(0.1)

    def listen(self) -> None:
        for line in sys.stdin:
            if line.strip() == "quiet":
                self.quiet.set()
            elif line.strip() == "exit":
                break
        self.stop.set()


def main(data_dir: Path, url: str, branch: str, kiosk_id: str, seed: int, items: int, patrons: int,
         branch_no: int) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    # Named records, so a traceback on stderr says which part of the kiosk (or which library) logged it.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    settings = kiosk_settings(data_dir, url, branch, kiosk_id)
    db = Database.from_url(url, connect_timeout_s=1.0, statement_timeout_s=3.0)
    circ = open_offline_circulation(settings, db, start=False)
    circ.branch()
    if circ.is_online:
        circ.refresh_cache(full=True)
    ids = [circ.find_patron(card_key(branch_no, n)) for n in range(patrons)]
    kiosk = Kiosk(circ, random.Random(seed), items, [i for i in ids if i is not None])
    circ.start()
    print("ready", flush=True)
    status = threading.Thread(target=kiosk.report, name="status", daemon=True)
    status.start()
    threading.Thread(target=kiosk.listen, name="commands", daemon=True).start()
    while not kiosk.stop.is_set():
        if not kiosk.quiet.is_set():
            kiosk.act()
        kiosk.stop.wait(kiosk.rng.uniform(0.01, 0.04))
    status.join(5)  # it reads the journal: not after close()
    circ.close()
    db.dispose()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], *(int(a) for a in sys.argv[5:9]))
