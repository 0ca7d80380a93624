"""The reconnecting reader-thread base, through a scanner driver on real ptys."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from devices.connection import Backoff
from devices.drivers import driver_kind, driver_kinds
from devices.events import BarcodeScanned, DeviceEvent, HealthState
from devices.scanner.serial_scanner import SerialScanner
from devices.simulators.line import ScannerSimulator
from devices.simulators.registry import simulator_kinds, start_simulator

from .conftest import EventLog, wait_until


def test_backoff_is_capped_exponential_with_jitter() -> None:
    backoff = Backoff(initial=0.05, factor=2.0, cap=1.0, jitter=0.5)
    rng = random.Random(3)
    for attempt in range(40):
        base = min(1.0, 0.05 * 2**attempt)
        delays = {backoff.delay(attempt, rng) for _ in range(20)}
        assert all(base * 0.5 <= d <= base for d in delays)
        assert len(delays) > 1  # jittered: kiosks restarting together do not retry in lockstep


def test_builtin_kinds_are_registered() -> None:
    kinds = {k.kind for k in driver_kinds()}
    assert {"idcard", "scanner", "em4100", "card-line", "social-security"} <= kinds
    assert {"idcard", "scanner", "em4100", "card-line"} <= set(simulator_kinds())
    assert driver_kind("idcard").needs_secret and not driver_kind("scanner").needs_secret
    with pytest.raises(KeyError):
        driver_kind("teapot")


@pytest.mark.usefixtures("leak_check")
def test_replugs_leak_nothing_and_a_failing_consumer_does_not_kill_the_reader(
    events: EventLog, tmp_path: Path
) -> None:
    link = tmp_path / "scanner"
    simulator = start_simulator("scanner", "flaky", link=str(link))
    assert isinstance(simulator, ScannerSimulator)

    def consumer(event: DeviceEvent) -> None:
        events(event)
        if isinstance(event, BarcodeScanned) and event.code == "BOOM":
            raise RuntimeError("a bug in the consumer")

    scanner = SerialScanner(str(link), consumer, name="scanner")
    scanner.start()
    try:
        for round_number in range(5):
            mark = len(events.events)
            events.wait_for(lambda: scanner.health.state is HealthState.CONNECTED, "connected")
            simulator.scan("BOOM")
            simulator.scan(f"TS{round_number:07d}")
            events.wait_count(BarcodeScanned, 2 * (round_number + 1))
            simulator.unplug()
            events.wait_health(HealthState.RECONNECTING, after=mark)
            simulator.replug()
        events.wait_for(lambda: scanner.health.state is HealthState.CONNECTED, "connected")
        assert scanner.health.last_event_at is not None
        assert [e.code for e in events.of(BarcodeScanned)][1::2] == [f"TS{n:07d}" for n in range(5)]
    finally:
        assert scanner.stop()
    wait_until(lambda: not scanner.running, "scanner thread to end")
    assert scanner.health.state is HealthState.STOPPED
