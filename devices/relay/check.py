"""What `kiosk entry test --url …` runs for an installer: pulse the relay once and show what the door sensor saw.

Kept here, next to the driver, so the entry command stays a thin CLI: `check_relay(url, …)` starts the real driver,
waits for the port, pulses, waits for the pulse to end (the relay is then OFF again, whatever happened) and stops.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from devices.events import DeviceEvent, DeviceFault, DeviceHealth, DoorSensorChanged, HealthState
from devices.relay.driver import DoorRelay, RelayNotConnected


@dataclass(frozen=True)
class RelayCheck:
    connected: bool
    pulsed: bool
    door_states: tuple[bool, ...] = ()
    """Every door-sensor change seen during the check (True: open), in order."""
    faults: tuple[str, ...] = ()
    reason: str = ""
    events: list[DeviceEvent] = field(default_factory=list, compare=False)


def check_relay(
    url: str, *, seconds: float = 1.0, connect_timeout: float = 5.0, settle: float = 0.5, **options: Any
) -> RelayCheck:
    """Pulse the relay at `url` for `seconds`; `options` go to `DoorRelay` (protocol, channel, sensor, …)."""
    seen: list[DeviceEvent] = []
    changed = threading.Condition()

    def on_event(event: DeviceEvent) -> None:
        with changed:
            seen.append(event)
            changed.notify_all()

    relay = DoorRelay(url, on_event, name="door-relay", pulse_s=seconds, **options)
    relay.start()
    try:
        with changed:
            changed.wait_for(lambda: relay.health.state in (HealthState.CONNECTED, HealthState.FAILED), connect_timeout)
        if relay.health.state is not HealthState.CONNECTED:
            return RelayCheck(False, False, reason=relay.health.reason or relay.health.state.value, events=seen)
        try:
            relay.pulse(seconds)
        except RelayNotConnected as exc:
            return RelayCheck(True, False, reason=str(exc), events=seen)
        deadline = time.monotonic() + seconds + settle
        while relay.energised and time.monotonic() < deadline + 1.0:
            time.sleep(0.02)
        time.sleep(max(0.0, deadline - time.monotonic()))
    finally:
        relay.stop()
    doors = tuple(e.is_open for e in seen if isinstance(e, DoorSensorChanged))
    faults = tuple(e.code for e in seen if isinstance(e, DeviceFault))
    health = [e for e in seen if isinstance(e, DeviceHealth)]
    return RelayCheck(True, True, doors, faults, health[-1].reason if health else "", events=seen)
