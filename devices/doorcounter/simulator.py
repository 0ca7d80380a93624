"""`sim:door-counter?framing=line|pointsix`: a people counter on a pty, scripted from Python or `kiosk simulate`.

`walk_in(n)` / `walk_out(n)` count people and send a report; `reset()` reboots the counter to zero (the next report
carries the reset flag); `set_totals(i, o)` jumps the totals (e.g. next to 16 777 215 to exercise a wrap); the base
class adds `silence()`, `send_garbage()`, `unplug()`/`replug()`; `arm_fault("bad_checksum")` corrupts the next
report's checksum.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from devices.doorcounter.codec import (
    COUNTER_MAX,
    FLAG_BEAM_BLOCKED,
    FLAG_RESET,
    PointSixFlags,
    PointSixPacket,
    TotalsReport,
    encode_pointsix,
    encode_totals_line,
)
from devices.errors import TransportError
from devices.simulators.base import Simulator, opt_float


class DoorCounterSimulator(Simulator):
    kind = "door-counter"
    fault_names = frozenset({"bad_checksum"})

    def __init__(
        self,
        name: str,
        *,
        link: str | None = None,
        framing: str = "line",
        serial: str = "0A0B0C0D",
        every: object = None,
    ) -> None:
        """`every=S` (URL option): someone walks in (and every third time out) each S seconds, so that
        `kiosk devices listen door-counter --url 'sim:door-counter?every=1'` shows reports without scripting."""
        super().__init__(name, link=link)
        if framing not in ("line", "pointsix"):
            raise TransportError(f"door-counter simulator framing must be line or pointsix, got {framing!r}")
        self.framing = framing
        self.serial = serial
        self.total_in = 0
        self.total_out = 0
        self.beam_blocked = False
        self._reset_pending = False
        self._sequence = 0
        if every is not None:
            period = opt_float(every, 1.0)
            thread = threading.Thread(target=self._play, args=(period,), name=f"sim-{name}-walk", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _play(self, period: float) -> None:
        step = 0
        while not self._stop.wait(period):
            step += 1
            if step % 3 == 0:
                self.walk_out()
            else:
                self.walk_in()

    def walk_in(self, people: int = 1) -> None:
        with self.lock:
            self.total_in = (self.total_in + people) % (COUNTER_MAX + 1)
        self.report()

    def walk_out(self, people: int = 1) -> None:
        with self.lock:
            self.total_out = (self.total_out + people) % (COUNTER_MAX + 1)
        self.report()

    def reset(self) -> None:
        """Power cycle: totals back to zero, the next report says so."""
        with self.lock:
            self.total_in = self.total_out = 0
            self._reset_pending = True

    def set_totals(self, total_in: int, total_out: int) -> None:
        with self.lock:
            self.total_in, self.total_out = total_in, total_out

    def block_beam(self, blocked: bool = True) -> None:
        with self.lock:
            self.beam_blocked = blocked

    def report(self, *, now: datetime | None = None) -> None:
        """Send the current totals (Point Six: one packet per direction)."""
        with self.lock:
            bad = self.take_fault("bad_checksum")
            reset, self._reset_pending = self._reset_pending, False
            if self.framing == "line":
                flags = {FLAG_RESET} if reset else set()
                if self.beam_blocked:
                    flags.add(FLAG_BEAM_BLOCKED)
                report = TotalsReport(self.total_in, self.total_out, now or datetime.now(UTC), frozenset(flags))
                frame = encode_totals_line(report)
                if bad:
                    frame = frame[:-4] + (b"00" if frame[-4:-2] != b"00" else b"11") + b"\r\n"
                self.send(frame)
                return
            flags_bits = PointSixFlags(0)
            if reset:
                flags_bits |= PointSixFlags.RESET
            if self.beam_blocked:
                flags_bits |= PointSixFlags.BEAM_BLOCKED
            frames = b""
            for count, direction in ((self.total_in, PointSixFlags(0)), (self.total_out, PointSixFlags.DIRECTION_OUT)):
                self._sequence = (self._sequence + 1) & 0xFFFF
                packet = PointSixPacket(0x01, self.serial, count, flags_bits | direction, 60, self._sequence)
                frames += encode_pointsix(packet, corrupt_checksum=bad)
                bad = False
                flags_bits &= ~PointSixFlags.RESET  # the reboot is reported once, on the first packet
            self.send(frames)

    def kind_command(self, verb: str, args: list[str]) -> str | None:
        if verb == "in":
            self.walk_in(int(args[0]) if args else 1)
            return f"in={self.total_in} out={self.total_out}"
        if verb == "out":
            self.walk_out(int(args[0]) if args else 1)
            return f"in={self.total_in} out={self.total_out}"
        if verb == "reset":
            self.reset()
            return "counter reset to zero"
        if verb == "set" and len(args) == 2:
            self.set_totals(int(args[0]), int(args[1]))
            return f"in={self.total_in} out={self.total_out}"
        if verb == "report":
            self.report()
            return "sent"
        if verb == "block":
            self.block_beam(not args or args[0] != "off")
            return f"beam blocked: {self.beam_blocked}"
        return None

    def kind_help(self) -> str:
        return "in [N] | out [N] | reset | set IN OUT | report | block [off]"


def create_door_counter(name: str, **options: Any) -> DoorCounterSimulator:
    return DoorCounterSimulator(name, **options)
