"""Relay and door-sensor wire formats: pure functions. Parsers raise only `devices.errors.FrameError`.

**LCUS relay board** (CH340 USB-serial, 9600 baud, sold as "LCUS-1/2/4"): 4-byte commands, no reply:
`A0 <channel> <state> <sum>` where channel counts from 1, state is 00 (off) or 01 (on) and sum is the low byte of
A0 + channel + state; `A0 01 01 A2` switches relay 1 on, `A0 01 00 A1` off.

**Line relay**: boards with a small firmware that take ASCII commands (`ON 1\\r\\n` / `OFF 1\\r\\n`, or whatever the
installer configures: `{channel}` is replaced by the channel number, `\\r` and `\\n` escapes are honoured).

**Door sensor**: a reed contact read by the same board or another one, reported as ASCII lines `DOOR OPEN` /
`DOOR CLOSED` (case-insensitive; `OPEN`/`CLOSED`/`1`/`0` alone are accepted too, as some I/O modules send that).
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.errors import FrameError

LCUS_HEADER = 0xA0
LCUS_FRAME_LENGTH = 4


@dataclass(frozen=True)
class RelayCommand:
    channel: int
    on: bool


def encode_lcus(channel: int, on: bool) -> bytes:
    if not 1 <= channel <= 0xFF - LCUS_HEADER - 1:
        raise FrameError(f"LCUS channel must be 1…{0xFF - LCUS_HEADER - 1}, got {channel}")
    state = 1 if on else 0
    return bytes([LCUS_HEADER, channel, state, (LCUS_HEADER + channel + state) & 0xFF])


def parse_lcus(frame: bytes) -> RelayCommand:
    if len(frame) != LCUS_FRAME_LENGTH or frame[0] != LCUS_HEADER:
        raise FrameError(f"not an LCUS frame: {frame.hex(' ')}")
    if frame[2] not in (0, 1):
        raise FrameError(f"LCUS state must be 0 or 1, got {frame[2]}")
    if (frame[0] + frame[1] + frame[2]) & 0xFF != frame[3]:
        raise FrameError("LCUS checksum mismatch")
    if frame[1] == 0:
        raise FrameError("LCUS channel 0 does not exist")
    return RelayCommand(frame[1], frame[2] == 1)


def split_lcus(buffer: bytearray) -> list[RelayCommand | FrameError]:
    """Take every complete frame out of `buffer`, resynchronising on the A0 header after garbage."""
    out: list[RelayCommand | FrameError] = []
    while True:
        start = buffer.find(bytes([LCUS_HEADER]))
        if start < 0:
            if buffer:
                out.append(FrameError(f"{len(buffer)} bytes of garbage"))
            buffer.clear()
            return out
        if start:
            out.append(FrameError(f"{start} bytes of garbage before a frame"))
            del buffer[:start]
        if len(buffer) < LCUS_FRAME_LENGTH:
            return out
        try:
            out.append(parse_lcus(bytes(buffer[:LCUS_FRAME_LENGTH])))
            del buffer[:LCUS_FRAME_LENGTH]
        except FrameError as exc:
            out.append(exc)
            del buffer[:1]


def unescape(template: str) -> str:
    return template.replace("\\r", "\r").replace("\\n", "\n")


def encode_line_command(template: str, channel: int) -> bytes:
    """`"ON {channel}\\r\\n"` → `b"ON 1\\r\\n"`; a template without a line end gets CRLF."""
    text = unescape(template).replace("{channel}", str(channel))
    if not text.endswith(("\r", "\n")):
        text += "\r\n"
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        raise FrameError(f"relay command must be ASCII: {template!r}") from None


DOOR_OPEN_WORDS = {"DOOR OPEN", "OPEN", "1", "DOOR 1"}
DOOR_CLOSED_WORDS = {"DOOR CLOSED", "CLOSED", "0", "DOOR 0", "DOOR CLOSE", "CLOSE"}


def parse_door_line(line: bytes) -> bool:
    """True: open, False: closed. Anything else is a `FrameError`."""
    try:
        text = " ".join(line.decode("ascii").split()).upper()
    except UnicodeDecodeError:
        raise FrameError("non-ASCII door sensor line") from None
    if text in DOOR_OPEN_WORDS:
        return True
    if text in DOOR_CLOSED_WORDS:
        return False
    raise FrameError(f"not a door sensor line: {text[:40]!r}")


def encode_door_line(is_open: bool) -> bytes:
    return b"DOOR OPEN\r\n" if is_open else b"DOOR CLOSED\r\n"
