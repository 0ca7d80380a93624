"""ID-card reader timing: placement → `CardPresented`, and reconnection after the reader comes back.

Runs the real driver against `sim:idcard` on a pty, with the simulator pacing its bytes like a 115200-baud UART
(the 1295-byte read reply alone takes ~112 ms on a real wire). Targets (issue 3): ≤ 1 s from placement to event at
the default poll interval; ≤ 2 s from the reader's return to `connected`.

    .venv/bin/python bench/bench_idcard.py [--placements 20] [--replugs 10]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

from devices.events import CardPresented, DeviceEvent, DeviceHealth, HealthState
from devices.idcard.demo_cards import DEMO_CARDS
from devices.idcard.reader import DEFAULT_POLL_INTERVAL, IdCardReader
from devices.idcard.simulator import IdCardSimulator
from devices.simulators.registry import start_simulator, stop_all


class Watcher:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.presented: list[float] = []
        self.health: list[tuple[float, HealthState]] = []

    def __call__(self, event: DeviceEvent) -> None:
        now = time.monotonic()
        with self.cond:
            if isinstance(event, CardPresented):
                self.presented.append(now)
            elif isinstance(event, DeviceHealth):
                self.health.append((now, event.state))
            self.cond.notify_all()

    def wait(self, predicate: object, timeout: float = 10.0) -> None:
        with self.cond:
            if not self.cond.wait_for(predicate, timeout):  # type: ignore[arg-type]
                raise SystemExit("benchmark timed out")


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return (
        f"n={len(values)} mean={statistics.mean(values) * 1000:.0f} ms p95={p95 * 1000:.0f} ms "
        f"max={max(values) * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--placements", type=int, default=20)
    parser.add_argument("--replugs", type=int, default=10)
    parser.add_argument("--baud", type=int, default=115200)
    args = parser.parse_args()
    rng = random.Random(1)
    link = Path(tempfile.mkdtemp()) / "idcard"
    simulator = start_simulator("idcard", "bench", link=str(link))
    assert isinstance(simulator, IdCardSimulator)
    simulator.wire_baud = args.baud
    watcher = Watcher()
    reader = IdCardReader(str(link), watcher, name="idcard", secret=bytes(32))
    reader.start()
    watcher.wait(lambda: any(s is HealthState.CONNECTED for _, s in watcher.health))

    latencies: list[float] = []
    for index in range(args.placements):
        time.sleep(rng.uniform(0.2, 0.8))  # placements fall at any phase of the poll cycle
        count = len(watcher.presented)
        placed = time.monotonic()
        simulator.place_card(DEMO_CARDS[index % len(DEMO_CARDS)])
        watcher.wait(lambda count=count: len(watcher.presented) > count)
        latencies.append(watcher.presented[-1] - placed)
        simulator.lift_card()

    reconnects: list[float] = []
    for _ in range(args.replugs):
        mark = len(watcher.health)
        simulator.unplug()
        watcher.wait(lambda mark=mark: any(s is HealthState.RECONNECTING for _, s in watcher.health[mark:]))
        time.sleep(rng.uniform(1.0, 4.0))  # long enough for the backoff to reach its cap
        mark = len(watcher.health)
        back = time.monotonic()
        simulator.replug()
        watcher.wait(lambda mark=mark: any(s is HealthState.CONNECTED for _, s in watcher.health[mark:]))
        connected_at = next(t for t, s in watcher.health[mark:] if s is HealthState.CONNECTED)
        reconnects.append(connected_at - back)

    reader.stop()
    stop_all()
    print(f"poll interval {DEFAULT_POLL_INTERVAL} s, simulated wire {args.baud} baud")
    print(f"placement -> CardPresented: {summary(latencies)}")
    print(f"device back -> connected:   {summary(reconnects)}")


if __name__ == "__main__":
    main()
