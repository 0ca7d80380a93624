"""Which simulator kinds exist and which simulators are running in this process.

A `sim:idcard?name=front` URL starts the `idcard` simulator named `front` on first use and reuses it afterwards, so
the demo and tests can fetch the running instance with `get_simulator("front")` and script it while the driver
reads its pty. Kinds register themselves from `devices/<package>/kinds.py` modules (discovered on first use, like
the CLI's `*_cmd` modules), so a new device package never edits this file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from devices.errors import TransportError
from devices.simulators.base import Simulator

SimulatorFactory = Callable[..., Simulator]
"""`factory(name=str, **options) -> Simulator`; options arrive as strings from a URL or typed from Python."""

_factories: dict[str, SimulatorFactory] = {}
_running: dict[str, Simulator] = {}
_lock = threading.RLock()


def register_simulator(kind: str, factory: SimulatorFactory) -> None:
    """Make `sim:<kind>` available. Registering a kind again replaces its factory (handy in tests)."""
    with _lock:
        _factories[kind] = factory


def simulator_kinds() -> list[str]:
    from devices.drivers import load_device_kinds

    load_device_kinds()
    with _lock:
        return sorted(_factories)


def start_simulator(kind: str, name: str | None = None, *, serve_pty: bool = True, **options: Any) -> Simulator:
    """Start (or reuse, by `name`) an in-process simulator of `kind` serving on a pty.

    `name` defaults to the kind. Asking for a running name with another kind is an error: two devices cannot share
    one name.
    """
    from devices.drivers import load_device_kinds

    load_device_kinds()
    name = name or kind
    with _lock:
        running = _running.get(name)
        if running is not None:
            if running.kind != kind:
                raise TransportError(f"simulator {name!r} is already running as {running.kind!r}, not {kind!r}")
            return running
        factory = _factories.get(kind)
        if factory is None:
            known = ", ".join(sorted(_factories)) or "none"
            raise TransportError(f"no simulator of kind {kind!r} (known: {known})")
        simulator = factory(name=name, **options)
        if serve_pty:
            simulator.open_pty()
        _running[name] = simulator
        return simulator


def get_simulator(name: str) -> Simulator | None:
    """The running simulator called `name`, if any."""
    with _lock:
        return _running.get(name)


def stop_simulator(name: str) -> None:
    with _lock:
        simulator = _running.pop(name, None)
    if simulator is not None:
        simulator.stop()


def stop_all() -> None:
    """Stop every running simulator (tests call this in teardown; the app on exit)."""
    with _lock:
        simulators = list(_running.values())
        _running.clear()
    for simulator in simulators:
        simulator.stop()
