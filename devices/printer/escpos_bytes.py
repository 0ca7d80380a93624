"""What goes on the wire to an ESC/POS printer, and what comes back: pure functions.

Text is encoded with the configured encoding (GB18030 by default) and sent raw: python-escpos's automatic code-page
selection knows no Chinese code page and prints `?`. Chinese printers need Chinese character mode (`FS &`) for
GB-family encodings, so it is switched on for them. The QR code uses the printer's native `GS ( k` commands
(python-escpos `qr(native=True)`): no image rendering, a few bytes, sharp on every head.

Status: `DLE EOT 4` asks the paper sensor, `DLE EOT 1` the printer status. Each reply is one byte with fixed bits
`0xx1 xx10` (Epson ESC/POS reference, "DLE EOT"); paper roll near end is bits 2-3, paper end bits 5-6; offline is
bit 3 of the printer status. A reply without the fixed bits is not a status byte (`FrameError`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from escpos.printer import Dummy

from devices.errors import FrameError

ESC_INIT = b"\x1b@"
FS_CHINESE_ON = b"\x1c&"
DLE_EOT_PRINTER = b"\x10\x04\x01"
DLE_EOT_PAPER = b"\x10\x04\x04"
GB_ENCODINGS = frozenset({"gb18030", "gbk", "gb2312", "cp936"})

_FIXED_MASK = 0x93
_FIXED_VALUE = 0x12


@dataclass(frozen=True)
class PaperStatus:
    near_end: bool
    out: bool


def encode_receipt(
    lines: Sequence[str], qr: str | None = None, *, encoding: str = "gb18030", cut: bool = True
) -> bytes:
    """The bytes of one receipt. Characters the encoding cannot carry become `?` rather than failing the receipt."""
    printer = Dummy()
    printer._raw(ESC_INIT)
    if encoding.lower().replace("-", "") in GB_ENCODINGS:
        printer._raw(FS_CHINESE_ON)
    for line in lines:
        printer._raw(line.replace("\r", "").encode(encoding, errors="replace") + b"\n")
    if qr:
        printer.set(align="center")
        printer.qr(qr, native=True, size=6)
        printer.set(align="left")
    if cut:
        printer.cut()
    return bytes(printer.output)


def _status_byte(reply: bytes) -> int:
    if len(reply) != 1:
        raise FrameError(f"a status reply is one byte, got {len(reply)}")
    value = reply[0]
    if value & _FIXED_MASK != _FIXED_VALUE:
        raise FrameError(f"not a status byte: {value:#04x}")
    return value


def parse_paper_status(reply: bytes) -> PaperStatus:
    value = _status_byte(reply)
    return PaperStatus(near_end=bool(value & 0x0C), out=bool(value & 0x60))


def parse_printer_online(reply: bytes) -> bool:
    return not _status_byte(reply) & 0x08


def encode_paper_status(status: PaperStatus) -> bytes:
    return bytes([_FIXED_VALUE | (0x0C if status.near_end else 0) | (0x60 if status.out else 0)])


def encode_printer_status(online: bool) -> bytes:
    return bytes([_FIXED_VALUE | (0 if online else 0x08)])
