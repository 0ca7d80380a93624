"""Relay board and door-sensor simulators: they keep the relay state the driver's bytes set, and can report it.

`sim:relay-lcus` parses LCUS frames, `sim:relay-line?on=ON {channel}&off=OFF {channel}` parses command lines; both
can also play the door contact (`door(open=True)` sends `DOOR OPEN`), like boards with an input. `sim:door-sensor`
is a contact on its own port. `state(channel)` is the relay's coil now; `history` every switch in order.
"""

from __future__ import annotations

import threading
from typing import Any

from devices.errors import FrameError
from devices.relay.codec import RelayCommand, encode_door_line, encode_line_command, split_lcus
from devices.simulators.base import Simulator


class RelayBoardSimulator(Simulator):
    """Base: subclasses turn received bytes into `RelayCommand`s via `_parse`."""

    def __init__(self, name: str, *, link: str | None = None) -> None:
        super().__init__(name, link=link)
        self._states: dict[int, bool] = {}
        self.history: list[RelayCommand] = []
        self.bad_frames = 0
        self._changed = threading.Condition(self.lock)

    def state(self, channel: int = 1) -> bool:
        with self.lock:
            return self._states.get(channel, False)

    def set_state(self, channel: int, on: bool) -> None:
        """Force the coil (e.g. left on by a process that died), as if commanded."""
        self._apply(RelayCommand(channel, on))

    def wait_for(self, channel: int, on: bool, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._states.get(channel, False) == on, timeout)

    def _apply(self, command: RelayCommand) -> None:
        with self._changed:
            self._states[command.channel] = command.on
            self.history.append(command)
            self._changed.notify_all()

    def received(self, data: bytes) -> None:
        for item in self._parse(data):
            if isinstance(item, FrameError):
                self.bad_frames += 1
            else:
                self._apply(item)

    def _parse(self, data: bytes) -> list[RelayCommand | FrameError]:
        raise NotImplementedError

    def door(self, is_open: bool) -> None:
        self.send(encode_door_line(is_open))

    def kind_command(self, verb: str, args: list[str]) -> str | None:
        if verb == "state":
            with self.lock:
                return " ".join(f"{ch}={'on' if on else 'off'}" for ch, on in sorted(self._states.items())) or "all off"
        if verb == "door" and args:
            self.door(args[0].lower() in {"open", "1", "on"})
            return "sent"
        return None

    def kind_help(self) -> str:
        return "state | door open|closed"


class LcusRelaySimulator(RelayBoardSimulator):
    kind = "relay-lcus"

    def __init__(self, name: str, *, link: str | None = None) -> None:
        super().__init__(name, link=link)
        self._buffer = bytearray()

    def _parse(self, data: bytes) -> list[RelayCommand | FrameError]:
        self._buffer += data
        return split_lcus(self._buffer)


class LineRelaySimulator(RelayBoardSimulator):
    kind = "relay-line"

    def __init__(
        self,
        name: str,
        *,
        link: str | None = None,
        on: str = "ON {channel}",
        off: str = "OFF {channel}",
        channels: str = "1,2,3,4",
    ) -> None:
        super().__init__(name, link=link)
        self._buffer = bytearray()
        self._commands: dict[bytes, RelayCommand] = {}
        for channel in (int(c) for c in channels.split(",") if c):
            self._commands[encode_line_command(on, channel).strip()] = RelayCommand(channel, True)
            self._commands[encode_line_command(off, channel).strip()] = RelayCommand(channel, False)

    def _parse(self, data: bytes) -> list[RelayCommand | FrameError]:
        self._buffer += data
        out: list[RelayCommand | FrameError] = []
        while True:
            ends = [i for i in (self._buffer.find(b"\r"), self._buffer.find(b"\n")) if i >= 0]
            if not ends:
                if len(self._buffer) > 256:
                    self._buffer.clear()
                    out.append(FrameError("line too long"))
                return out
            cut = min(ends)
            line = bytes(self._buffer[:cut]).strip()
            del self._buffer[: cut + 1]
            if line:
                command = self._commands.get(line)
                out.append(command if command is not None else FrameError(f"unknown command {line[:40]!r}"))


class DoorSensorSimulator(Simulator):
    kind = "door-sensor"

    def door(self, is_open: bool) -> None:
        self.send(encode_door_line(is_open))

    def kind_command(self, verb: str, args: list[str]) -> str | None:
        if verb in {"open", "closed", "close"}:
            self.door(verb == "open")
            return "sent"
        return None

    def kind_help(self) -> str:
        return "open | closed"


def create_lcus_relay(name: str, **options: Any) -> LcusRelaySimulator:
    return LcusRelaySimulator(name, **options)


def create_line_relay(name: str, **options: Any) -> LineRelaySimulator:
    return LineRelaySimulator(name, **options)


def create_door_sensor(name: str, **options: Any) -> DoorSensorSimulator:
    return DoorSensorSimulator(name, **options)
