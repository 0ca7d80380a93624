"""Door-counter driver: reads reports (totals line or Point Six packet) and emits cumulative `DoorCount` events.

Totals stay cumulative here (device time and receive time both kept, flags passed on); turning them into people per
hour is `devices.doorcounter.deltas`, used by the traffic module, because only it knows what was stored before a
restart of the kiosk. A Point Six installation reports each direction in its own packet, so the driver keeps the
last total of the other direction and reports both; a packet with the reset flag zeroes both (the device rebooted),
and only the first packet after a reboot carries the flag, so the reset is counted once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from devices.connection import SerialDevice
from devices.doorcounter.codec import (
    MAX_LINE,
    PointSixFlags,
    TotalsReport,
    parse_pointsix,
    parse_totals_line,
)
from devices.errors import FrameError
from devices.events import DeviceEvent, DeviceFault, DoorCount

FRAMINGS = ("line", "pointsix")


class DoorCounter(SerialDevice):
    """`DoorCounter(url, on_event, name="door", framing="line"|"pointsix")`."""

    default_baudrate = 9600

    def __init__(
        self,
        url: str,
        on_event: Callable[[DeviceEvent], None],
        *,
        name: str = "door-counter",
        framing: str = "line",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        **options: Any,
    ) -> None:
        if framing not in FRAMINGS:
            raise ValueError(f"door-counter framing must be one of {FRAMINGS}, got {framing!r}")
        super().__init__(url, on_event, name=name, **options)
        self.framing = framing
        self._clock = clock
        self._buffer = bytearray()
        self._in = 0
        self._out = 0

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            cut = min((i for i in (self._buffer.find(b"\r"), self._buffer.find(b"\n")) if i >= 0), default=-1)
            if cut < 0:
                if len(self._buffer) > MAX_LINE:
                    self._buffer.clear()
                    self.emit(DeviceFault(self.name, "bad_frame", "line too long without terminator"))
                return
            line = bytes(self._buffer[:cut])
            del self._buffer[: cut + 1]
            if not line.strip():
                continue
            try:
                report = self._parse(line)
            except FrameError as exc:
                self.emit(DeviceFault(self.name, "bad_frame", str(exc)))
                continue
            self.emit(
                DoorCount(
                    device=self.name,
                    total_in=report.total_in,
                    total_out=report.total_out,
                    device_time=report.device_time,
                    received_at=self._clock(),
                    flags=report.flags,
                )
            )

    def _parse(self, line: bytes) -> TotalsReport:
        if self.framing == "line":
            return parse_totals_line(line)
        packet = parse_pointsix(line)
        if packet.flags & PointSixFlags.RESET:
            self._in = self._out = 0  # the device rebooted: the other direction restarted from zero as well
        if packet.flags & PointSixFlags.DIRECTION_OUT:
            self._out = packet.count
        else:
            self._in = packet.count
        return TotalsReport(self._in, self._out, None, packet.report_flags)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._buffer.clear()
