"""Door relay driver: `pulse()` opens the door for a few seconds, and the relay is never left energised.

Fail-safe rules (issue 11): the relay is switched OFF as soon as the port opens (so a kiosk that crashed between
"on" and "off" is repaired by the next start, and a reconnect never inherits a stale "on"), OFF when the pulse
ends, and OFF on `stop()` before the port is closed. The off deadline is kept by the reader thread, not by a timer
thread, so it cannot outlive the driver. Exit never depends on this code: the lock is wired fail-safe with free
egress (see docs), the relay only ever *releases* it.

The same port may also carry the door-position sensor's `DOOR OPEN` / `DOOR CLOSED` lines (`sensor=True`):
they become `DoorSensorChanged` events, one per change. `DoorSensor` reads them from a port of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import serial

from devices.connection import SerialDevice
from devices.errors import DeviceError, FrameError
from devices.events import DeviceEvent, DeviceFault, DoorSensorChanged
from devices.relay.codec import encode_lcus, encode_line_command, parse_door_line
from devices.transport import bytes_waiting

PROTOCOLS = ("lcus", "line")
MAX_SENSOR_LINE = 64


class RelayNotConnected(DeviceError):
    """`pulse()` while the relay's port is not open: the door cannot be opened by the kiosk right now."""

    key = "device.relay_not_connected"


class DoorLineReader:
    """Pure: sensor bytes → door state changes (repeated reports of the same state are not changes)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.is_open: bool | None = None

    def feed(self, data: bytes) -> list[bool | FrameError]:
        self._buffer += data
        out: list[bool | FrameError] = []
        while True:
            ends = [i for i in (self._buffer.find(b"\r"), self._buffer.find(b"\n")) if i >= 0]
            if not ends:
                if len(self._buffer) > MAX_SENSOR_LINE:
                    self._buffer.clear()
                    out.append(FrameError("door sensor line too long"))
                return out
            cut = min(ends)
            line = bytes(self._buffer[:cut])
            del self._buffer[: cut + 1]
            if not line.strip():
                continue
            try:
                state = parse_door_line(line)
            except FrameError as exc:
                out.append(exc)
                continue
            if state != self.is_open:
                self.is_open = state
                out.append(state)

    def reset(self) -> None:
        self._buffer.clear()


class DoorRelay(SerialDevice):
    """`DoorRelay(url, on_event, name="door-relay", protocol="lcus"|"line", channel=1, pulse_s=3.0,
    on_command="ON {channel}", off_command="OFF {channel}", sensor=False)`."""

    default_baudrate = 9600
    read_timeout = 0.05
    """Also the resolution of the pulse's off deadline."""

    def __init__(
        self,
        url: str,
        on_event: Callable[[DeviceEvent], None],
        *,
        name: str = "door-relay",
        protocol: str = "lcus",
        channel: int = 1,
        pulse_s: float = 3.0,
        on_command: str = "ON {channel}",
        off_command: str = "OFF {channel}",
        sensor: bool = False,
        **options: Any,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"relay protocol must be one of {PROTOCOLS}, got {protocol!r}")
        if pulse_s <= 0:
            raise ValueError("pulse_s must be positive")
        super().__init__(url, on_event, name=name, **options)
        self.channel = int(channel)
        self.pulse_s = float(pulse_s)
        if protocol == "lcus":
            self._on_bytes, self._off_bytes = encode_lcus(self.channel, True), encode_lcus(self.channel, False)
        else:
            self._on_bytes = encode_line_command(on_command, self.channel)
            self._off_bytes = encode_line_command(off_command, self.channel)
        self._sensor = DoorLineReader() if sensor else None
        self._write_lock = threading.Lock()
        self._port: serial.SerialBase | None = None
        self._off_at: float | None = None
        self._energised = False

    @property
    def energised(self) -> bool:
        """What we last told the relay (the board does not answer)."""
        return self._energised

    @property
    def door_open(self) -> bool | None:
        return None if self._sensor is None else self._sensor.is_open

    def pulse(self, seconds: float | None = None) -> None:
        """Energise the relay now and release it after `seconds` (default `pulse_s`). Another pulse while one runs
        extends it. Raises `RelayNotConnected` when the port is not open."""
        with self._write_lock:
            port = self._port
            if port is None:
                raise RelayNotConnected(f"relay {self.name} is not connected")
            self._off_at = time.monotonic() + (self.pulse_s if seconds is None else seconds)
            port.write(self._on_bytes)
            port.flush()
            self._energised = True

    def _switch_off(self, port: serial.SerialBase) -> None:
        with self._write_lock:
            self._off_at = None
            port.write(self._off_bytes)
            port.flush()
            self._energised = False

    def connection_made(self, port: serial.SerialBase) -> None:
        self._switch_off(port)  # repairs a crash between "on" and "off"
        with self._write_lock:
            self._port = port

    def run_connection(self, port: serial.SerialBase) -> None:
        while not self.stopping:
            off_at = self._off_at
            if off_at is not None and time.monotonic() >= off_at:
                self._switch_off(port)
            data = port.read(bytes_waiting(port) or 1)
            if data and self._sensor is not None:
                for item in self._sensor.feed(data):
                    if isinstance(item, FrameError):
                        self.emit(DeviceFault(self.name, "bad_sensor_line", str(item)))
                    else:
                        self.emit(DoorSensorChanged(self.name, item))
        with self._write_lock:
            self._port = None
        self._switch_off(port)

    def connection_lost(self, exc: BaseException | None) -> None:
        with self._write_lock:
            self._port = None
            self._off_at = None
        if self._sensor is not None:
            self._sensor.reset()


class DoorSensor(SerialDevice):
    """A door-position sensor on its own serial port: `DOOR OPEN` / `DOOR CLOSED` lines → `DoorSensorChanged`."""

    default_baudrate = 9600

    def __init__(
        self, url: str, on_event: Callable[[DeviceEvent], None], *, name: str = "door-sensor", **options: Any
    ) -> None:
        super().__init__(url, on_event, name=name, **options)
        self._reader = DoorLineReader()

    @property
    def door_open(self) -> bool | None:
        return self._reader.is_open

    def data_received(self, data: bytes) -> None:
        for item in self._reader.feed(data):
            if isinstance(item, FrameError):
                self.emit(DeviceFault(self.name, "bad_sensor_line", str(item)))
            else:
                self.emit(DoorSensorChanged(self.name, item))

    def connection_lost(self, exc: BaseException | None) -> None:
        self._reader.reset()
