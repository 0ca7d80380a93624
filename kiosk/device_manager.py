"""The kiosk's devices as one unit: built from settings, started and stopped together, their events routed.

Drivers post events from their own threads; the manager only forwards them (to the session runner, the traffic
recorder, …) and remembers each device's latest health for the staff screen and `kiosk doctor`. It never blocks a
driver thread: sinks must return at once (the session runner queues).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from devices.drivers import Driver, driver_kind
from devices.events import DeviceEvent, DeviceHealth, HealthState
from kiosk.config import Settings
from kiosk.devices_check import ConfiguredDevice, configured_devices

log = logging.getLogger(__name__)

EventSink = Callable[[DeviceEvent], None]


class DeviceManager:
    def __init__(self, settings: Settings, secret: bytes, sink: EventSink) -> None:
        self._settings = settings
        self._secret = secret
        self._sink = sink
        self._lock = threading.Lock()
        self._health: dict[str, DeviceHealth] = {}
        self.drivers: dict[str, Driver] = {}
        self.configured: list[ConfiguredDevice] = configured_devices(settings)

    def _options(self, device: ConfiguredDevice) -> dict[str, object]:
        d = self._settings.devices
        if device.kind == "idcard":
            return {"poll_interval": d.idcard_poll_interval_s}
        if device.kind == "scanner":
            return {"terminator": d.scanner_terminator}
        if device.kind == "printer":
            return {"encoding": d.printer_encoding}
        return {}

    def _on_event(self, event: DeviceEvent) -> None:
        if isinstance(event, DeviceHealth):
            with self._lock:
                self._health[event.device] = event
            if event.state in (HealthState.FAILED, HealthState.RECONNECTING):
                log.warning("device %s is %s: %s", event.device, event.state, event.reason)
        try:
            self._sink(event)
        except Exception:
            log.exception("event sink failed on %s", type(event).__name__)

    def start(self) -> None:
        for device in self.configured:
            if device.kind == "wedge":
                continue
            try:
                kind = driver_kind(device.kind)
                driver = kind.create(device.url, self._on_event, name=device.slot, secret=self._secret,
                                     **self._options(device))
            except Exception as exc:
                # A missing or misconfigured device must not stop the kiosk: report it and carry on.
                log.error("device %s (%s at %s) not started: %s", device.slot, device.kind, device.url, exc)
                self._on_event(DeviceHealth(device.slot, HealthState.FAILED, str(exc)))
                continue
            self.drivers[device.slot] = driver
            driver.start()

    def stop(self) -> None:
        for name, driver in list(self.drivers.items()):
            if not driver.stop():
                log.warning("device %s did not stop in time", name)
        self.drivers.clear()

    def health(self) -> dict[str, DeviceHealth]:
        with self._lock:
            known = dict(self._health)
        for name, driver in self.drivers.items():
            known.setdefault(name, driver.health)
        return known
