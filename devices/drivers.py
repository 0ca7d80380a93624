"""Device kinds: which driver class serves `kiosk devices listen KIND`, the app's device wiring and `kiosk doctor`.

Each device package registers its kinds in a module `devices/<package>/kinds.py` (driver and simulator), which is
discovered and imported on first use, so a new package (door counter, printer, relay) never edits this file:

    # devices/doorcounter/kinds.py
    from devices.drivers import DriverKind, register_driver
    register_driver(DriverKind("door-counter", DoorCounter, "People counter at the door", default_baudrate=9600))

`DriverKind.create(url, on_event, name=..., secret=..., **options)` builds the driver; `needs_secret` kinds (card
readers, which hash numbers with the network secret) receive `secret`, the others do not.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from devices.events import DeviceEvent, DeviceHealth

log = logging.getLogger(__name__)


class Driver(Protocol):
    """What every driver offers, serial or not (the camera scanner is not a `SerialDevice` but honours this)."""

    name: str

    def start(self) -> None: ...

    def stop(self, timeout: float = 2.0) -> bool: ...

    @property
    def health(self) -> DeviceHealth: ...


@dataclass(frozen=True)
class DriverKind:
    kind: str
    factory: Callable[..., Driver]
    description: str = ""
    needs_secret: bool = False
    simulator: str | None = None
    """Simulator kind that speaks this device's bytes (for `sim:` URLs and `kiosk simulate`); None: none."""

    def create(
        self,
        url: str,
        on_event: Callable[[DeviceEvent], None],
        *,
        name: str | None = None,
        secret: bytes | None = None,
        **options: Any,
    ) -> Driver:
        if self.needs_secret:
            if secret is None:
                raise ValueError(f"device kind {self.kind!r} needs the network secret")
            options["secret"] = secret
        return self.factory(url, on_event, name=name or self.kind, **options)


_kinds: dict[str, DriverKind] = {}
_lock = threading.RLock()
_loaded = False


def register_driver(kind: DriverKind) -> None:
    with _lock:
        _kinds[kind.kind] = kind


def load_device_kinds() -> None:
    """Import every `devices.<package>.kinds` module once; each registers its drivers and simulators."""
    global _loaded
    with _lock:
        if _loaded:
            return
        _loaded = True
        import devices

        for module in sorted(pkgutil.iter_modules(devices.__path__), key=lambda m: m.name):
            if not module.ispkg:
                continue
            name = f"devices.{module.name}.kinds"
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:
                    log.warning("device kinds of %s not loaded: %s", module.name, exc)
            except Exception:
                log.exception("device kinds of %s failed to load", module.name)


def driver_kind(kind: str) -> DriverKind:
    load_device_kinds()
    with _lock:
        found = _kinds.get(kind)
        if found is None:
            raise KeyError(f"unknown device kind {kind!r}; known: {', '.join(sorted(_kinds))}")
        return found


def driver_kinds() -> list[DriverKind]:
    load_device_kinds()
    with _lock:
        return [_kinds[k] for k in sorted(_kinds)]
