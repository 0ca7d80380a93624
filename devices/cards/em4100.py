"""EM4100 / RDM6300-class 125 kHz readers: 9600 8N1, frame `02` + 10 ASCII-hex (2 version + 8 tag) + 2 ASCII-hex
checksum (XOR of the 5 data bytes) + `03`, repeated for as long as the card stays in the field.

The card number used for the patron key is the 4-byte tag as a 10-digit decimal, the number printed on most EM4100
cards and typed by USB "keyboard" readers of the same cards: a card enrolled at one kind of reader is then found at
the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.errors import FrameError

STX = 0x02
ETX = 0x03
FRAME_LENGTH = 14
_HEX = frozenset(b"0123456789ABCDEFabcdef")


@dataclass(frozen=True)
class Em4100Tag:
    version: int
    tag: int

    @property
    def hex(self) -> str:
        return f"{self.version:02X}{self.tag:08X}"

    @property
    def number(self) -> str:
        """The 10-digit decimal card number (tag bytes only)."""
        return f"{self.tag:010d}"


def encode_frame(tag: Em4100Tag) -> bytes:
    data = bytes.fromhex(tag.hex)
    check = 0
    for byte in data:
        check ^= byte
    return bytes((STX,)) + tag.hex.encode("ascii") + f"{check:02X}".encode("ascii") + bytes((ETX,))


def decode_frame(frame: bytes) -> Em4100Tag:
    if len(frame) != FRAME_LENGTH or frame[0] != STX or frame[-1] != ETX:
        raise FrameError("not an EM4100 frame (02 + 12 hex + 03)")
    body = frame[1:-1]
    if any(byte not in _HEX for byte in body):
        raise FrameError("EM4100 frame holds non-hex characters")
    data = bytes.fromhex(body[:10].decode("ascii"))
    check = 0
    for byte in data:
        check ^= byte
    if check != int(body[10:12], 16):
        raise FrameError("EM4100 checksum mismatch")
    return Em4100Tag(version=data[0], tag=int.from_bytes(data[1:], "big"))


class Em4100Decoder:
    """Byte stream → tags; resynchronises on STX; `next_tag()` raises `FrameError` once per bad frame."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def reset(self) -> None:
        self._buffer.clear()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def next_tag(self) -> Em4100Tag | None:
        buffer = self._buffer
        start = buffer.find(STX)
        if start < 0:
            buffer.clear()
            return None
        del buffer[:start]
        if len(buffer) < FRAME_LENGTH:
            return None
        frame = bytes(buffer[:FRAME_LENGTH])
        try:
            tag = decode_frame(frame)
        except FrameError:
            del buffer[:1]  # resync after this STX: the real frame may start inside the bad one
            raise
        del buffer[:FRAME_LENGTH]
        return tag
