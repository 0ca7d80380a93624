"""GA 467 SAM frame codec: pure functions and a stream decoder, no I/O.

    request:  AA AA AA 96 69 | LEN_hi LEN_lo | CMD PARA [data] | CHK
    response: AA AA AA 96 69 | LEN_hi LEN_lo | SW1 SW2 SW3 [data] | CHK

LEN is big-endian and counts every byte after itself, CHK included; CHK is the XOR of the bytes from LEN_hi up to
(not including) CHK. Requests and responses share this envelope, so one `FrameDecoder` serves the driver (which
decodes responses) and the simulator (which decodes requests).

Resynchronisation: garbage before a preamble is skipped; after a bad frame (impossible LEN, wrong checksum) the
decoder drops only the first byte of that preamble and searches again, so a preamble-looking run of noise can never
swallow the real frame that follows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from devices.errors import FrameError

PREAMBLE = bytes((0xAA, 0xAA, 0xAA, 0x96, 0x69))
HEADER_LENGTH = len(PREAMBLE) + 2
MIN_LEN = 3
"""A request's LEN covers at least CMD PARA CHK; a response's SW1 SW2 SW3 CHK (4)."""
MAX_LEN = 0x0A00
"""The longest real reply (text + photo + fingerprint) is 0x0A0E-ish bytes; anything above this is noise."""
MAX_LEN_WITH_FINGERPRINT = 0x1000


class Command(IntEnum):
    """(CMD << 8) | PARA of the requests the kiosk sends."""

    RESET_SAM = 0x10FF
    SAM_STATUS = 0x11FF
    READ_SAM_ID = 0x12FF
    FIND_CARD = 0x2001
    SELECT_CARD = 0x2002
    READ_TEXT_PHOTO = 0x3001
    READ_TEXT_PHOTO_FINGERPRINT = 0x3010
    SET_MAX_RF_BYTES = 0x61FF

    @property
    def cmd(self) -> int:
        return self.value >> 8

    @property
    def para(self) -> int:
        return self.value & 0xFF


class Status(IntEnum):
    """SW3 status codes of GA 467 (the reader's answer to the last request)."""

    OK = 0x90
    NO_CONTENT = 0x91
    CARD_FOUND = 0x9F
    CHECKSUM_ERROR = 0x10
    LENGTH_ERROR = 0x11
    COMMAND_ERROR = 0x21
    UNAUTHORISED = 0x23
    UNRECOGNISED_ERROR = 0x24
    CARD_AUTH_FAILED = 0x31
    READER_AUTH_FAILED = 0x32
    VERIFY_FAILED = 0x33
    UNKNOWN_CARD_TYPE = 0x40
    READ_FAILED = 0x41
    RANDOM_FAILED = 0x47
    SAM_SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORISED = 0x66
    NO_CARD = 0x80
    SELECT_FAILED = 0x81


STATUS_TEXT: dict[int, str] = {
    Status.OK: "operation succeeded",
    Status.NO_CONTENT: "no such content (e.g. no fingerprint on the card)",
    Status.CARD_FOUND: "card found",
    Status.CHECKSUM_ERROR: "reader received a frame with a bad checksum",
    Status.LENGTH_ERROR: "reader received a frame with a bad length",
    Status.COMMAND_ERROR: "reader received an invalid command",
    Status.UNAUTHORISED: "operation not permitted",
    Status.UNRECOGNISED_ERROR: "unrecognised error",
    Status.CARD_AUTH_FAILED: "card failed to authenticate the reader",
    Status.READER_AUTH_FAILED: "reader failed to authenticate the card",
    Status.VERIFY_FAILED: "information verification failed",
    Status.UNKNOWN_CARD_TYPE: "unknown card type",
    Status.READ_FAILED: "reading the card failed",
    Status.RANDOM_FAILED: "getting a random number failed",
    Status.SAM_SELF_TEST_FAILED: "SAM self-test failed; the reader accepts no commands",
    Status.SAM_NOT_AUTHORISED: "SAM not authorised",
    Status.NO_CARD: "no card found",
    Status.SELECT_FAILED: "selecting the card failed",
}


def status_text(sw3: int) -> str:
    return STATUS_TEXT.get(sw3, f"unknown status 0x{sw3:02X}")


def checksum(body: bytes) -> int:
    """XOR of LEN_hi, LEN_lo and every byte up to CHK (the bytes after the preamble)."""
    value = 0
    for byte in body:
        value ^= byte
    return value


def encode_frame(payload: bytes) -> bytes:
    """Wrap a payload (CMD PARA data, or SW1 SW2 SW3 data) in preamble, LEN and checksum."""
    length = len(payload) + 1
    if length > 0xFFFF:
        raise ValueError("payload too long for a 16-bit LEN")
    body = length.to_bytes(2, "big") + payload
    return PREAMBLE + body + bytes((checksum(body),))


def encode_request(command: Command, data: bytes = b"") -> bytes:
    return encode_frame(bytes((command.cmd, command.para)) + data)


def encode_response(sw3: int, data: bytes = b"", *, sw1: int = 0, sw2: int = 0) -> bytes:
    return encode_frame(bytes((sw1, sw2, sw3)) + data)


@dataclass(frozen=True)
class Request:
    cmd: int
    para: int
    data: bytes = b""

    @property
    def command(self) -> Command | None:
        try:
            return Command((self.cmd << 8) | self.para)
        except ValueError:
            return None


@dataclass(frozen=True)
class Response:
    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""

    @property
    def ok(self) -> bool:
        return self.sw1 == 0 and self.sw2 == 0 and self.sw3 in (Status.OK, Status.CARD_FOUND)

    def __repr__(self) -> str:  # data may hold a card's text: never print it
        return f"Response(sw=0x{self.sw1:02X}{self.sw2:02X}{self.sw3:02X}, {len(self.data)} data bytes)"


def parse_request(payload: bytes) -> Request:
    if len(payload) < 2:
        raise FrameError("request payload shorter than CMD PARA")
    return Request(payload[0], payload[1], bytes(payload[2:]))


def parse_response(payload: bytes) -> Response:
    if len(payload) < 3:
        raise FrameError("response payload shorter than SW1 SW2 SW3")
    return Response(payload[0], payload[1], payload[2], bytes(payload[3:]))


def decode_frame(frame: bytes) -> bytes:
    """Check one complete frame and return its payload (between LEN and CHK); raises `FrameError`."""
    if not frame.startswith(PREAMBLE):
        raise FrameError("frame does not start with the preamble AA AA AA 96 69")
    if len(frame) < HEADER_LENGTH:
        raise FrameError("frame shorter than its header")
    length = int.from_bytes(frame[5:7], "big")
    if len(frame) != HEADER_LENGTH + length:
        raise FrameError(f"LEN says {length} bytes follow, got {len(frame) - HEADER_LENGTH}")
    if length < MIN_LEN:
        raise FrameError(f"LEN {length} too small")
    body = frame[5:-1]
    if checksum(body) != frame[-1]:
        raise FrameError("checksum mismatch")
    return bytes(frame[HEADER_LENGTH:-1])


class FrameDecoder:
    """Turn a byte stream into frame payloads. `feed()` bytes as they arrive; call `next_payload()` until None.

    `next_payload()` raises `FrameError` for one bad frame (already discarded: call again to continue), so a caller
    can count faults without ever stalling on a stream it cannot parse. `discarded` counts skipped noise bytes.
    """

    def __init__(self, max_length: int = MAX_LEN_WITH_FINGERPRINT) -> None:
        self._buffer = bytearray()
        self.max_length = max_length
        self.discarded = 0

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def reset(self) -> None:
        self._buffer.clear()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def next_payload(self) -> bytes | None:
        buffer = self._buffer
        start = buffer.find(PREAMBLE)
        if start < 0:
            # Keep a tail that may be the beginning of a preamble split across two reads.
            keep = max(0, len(buffer) - (len(PREAMBLE) - 1))
            self.discarded += keep
            del buffer[:keep]
            return None
        if start:
            self.discarded += start
            del buffer[:start]
        if len(buffer) < HEADER_LENGTH:
            return None
        length = int.from_bytes(buffer[5:7], "big")
        if length < MIN_LEN or length > self.max_length:
            del buffer[:1]
            self.discarded += 1
            raise FrameError(f"impossible LEN {length}")
        end = HEADER_LENGTH + length
        if len(buffer) < end:
            return None
        frame = bytes(buffer[:end])
        body = frame[5:-1]
        if checksum(body) != frame[-1]:
            del buffer[:1]
            self.discarded += 1
            raise FrameError("checksum mismatch")
        del buffer[:end]
        return frame[HEADER_LENGTH:-1]


@dataclass(frozen=True)
class ReadData:
    """The data of a successful `30 01` / `30 10` reply: three big-endian lengths, then the blocks."""

    text: bytes
    photo: bytes
    fingerprint: bytes = b""

    def __repr__(self) -> str:
        return f"ReadData(text={len(self.text)}B, photo={len(self.photo)}B, fingerprint={len(self.fingerprint)}B)"


def encode_read_data(text: bytes, photo: bytes, fingerprint: bytes | None = None) -> bytes:
    lengths = len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big")
    if fingerprint is None:
        return lengths + text + photo
    return lengths + len(fingerprint).to_bytes(2, "big") + text + photo + fingerprint


def split_read_data(data: bytes, *, with_fingerprint: bool = False) -> ReadData:
    header = 6 if with_fingerprint else 4
    if len(data) < header:
        raise FrameError("read reply shorter than its length fields")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    fp_len = int.from_bytes(data[4:6], "big") if with_fingerprint else 0
    if header + text_len + photo_len + fp_len != len(data):
        raise FrameError("read reply lengths do not add up to its size")
    text = data[header : header + text_len]
    photo = data[header + text_len : header + text_len + photo_len]
    return ReadData(bytes(text), bytes(photo), bytes(data[header + text_len + photo_len :]))
