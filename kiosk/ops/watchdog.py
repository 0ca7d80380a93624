"""Watchdog pings that mean "the kiosk core is alive", not merely "the process exists".

A ping thread that pings unconditionally would keep a deadlocked kiosk alive forever: the thread runs, the core
does not. So the core calls `Heartbeat.beat()` from its own loop (the UI clock, the session's event loop), and
`ServiceWatchdog` pings systemd only while the last beat is younger than `stale_after_s`. A hung core stops the
pings; after `WatchdogSec` systemd kills and restarts the service (`Restart=always`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kiosk.ops.sdnotify import SystemdNotifier

log = logging.getLogger(__name__)


class Heartbeat:
    """The core's proof of life: a monotonic timestamp behind a lock, cheap enough to beat on every UI frame."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._last = clock()

    def beat(self) -> None:
        with self._lock:
            self._last = self._clock()

    def age_s(self) -> float:
        with self._lock:
            return self._clock() - self._last


class ServiceWatchdog:
    """READY at start, WATCHDOG pings while the heartbeat is fresh, STOPPING at the end.

    The ping interval is half of systemd's `WatchdogSec` (as sd_watchdog_enabled(3) advises); `stale_after_s`
    defaults to that interval too, so a core that misses a whole interval stops the pings well before systemd's
    deadline would be met by a stale ping.
    """

    def __init__(self, notifier: SystemdNotifier, heartbeat: Heartbeat, *,
                 stale_after_s: float | None = None, interval_s: float | None = None) -> None:
        self.notifier = notifier
        self.heartbeat = heartbeat
        systemd_s = notifier.watchdog_interval_s
        self.interval_s = interval_s or (systemd_s / 2 if systemd_s else 5.0)
        self.stale_after_s = stale_after_s or max(self.interval_s, 1.0)
        self.pings = 0
        self.withheld = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._was_stale = False

    def tick(self) -> bool:
        """One decision: ping if the core beat recently. Returns whether a ping was sent."""
        age = self.heartbeat.age_s()
        if age > self.stale_after_s:
            self.withheld += 1
            if not self._was_stale:
                log.error("kiosk core silent for %.1f s: withholding watchdog pings so systemd restarts it", age)
                self.notifier.status(f"core silent for {age:.0f} s")
            self._was_stale = True
            return False
        if self._was_stale:
            log.warning("kiosk core beating again after a silence")
            self._was_stale = False
        self.pings += 1
        return self.notifier.ping()

    def start(self, status: str = "running") -> None:
        self.heartbeat.beat()
        self.notifier.ready(status)
        if self.notifier.watchdog_interval_s is None and self.notifier.enabled:
            log.info("systemd watchdog not enabled for this unit (no WatchdogSec): sending READY only")
        self._thread = threading.Thread(target=self._run, name="systemd-watchdog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.tick()

    def stop(self) -> None:
        """Stop pinging first, then say STOPPING, so no ping can follow the goodbye."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s + 1)
            self._thread = None
        self.notifier.stopping()
