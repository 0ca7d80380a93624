"""Every parser that meets bytes from outside, behind one shape: `bytes → short summary`, or its own error type.

The fuzz tests (`tests/fuzz/`) and the corpus of bad inputs (`tests/corpus/<target>/`) both go through this table,
so "every byte parser and file importer is fuzzed" is checkable in one place: a parser missing here is missing from
both. Each target says which exception types are its *documented* refusals (`FrameError` for a device frame,
`Sip2Error` for SIP2, `UnreadableFile` for a file that is not a catalog export, `ConfigError` for a bad kiosk.toml);
anything else escaping — `IndexError`, `UnicodeDecodeError`, `RecursionError` — is a bug the kiosk would meet as a
crash at night. Stream decoders are fed the whole input and drained until they want more: one that never stops
asking, or keeps a growing buffer, fails the same way.

A summary holds counts and fixed-format values only, never decoded personal text, so it can be kept in the
corpus's `expected.json` next to the bytes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from catalog.importers import CatalogImportError, RecordError, read_bytes
from devices.cards import em4100
from devices.cards.social_security import CardSession
from devices.doorcounter import codec as door
from devices.errors import DeviceError, FrameError
from devices.idcard import frames, record
from devices.printer import escpos_bytes
from devices.relay import codec as relay
from devices.scanner.lines import LineAssembler
from devices.scanner.wedge import WedgeAssembler
from kiosk.errors import ConfigError
from kiosk.sip2 import codec as sip2

Summary = dict[str, Any]


@dataclass(frozen=True)
class ParserTarget:
    name: str
    parse: Callable[[bytes], Summary]
    refusals: tuple[type[BaseException], ...]
    """What the parser may raise for bad input; anything else is a bug."""
    what: str


def _drain(next_item: Callable[[], Any], limit: int) -> tuple[int, int]:
    """(items, errors) from a stream decoder until it returns None; `limit` catches a decoder that never stops."""
    items = errors = 0
    for _ in range(limit):
        try:
            item = next_item()
        except FrameError:
            errors += 1
            continue
        if item is None:
            return items, errors
        items += 1
    raise AssertionError(f"decoder still yielding after {limit} calls")


def _idcard_frame(data: bytes) -> Summary:
    payload = frames.decode_frame(data)
    response = frames.parse_response(payload)
    return {"sw3": response.sw3, "data_bytes": len(response.data)}


def _idcard_stream(data: bytes) -> Summary:
    decoder = frames.FrameDecoder()
    decoder.feed(data)
    payloads, errors = _drain(decoder.next_payload, len(data) + 2)
    if decoder.pending > frames.HEADER_LENGTH + frames.MAX_LEN_WITH_FINGERPRINT:
        raise AssertionError(f"decoder holds {decoder.pending} bytes")
    return {"payloads": payloads, "errors": errors}


def _idcard_read_data(data: bytes) -> Summary:
    blocks = frames.split_read_data(data)
    text = record.parse_text(blocks.text)
    return {"photo_bytes": len(blocks.photo), "expired_2026": text.is_expired(date(2026, 1, 1))}


def _em4100_stream(data: bytes) -> Summary:
    decoder = em4100.Em4100Decoder()
    decoder.feed(data)
    tags, errors = _drain(decoder.next_tag, len(data) + 2)
    return {"tags": tags, "errors": errors}


def _scanner_lines(data: bytes) -> Summary:
    assembler = LineAssembler()
    assembler.feed(data)
    lines, errors = _drain(assembler.next_line, len(data) + 2)
    if len(assembler.pending) > assembler.max_length:
        raise AssertionError(f"assembler holds {len(assembler.pending)} bytes")
    return {"codes": lines, "errors": errors}


def _wedge(data: bytes) -> Summary:
    """Bytes as key events 20 ms apart: 0x0D is Enter, 0x01 a one-second pause (a person typing, not a scanner)."""
    assembler = WedgeAssembler()
    at, codes = 0.0, []
    for byte in data:
        if byte == 0x01:
            at += 1.0
            continue
        at += 0.02
        code = assembler.feed("enter" if byte == 0x0D else chr(byte), at)
        if code is not None:
            codes.append(code)
    return {"codes": len(codes), "longest": max((len(c) for c in codes), default=0)}


def _door_totals(data: bytes) -> Summary:
    report = door.parse_totals_line(data)
    return {"in": report.total_in, "out": report.total_out}


def _door_pointsix(data: bytes) -> Summary:
    packet = door.parse_pointsix(data)
    return {"count": packet.count, "sequence": packet.sequence}


def _relay_stream(data: bytes) -> Summary:
    buffer = bytearray(data)
    out = relay.split_lcus(buffer)
    if len(buffer) >= relay.LCUS_FRAME_LENGTH:
        raise AssertionError("split_lcus left a whole frame in the buffer")
    return {"commands": sum(isinstance(o, relay.RelayCommand) for o in out),
            "errors": sum(isinstance(o, FrameError) for o in out)}


def _relay_door(data: bytes) -> Summary:
    return {"open": relay.parse_door_line(data)}


def _printer_status(data: bytes) -> Summary:
    status = escpos_bytes.parse_paper_status(data)
    return {"out": status.out, "near_end": status.near_end}


class _ReplayedCard:
    """A card whose replies are the input: `[len][data…][SW1][SW2]` repeated, the APDU bytes a reader would get."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def transmit(self, apdu: list[int]) -> tuple[list[int], int, int]:
        if self.pos >= len(self.data):
            return [], 0x6A, 0x82
        length = self.data[self.pos]
        body = self.data[self.pos + 1: self.pos + 1 + length]
        sw = self.data[self.pos + 1 + length: self.pos + 3 + length].ljust(2, b"\x6f")
        self.pos += 3 + length
        return list(body), sw[0], sw[1]


def _social_security(data: bytes) -> Summary:
    card = CardSession(_ReplayedCard(data)).read()
    return {"card_number_chars": len(card.card_number), "name_chars": len(card.name)}


def _sip2(data: bytes) -> Summary:
    message = sip2.decode(data)
    return {"code": message.code, "fields": len(message.fields)}


def _importer(kind: str) -> Callable[[bytes], Summary]:
    def parse(data: bytes) -> Summary:
        records = errors = 0
        for item in read_bytes(data, f"fuzz.{kind}", kind):
            if isinstance(item, RecordError):
                errors += 1
            else:
                records += 1
        return {"records": records, "errors": errors}

    parse.__doc__ = f"The {kind} importer: records and per-record errors, or `UnreadableFile` for the whole file."
    return parse


def _config(data: bytes) -> Summary:
    from kiosk.config import load_settings

    with tempfile.TemporaryDirectory(prefix="kiosk-fuzz-") as tmp:
        path = Path(tmp) / "kiosk.toml"
        path.write_bytes(data)
        settings = load_settings(path, env={"KIOSK_DATA_DIR": tmp})
    return {"branch": settings.kiosk.branch}


TARGETS: dict[str, ParserTarget] = {t.name: t for t in (
    ParserTarget("idcard_frame", _idcard_frame, (FrameError,), "GA 467 reply frame (one frame, then SW1-3)"),
    ParserTarget("idcard_stream", _idcard_stream, (FrameError,), "GA 467 byte stream, resynchronising"),
    ParserTarget("idcard_read_data", _idcard_read_data, (FrameError,), "GA 467 read reply: lengths, text record"),
    ParserTarget("em4100_stream", _em4100_stream, (FrameError,), "EM4100 card-number reader stream"),
    ParserTarget("scanner_lines", _scanner_lines, (FrameError,), "serial barcode scanner lines"),
    ParserTarget("wedge", _wedge, (), "keyboard-wedge scanner key bursts"),
    ParserTarget("door_totals", _door_totals, (FrameError,), "door counter totals line"),
    ParserTarget("door_pointsix", _door_pointsix, (FrameError,), "door counter Point Six packet"),
    ParserTarget("relay_lcus", _relay_stream, (FrameError,), "LCUS relay frames"),
    ParserTarget("relay_door_line", _relay_door, (FrameError,), "door sensor line"),
    ParserTarget("printer_status", _printer_status, (FrameError,), "ESC/POS paper status byte"),
    ParserTarget("social_security", _social_security, (DeviceError,), "social-security card APDU replies"),
    ParserTarget("sip2", _sip2, (sip2.Sip2Error,), "SIP2 message"),
    ParserTarget("import_csv", _importer("csv"), (CatalogImportError,), "catalog CSV export"),
    ParserTarget("import_xlsx", _importer("xlsx"), (CatalogImportError,), "catalog XLSX export"),
    ParserTarget("import_marc", _importer("marc"), (CatalogImportError,), "MARC21/CNMARC ISO 2709 or MARCXML"),
    ParserTarget("config", _config, (ConfigError,), "kiosk.toml"),
)}


def run_target(target: ParserTarget, data: bytes) -> Summary:
    """`{"ok": summary}` or `{"refused": ErrorType}`; an undocumented exception propagates."""
    try:
        return {"ok": target.parse(data)}
    except target.refusals as exc:
        return {"refused": type(exc).__name__}


@dataclass
class FuzzTally:
    inputs: int = 0
    accepted: int = 0
    refused: int = 0
    crashes: list[str] | None = None
    """`ExceptionType: hex of the first bytes` of each input that raised something undocumented."""


def mutate(rng: Any, seeds: list[bytes]) -> bytes:
    """A seed with up to four bit flips, cuts, insertions or splices (the same moves as the hypothesis test)."""
    data = bytearray(rng.choice(seeds))
    for _ in range(rng.randint(0, 4)):
        op, at = rng.choice(("flip", "cut", "insert", "splice")), rng.randint(0, len(data))
        if op == "flip" and data:
            data[min(at, len(data) - 1)] ^= 1 << rng.randint(0, 7)
        elif op == "cut":
            del data[at: at + rng.randint(1, 64)]
        elif op == "insert":
            data[at:at] = rng.randbytes(rng.randint(1, 16))
        else:
            data[at:] = rng.choice(seeds)
    return bytes(data)


def fuzz(target: ParserTarget, seeds: list[bytes], *, inputs: int, seed: int) -> FuzzTally:
    """`inputs` random byte strings (a third) and corpus mutations (the rest) through one parser, outside pytest:
    `kiosk reliability report` uses it for the figures in docs/RELIABILITY.md."""
    import random

    rng = random.Random(seed)
    tally = FuzzTally(crashes=[])
    for n in range(inputs):
        data = rng.randbytes(rng.randint(0, 600)) if n % 3 == 0 else mutate(rng, seeds or [b""])
        tally.inputs += 1
        try:
            outcome = run_target(target, data)
        except Exception as exc:  # recorded, so the report shows it instead of dying on the first
            assert tally.crashes is not None
            tally.crashes.append(f"{type(exc).__name__}: {data[:24].hex()}")
            continue
        tally.accepted += "ok" in outcome
        tally.refused += "refused" in outcome
    return tally
