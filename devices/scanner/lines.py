"""Line framing shared by serial barcode scanners and plain card-number readers: ASCII text ended by CR, LF or
CRLF (or whatever terminator the device is configured with).

CR and LF are each accepted as a terminator and empty lines are dropped, so CR, LF and CRLF devices all work without
configuration. A line that never ends (a scanner set to no suffix, or noise) is cut at `max_length` and reported as
a `FrameError` instead of growing the buffer forever.
"""

from __future__ import annotations

from devices.errors import FrameError

DEFAULT_TERMINATORS = b"\r\n"
PRINTABLE = frozenset(range(0x20, 0x7F))


class LineAssembler:
    """Bytes in, lines out. `feed()` bytes; call `next_line()` until None; a bad line raises `FrameError` once
    (already discarded: call again to continue)."""

    def __init__(
        self,
        terminators: bytes = DEFAULT_TERMINATORS,
        *,
        max_length: int = 128,
        strip_prefix: str = "",
        strip_suffix: str = "",
    ) -> None:
        if not terminators:
            raise ValueError("a line reader needs at least one terminator byte")
        self.terminators = frozenset(terminators)
        self.max_length = max_length
        self.strip_prefix = strip_prefix
        self.strip_suffix = strip_suffix
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def reset(self) -> None:
        self._buffer.clear()

    @property
    def pending(self) -> bytes:
        return bytes(self._buffer)

    def next_line(self) -> str | None:
        buffer = self._buffer
        while True:
            end = next((i for i, byte in enumerate(buffer) if byte in self.terminators), -1)
            if end < 0:
                if len(buffer) > self.max_length:
                    buffer.clear()
                    raise FrameError(f"line longer than {self.max_length} bytes without a terminator")
                return None
            raw = bytes(buffer[:end])
            del buffer[: end + 1]
            if not raw:
                continue  # the LF of a CRLF, or a blank line
            return self._decode(raw)

    def _decode(self, raw: bytes) -> str:
        if len(raw) > self.max_length:
            raise FrameError(f"line longer than {self.max_length} bytes")
        if any(byte not in PRINTABLE for byte in raw):
            raise FrameError("line contains non-printable bytes")
        text = raw.decode("ascii")
        if self.strip_prefix and text.startswith(self.strip_prefix):
            text = text[len(self.strip_prefix) :]
        if self.strip_suffix and text.endswith(self.strip_suffix):
            text = text[: -len(self.strip_suffix)]
        text = text.strip()
        if not text:
            raise FrameError("empty code")
        return text


def terminator_bytes(terminator: str) -> bytes:
    r"""Configuration spells terminators as text (`"\r\n"`, `"\r"`, `"\t"`, or the words CR/LF/CRLF/TAB)."""
    words = {"CR": "\r", "LF": "\n", "CRLF": "\r\n", "TAB": "\t", "ENTER": "\r"}
    text = words.get(terminator.strip().upper(), terminator) if terminator.strip() else terminator
    data = text.encode("ascii", errors="strict") if text else b""
    if not data:
        raise ValueError("empty terminator")
    return data
