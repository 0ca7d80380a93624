"""The reader-thread base every serial driver builds on: open by URL, read, reconnect, publish health, stop cleanly.

Shaped like pyserial's `serial.threaded.ReaderThread` + `Protocol` (`connection_made` / `data_received` /
`connection_lost`), with what that class leaves out: pyserial never reconnects (pyserial issue #558), so this loop
closes the port on any error, waits a capped exponential backoff with jitter (Electrum's `NetworkRetryManager`
idea: many kiosks restarting after a power cut must not hammer a shared server or USB hub in lockstep), and opens
the URL again. The cap is kept at 1 s so a replugged reader is back within the 2 s the product promises.

Health (`devices.events.DeviceHealth`) is published through `on_event` on every change and readable as `.health`:
`connecting` → `connected`; an I/O error → `reconnecting` (+ reason) until the port opens again; the device
reporting it cannot work (`DeviceFailure`, e.g. SAM self-test failed) → `failed` (+ reason) while retrying; a URL
that can never open (typo, unknown simulator kind) → `failed` and the thread ends; `stop()` → `stopped`.

Driver contract, shared by every driver in `devices/`:
`Driver(url: str, on_event: Callable[[DeviceEvent], None], *, name: str, **options)`, `.start()`,
`.stop(timeout=2.0)`, `.health`. `on_event` is called on the reader thread; the core puts events on its queue.
"""

from __future__ import annotations

import logging
import random
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import serial

from devices.errors import DeviceError, DeviceFailure, TransportError
from devices.events import DeviceEvent, DeviceHealth, HealthState
from devices.transport import bytes_waiting, open_transport

log = logging.getLogger(__name__)

EventSink = Callable[[DeviceEvent], None]
PortOpener = Callable[..., serial.SerialBase]


@dataclass(frozen=True)
class Backoff:
    """Delay before reconnect attempt n (0-based): `min(cap, initial * factor**n)`, minus up to `jitter` of it."""

    initial: float = 0.05
    factor: float = 2.0
    cap: float = 1.0
    jitter: float = 0.5

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        base = min(self.cap, self.initial * self.factor ** min(attempt, 32))
        return base * (1.0 - self.jitter * (rng or random).random())


class SerialDevice:
    """Base of the serial drivers. Subclasses override the hooks; the default `run_connection` reads whatever
    arrives and hands it to `data_received` (stream devices: scanners, card-number readers, door counters).
    Request/response devices (ID-card reader) override `run_connection` and talk to `port` themselves.
    """

    default_baudrate: ClassVar[int] = 9600
    read_timeout: ClassVar[float] = 0.1
    """Each read returns after at most this long, so `stop()` is honoured promptly."""

    def __init__(
        self,
        url: str,
        on_event: EventSink,
        *,
        name: str,
        baudrate: int | None = None,
        backoff: Backoff | None = None,
        open_port: PortOpener = open_transport,
    ) -> None:
        self.url = url
        self.name = name
        self.baudrate = baudrate or self.default_baudrate
        self.backoff = backoff or Backoff()
        self._on_event = on_event
        self._open_port = open_port
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._health_lock = threading.Lock()
        self._last_event_at: float | None = None
        self._health = DeviceHealth(device=name, state=HealthState.STOPPED)
        self._rng = random.Random()
        self.connections = 0
        """Successful connections so far (1 after the first open, +1 per reconnect)."""

    # -- public API ----------------------------------------------------------------------------------------------

    @property
    def health(self) -> DeviceHealth:
        with self._health_lock:
            return self._health

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._set_health(HealthState.CONNECTING)
        self._thread = threading.Thread(target=self._run, name=f"device-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> bool:
        """Ask the thread to end, wait up to `timeout`; True when it ended (port closed, no thread left)."""
        self._stop.set()
        thread = self._thread
        if thread is None:
            return True
        if thread is not threading.current_thread():
            thread.join(timeout)
        if thread.is_alive():
            log.warning("device %s did not stop within %.1f s", self.name, timeout)
            return False
        self._thread = None
        return True

    # -- hooks for subclasses ------------------------------------------------------------------------------------

    def connection_made(self, port: serial.SerialBase) -> None:
        """The port is open; raise `DeviceFailure` if the device says it cannot work."""

    def data_received(self, data: bytes) -> None:
        """Bytes from the device (default `run_connection` only)."""

    def connection_lost(self, exc: BaseException | None) -> None:
        """The port was closed (None: by `stop()`); drop partial frames here."""

    def run_connection(self, port: serial.SerialBase) -> None:
        """Talk to the device until `stopping` or an exception (which ends this connection)."""
        while not self.stopping:
            data = port.read(bytes_waiting(port) or 1)
            if data:
                self.data_received(data)

    # -- helpers for subclasses ----------------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep unless stopped; True when `stop()` was called."""
        return self._stop.wait(seconds)

    def emit(self, event: DeviceEvent) -> None:
        if not isinstance(event, DeviceHealth):
            with self._health_lock:
                self._last_event_at = time.monotonic()
                self._health = DeviceHealth(
                    device=self.name,
                    state=self._health.state,
                    reason=self._health.reason,
                    last_event_at=self._last_event_at,
                )
        try:
            self._on_event(event)
        except Exception:  # a consumer bug must not kill the reader thread
            log.exception("event handler failed for device %s", self.name)

    # -- the loop ------------------------------------------------------------------------------------------------

    def _set_health(self, state: HealthState, reason: str = "") -> None:
        with self._health_lock:
            if self._health.state == state and self._health.reason == reason:
                return
            self._health = DeviceHealth(device=self.name, state=state, reason=reason, last_event_at=self._last_event_at)
            health = self._health
        log.info("device %s: %s%s", self.name, state.value, f" ({reason})" if reason else "")
        self.emit(health)

    def _run(self) -> None:
        attempt = 0
        while not self.stopping:
            try:
                port = self._open_port(self.url, baudrate=self.baudrate, timeout=self.read_timeout)
            except TransportError as exc:
                if exc.permanent:
                    self._set_health(HealthState.FAILED, str(exc))
                    return
                self._set_health(HealthState.RECONNECTING, str(exc))
                self.wait(self.backoff.delay(attempt, self._rng))
                attempt += 1
                continue
            error: BaseException | None = None
            try:
                self.connection_made(port)
                self.connections += 1
                attempt = 0
                self._set_health(HealthState.CONNECTED)
                self.run_connection(port)
            except DeviceFailure as exc:
                error = exc
                self._set_health(HealthState.FAILED, str(exc))
            except (serial.SerialException, OSError, termios.error, DeviceError) as exc:
                # termios.error (tcflush on a pulled pty/USB port) is not an OSError subclass.
                error = exc
                if not self.stopping:
                    self._set_health(HealthState.RECONNECTING, str(exc) or type(exc).__name__)
            except Exception as exc:  # a driver bug: log it, and recover like from an unplug
                error = exc
                log.exception("device %s driver error", self.name)
                self._set_health(HealthState.RECONNECTING, f"internal error: {type(exc).__name__}")
            finally:
                try:
                    port.close()
                except Exception:
                    log.debug("closing %s failed", self.name, exc_info=True)
                self.connection_lost(error)
            if not self.stopping and error is not None:
                self.wait(self.backoff.delay(attempt, self._rng))
                attempt += 1
        self._set_health(HealthState.STOPPED)
