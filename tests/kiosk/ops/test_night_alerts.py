"""Night alerts end to end: the real printer driver on its simulator runs out of paper, a resident presses help;
the kiosk runtime, `OpsRuntime`'s dispatcher and its outbox carry both to a real HTTP server that fails at first.

What must hold: paper-out arrives as `paper_out` (not a generic device failure) exactly once however many receipts
are refused while it lasts, the failed deliveries are retried with the same alert id, and "resolved" follows once
paper is loaded and a receipt prints again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from catalog.db import Database
from catalog.demo import load_demo
from devices.simulators.registry import get_simulator
from kiosk.config import DeviceSettings, Settings
from kiosk.ops.service import OpsRuntime
from kiosk.runtime import KioskRuntime
from kiosk.secret import load_or_create_secret
from tests.kiosk.ops.conftest import WebhookServer


def test_paper_out_and_help_reach_the_librarian_once_each(make_settings: Callable[..., Settings],
                                                          sqlite_database: Database, webhook: WebhookServer) -> None:
    settings = make_settings(url=str(sqlite_database.engine.url),
                             alerts={"webhook_url": webhook.url, "retry_initial_s": 0.2, "retry_max_s": 0.5})
    settings = replace(settings, devices=DeviceSettings(printer="sim:printer?name=night-print"))
    load_or_create_secret(settings.secret_file, may_create=True)
    load_demo(sqlite_database, titles=5, branch_code=settings.kiosk.branch, seed=1)
    webhook.fail_next = 2  # the ops server is restarting: the first two POSTs get 500
    ops = OpsRuntime(settings)
    ops.start(maintenance=False)
    runtime = KioskRuntime(settings, alerts=ops.alerts)
    try:
        runtime.start()
        printer = runtime.machine.printer
        assert printer is not None
        deadline = time.monotonic() + 10
        while get_simulator("night-print") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        simulator = get_simulator("night-print")
        assert simulator is not None
        simulator.paper_out()  # type: ignore[attr-defined]
        assert printer.print_receipt(["借书凭条"], None) == "receipt.paper_out"
        # The next resident is told before choosing paper (the receipt question reads this, without a query).
        assert printer.known_problem() == "receipt.paper_out"
        assert printer.print_receipt(["借书凭条"], None) == "receipt.paper_out"  # the next resident, same roll
        runtime.help_requested()
        alerts = webhook.wait_for(2)
        simulator.paper_loaded()  # type: ignore[attr-defined]
        assert printer.print_receipt(["借书凭条"], None) is None
        assert printer.known_problem() is None
        alerts = webhook.wait_for(3)
        time.sleep(1.0)  # room for a duplicate to show up, if there were one
    finally:
        runtime.stop()
        ops.stop()
    seen = [(a["kind"], a["state"]) for a in webhook.received]
    assert sorted(seen) == sorted([("paper_out", "raised"), ("help_button", "raised"), ("paper_out", "resolved")])
    assert seen.index(("paper_out", "raised")) < seen.index(("paper_out", "resolved"))
    keys = [h.get("Idempotency-Key") for h in webhook.headers]
    assert len(set(keys)) == 3 and all(keys)
    assert all("printer" in a["subject"] for a in alerts if a["kind"] == "paper_out")


@pytest.fixture(autouse=True)
def _stop_simulators() -> Iterator[None]:
    yield
    from devices.simulators.registry import stop_all

    stop_all()
