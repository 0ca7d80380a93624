"""A kiosk process for the SIGKILL test: forwards its SIP2 offline journal to the server until done (or killed)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from catalog.db import Database
from kiosk.sip2.client import Sip2Client
from kiosk.sip2.store_forward import StoreForward


def main(url: str, journal_path: str, port: str) -> None:
    db = Database.from_url(url, connect_timeout_s=1)
    store = StoreForward.open(Path(journal_path), "kiosk-1", db, max_loans=100, enabled=True)
    with Sip2Client("127.0.0.1", int(port), user="sc1", password="pw", location="kiosk-1", institution="XW01",
                    timeout_s=5.0) as client:
        assert client.login()
        report = store.forward(client, lambda: datetime.now(UTC))
    print(f"done {report.applied} {report.exceptions}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
