"""Fixtures for device tests: an event log to wait on, simulator teardown, and a leak check for threads and fds."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from devices.events import DeviceEvent, DeviceHealth, HealthState
from devices.simulators.registry import stop_all

E = TypeVar("E")
WAIT_S = 10.0
"""Generous deadline for conditions that normally hold within milliseconds: a slow CI box must not fail a test."""


class EventLog:
    """The `on_event` callback of a driver under test; tests wait on conditions instead of sleeping."""

    def __init__(self) -> None:
        self.events: list[DeviceEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: DeviceEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def of(self, kind: type[E]) -> list[E]:
        with self._cond:
            return [e for e in self.events if isinstance(e, kind)]

    def wait_for(self, condition: Callable[[], object], what: str, timeout: float = WAIT_S) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: bool(condition()), timeout):
                pytest.fail(f"timed out waiting for {what}; events: {self.events}")

    def wait_count(self, kind: type[E], count: int, timeout: float = WAIT_S) -> list[E]:
        self.wait_for(lambda: len(self.of(kind)) >= count, f"{count} × {kind.__name__}", timeout)
        return self.of(kind)

    def wait_health(self, state: HealthState, *, after: int = 0, timeout: float = WAIT_S) -> DeviceHealth:
        """Wait for a health event in `state` among the events from index `after` on."""

        def found() -> DeviceHealth | None:
            return next(
                (e for e in self.events[after:] if isinstance(e, DeviceHealth) and e.state == state),
                None,
            )

        self.wait_for(found, f"health {state.value}", timeout)
        result = found()
        assert result is not None
        return result


def wait_until(condition: Callable[[], object], what: str, timeout: float = WAIT_S) -> None:
    event = threading.Event()
    deadline_step = 0.005
    waited = 0.0
    while not condition():
        if waited >= timeout:
            pytest.fail(f"timed out waiting for {what}")
        event.wait(deadline_step)
        waited += deadline_step


@pytest.fixture
def events() -> EventLog:
    return EventLog()


@pytest.fixture(autouse=True)
def _stop_simulators() -> Iterator[None]:
    yield
    stop_all()


def open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


@pytest.fixture
def leak_check() -> Iterator[None]:
    """Fails the test if it leaves threads or file descriptors behind (after stopping drivers and simulators)."""
    threads_before = set(threading.enumerate())
    fds_before = open_fds()
    yield
    stop_all()
    wait_until(lambda: set(threading.enumerate()) <= threads_before, "threads to end", timeout=5.0)
    leaked = open_fds() - fds_before
    # /proc/self/fd itself is open while listing; anything else is a leak.
    assert not {fd for fd in leaked if os.path.exists(f"/proc/self/fd/{fd}")}, f"leaked fds: {leaked}"
