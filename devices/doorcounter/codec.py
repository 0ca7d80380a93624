"""Door-counter frames: pure functions of bytes, both ways. Parsers raise only `devices.errors.FrameError`.

Two framings:

**Totals line** (ours, for counters driven by a small microcontroller or a PLC gateway that we configure):

    IN=123,OUT=120,T=2026-11-22T10:00:00Z,F=reset+beam_blocked*5A\\r\\n

ASCII, one report per line (CR, LF or CRLF). `IN`/`OUT` are cumulative totals (decimal, 0…16 777 215), `T` the
device's clock (ISO 8601; no offset means UTC), `F` flags joined by `+` (`reset`: the counter restarted from zero
since its last report; `beam_blocked`: the beam has been interrupted for longer than the device's limit), and an
optional NMEA-style `*HH` checksum: XOR of every byte before the `*`, two hex digits. Unknown keys are ignored so
that firmware can add fields; `IN` and `OUT` are required.

**Point Six style packet** (battery IR beam counters with a radio gateway), ASCII hex, CR-terminated:

    IDSSSSSSSSooooooffggggCCCCKK\\r

`ID` packet type (1 byte), `SSSSSSSS` sensor serial (4 bytes, as written), `oooooo` the cumulative count as a
24-bit integer least-significant byte FIRST (wraps from 16 777 215 to 0), `ff` flag bits (0x01 beam blocked for more
than 6.5 s, 0x02 counter reset since the last packet, 0x04 the count is of the OUT direction: a bidirectional
installation reports each direction in its own packet), `gggg` seconds since the previous packet (16-bit, LSB
first), `CCCC` packet sequence number (16-bit, LSB first), `KK` checksum: the sum of the 13 bytes before it,
modulo 256. The packet carries no clock: the receive time is the only time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntFlag

from devices.errors import FrameError

COUNTER_MAX = 16_777_215
"""Both framings count on 24 bits."""

FLAG_RESET = "reset"
FLAG_BEAM_BLOCKED = "beam_blocked"
KNOWN_FLAGS = frozenset({FLAG_RESET, FLAG_BEAM_BLOCKED})
MAX_LINE = 200


@dataclass(frozen=True)
class TotalsReport:
    total_in: int
    total_out: int
    device_time: datetime | None = None
    flags: frozenset[str] = frozenset()


# -- totals line ----------------------------------------------------------------------------------------------------


def _xor(data: bytes) -> int:
    value = 0
    for byte in data:
        value ^= byte
    return value


def encode_totals_line(report: TotalsReport, *, checksum: bool = True) -> bytes:
    parts = [f"IN={report.total_in}", f"OUT={report.total_out}"]
    if report.device_time is not None:
        stamp = report.device_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts.append(f"T={stamp}")
    if report.flags:
        parts.append("F=" + "+".join(sorted(report.flags)))
    body = ",".join(parts).encode("ascii")
    if checksum:
        body += b"*%02X" % _xor(body)
    return body + b"\r\n"


def _count(text: str, key: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 8:
        raise FrameError(f"{key} must be a decimal count, got {text!r}")
    value = int(text)
    if value > COUNTER_MAX:
        raise FrameError(f"{key}={value} exceeds the 24-bit counter")
    return value


def _device_time(text: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FrameError(f"bad device time {text!r}") from None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def parse_totals_line(line: bytes) -> TotalsReport:
    """One line without its terminator."""
    if len(line) > MAX_LINE:
        raise FrameError(f"line of {len(line)} bytes is too long")
    try:
        text = line.decode("ascii").strip()
    except UnicodeDecodeError:
        raise FrameError("non-ASCII bytes in a totals line") from None
    if "*" in text:
        body, _, given = text.rpartition("*")
        if len(given) != 2 or any(c not in "0123456789abcdefABCDEF" for c in given):
            raise FrameError(f"bad checksum field {given!r}")
        if int(given, 16) != _xor(body.encode("ascii")):
            raise FrameError("totals line checksum mismatch")
        text = body
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            raise FrameError(f"field without '=': {part!r}")
        fields[key.strip().upper()] = value.strip()
    if "IN" not in fields or "OUT" not in fields:
        raise FrameError("a totals line needs IN= and OUT=")
    flags = frozenset(f.lower() for f in fields.get("F", "").split("+") if f)
    return TotalsReport(
        total_in=_count(fields["IN"], "IN"),
        total_out=_count(fields["OUT"], "OUT"),
        device_time=_device_time(fields["T"]) if fields.get("T") else None,
        flags=flags & KNOWN_FLAGS,
    )


# -- Point Six style packet -----------------------------------------------------------------------------------------


class PointSixFlags(IntFlag):
    BEAM_BLOCKED = 0x01
    RESET = 0x02
    DIRECTION_OUT = 0x04


@dataclass(frozen=True)
class PointSixPacket:
    packet_type: int
    serial: str
    count: int
    flags: PointSixFlags
    interval_s: int = 0
    sequence: int = 0

    @property
    def report_flags(self) -> frozenset[str]:
        names = set()
        if self.flags & PointSixFlags.BEAM_BLOCKED:
            names.add(FLAG_BEAM_BLOCKED)
        if self.flags & PointSixFlags.RESET:
            names.add(FLAG_RESET)
        return frozenset(names)


POINTSIX_HEX_LENGTH = 28


def encode_pointsix(packet: PointSixPacket, *, corrupt_checksum: bool = False) -> bytes:
    if not 0 <= packet.count <= COUNTER_MAX:
        raise FrameError(f"count {packet.count} does not fit 24 bits")
    serial = bytes.fromhex(packet.serial)
    if len(serial) != 4:
        raise FrameError("serial must be 4 bytes (8 hex digits)")
    body = (
        bytes([packet.packet_type & 0xFF])
        + serial
        + packet.count.to_bytes(3, "little")
        + bytes([int(packet.flags) & 0xFF])
        + (packet.interval_s & 0xFFFF).to_bytes(2, "little")
        + (packet.sequence & 0xFFFF).to_bytes(2, "little")
    )
    checksum = (sum(body) + (1 if corrupt_checksum else 0)) % 256
    return (body + bytes([checksum])).hex().upper().encode("ascii") + b"\r"


def parse_pointsix(line: bytes) -> PointSixPacket:
    """One packet without its CR."""
    text = line.strip()
    if len(text) != POINTSIX_HEX_LENGTH:
        raise FrameError(f"Point Six packet must be {POINTSIX_HEX_LENGTH} hex digits, got {len(text)}")
    try:
        raw = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise FrameError("Point Six packet is not hex") from None
    if sum(raw[:-1]) % 256 != raw[-1]:
        raise FrameError("Point Six packet checksum mismatch")
    return PointSixPacket(
        packet_type=raw[0],
        serial=raw[1:5].hex().upper(),
        count=int.from_bytes(raw[5:8], "little"),
        flags=PointSixFlags(raw[8] & 0x07),
        interval_s=int.from_bytes(raw[9:11], "little"),
        sequence=int.from_bytes(raw[11:13], "little"),
    )
