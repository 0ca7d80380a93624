"""From the wire to the reports: the real door-counter driver reads the simulator over a pty, its `DoorCount`
events go through ingest, and deltas, the reset and occupancy come out right."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from catalog.db import Database
from devices.doorcounter.driver import DoorCounter
from devices.doorcounter.simulator import DoorCounterSimulator
from devices.events import DeviceEvent, DoorCount
from devices.simulators.registry import get_simulator, start_simulator, stop_all
from kiosk.traffic.ingest import ingest
from kiosk.traffic.occupancy import occupancy_now
from kiosk.traffic.settings import TrafficSettings

WAIT_S = 10.0


class Counts:
    """Collects `DoorCount` events from the driver thread."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.counts: list[DoorCount] = []

    def __call__(self, event: DeviceEvent) -> None:
        if isinstance(event, DoorCount):
            with self.cond:
                self.counts.append(event)
                self.cond.notify_all()

    def wait(self, n: int) -> list[DoorCount]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.counts) >= n, timeout=WAIT_S), f"only {self.counts}"
            return list(self.counts)


@pytest.fixture
def counter() -> Iterator[tuple[DoorCounter, Counts]]:
    seen = Counts()
    start_simulator("door-counter", "traffic-door")
    driver = DoorCounter("sim:door-counter?name=traffic-door", seen, name="door-1")
    driver.start()
    try:
        yield driver, seen
    finally:
        driver.stop()
        stop_all()


def test_driver_events_to_visits_and_occupancy(database: Database, add_branch: Callable[..., int],
                                               counter: tuple[DoorCounter, Counts]) -> None:
    add_branch("B1", capacity=10)
    _driver, seen = counter
    sim = get_simulator("traffic-door")
    assert isinstance(sim, DoorCounterSimulator)
    # The driver connects in its own thread; re-report the baseline until it has been read once.
    with seen.cond:
        for _ in range(int(WAIT_S * 10)):
            sim.report()
            if seen.cond.wait_for(lambda: bool(seen.counts), timeout=0.1):
                break
    start = len(seen.counts)
    sim.walk_in(3)
    sim.walk_out(1)
    sim.reset()  # power loss: the next report starts from zero and says so
    sim.walk_in(2)
    events = seen.wait(start + 3)
    assert "reset" in events[-1].flags and (events[-1].total_in, events[-1].total_out) == (2, 0)

    result = ingest(database, "B1", events, TrafficSettings())
    assert result.resets == 1
    assert (result.visits_in, result.visits_out) == (5.0, 1.0)
    view = occupancy_now(database, "B1", TrafficSettings(quiet_hour=None), now=datetime.now(UTC))
    assert (view.people, view.level) == (4, "comfortable")
