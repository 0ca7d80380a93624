"""The corpus of bad inputs: named byte strings per parser, each with the behaviour it must get.

`tests/corpus/<target>/<case>.bin` holds the bytes and `tests/corpus/<target>/expected.json` what the parser must
do with each: `{"refused": "FrameError"}` (its documented error, nothing else) or `{"ok": {…summary…}}` (a
tolerated input: the noise around a good frame is skipped, a bad row is reported and the rest imported).
The expectations are written down here by hand, from the protocol, not recorded from the parser's output: a parser
that starts accepting a truncated frame, or raising `IndexError` on it, fails `tests/corpus/test_corpus.py`.

`kiosk reliability corpus --write tests/corpus` regenerates the files from this table; add a case here (and its
bytes) when a field report shows a new way a device or an export can be wrong. Fuzzing finds the crashes; the
corpus keeps each one fixed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from devices.cards.em4100 import Em4100Tag
from devices.cards.em4100 import encode_frame as em4100_frame
from devices.doorcounter import codec as door
from devices.idcard import frames
from devices.idcard.record import IdCardText
from devices.relay import codec as relay
from kiosk.reliability.parsers import TARGETS, run_target
from kiosk.sip2 import codec as sip2

FE = {"refused": "FrameError"}
RE = {"refused": "RecordError"}
"""The ID-card text record's own `FrameError` subclass."""


@dataclass(frozen=True)
class Case:
    target: str
    name: str
    data: bytes
    expect: dict[str, Any]
    why: str


def _xlsx(rows: list[list[str]]) -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _marc_record(fields: list[tuple[str, bytes]], *, leader_length: int | None = None) -> bytes:
    directory = b""
    body = b""
    for tag, value in fields:
        value += b"\x1e"
        directory += tag.encode() + f"{len(value):04d}{len(body):05d}".encode()
        body += value
    base = 24 + len(directory) + 1
    total = base + len(body) + 1
    leader = f"{leader_length or total:05d}nam a22{base:05d}   4500".encode()
    return leader + directory + b"\x1e" + body + b"\x1d"


def cases() -> Iterator[Case]:
    ok_reply = frames.encode_response(frames.Status.OK, b"\x01\x02")
    yield Case("idcard_frame", "good", ok_reply, {"ok": {"sw3": 0x90, "data_bytes": 2}}, "a well-formed reply")
    yield Case("idcard_frame", "bad_checksum", ok_reply[:-1] + bytes([ok_reply[-1] ^ 0xFF]), FE, "line noise")
    yield Case("idcard_frame", "truncated", ok_reply[:-3], FE, "reader unplugged mid-frame")
    yield Case("idcard_frame", "no_preamble", ok_reply[3:], FE, "joined mid-stream")
    yield Case("idcard_frame", "len_too_small", frames.PREAMBLE + b"\x00\x01\x01", FE, "LEN below SW1-3 + CHK")
    yield Case("idcard_frame", "len_lies", frames.PREAMBLE + b"\xff\xff" + b"\x00" * 8, FE, "LEN 65535, 8 bytes")
    yield Case("idcard_frame", "empty", b"", FE, "no reply at all")

    yield Case("idcard_stream", "garbage_then_good", b"\x96\x69\xaa\x00garbage" + ok_reply,
               {"ok": {"payloads": 1, "errors": 0}}, "noise before a frame is skipped")
    yield Case("idcard_stream", "impossible_len_then_good", frames.PREAMBLE + b"\xff\xfe" + ok_reply,
               {"ok": {"payloads": 1, "errors": 1}}, "an impossible LEN costs one error, then resync")
    yield Case("idcard_stream", "two_bad_checksums", (ok_reply[:-1] + b"\x00") * 2,
               {"ok": {"payloads": 0, "errors": 2}}, "each bad frame counted once")
    yield Case("idcard_stream", "preambles_only", frames.PREAMBLE * 50, {"ok": {"payloads": 0, "errors": 49}},
               "a stuck reader repeating its preamble: every LEN read (AA AA) is impossible, one error each, "
               "then a bounded buffer waits for more")

    text = IdCardText(name="测试", id_number="11010519491231002X", valid_to=None, valid_from=date(2015, 1, 1)).encode()
    read = frames.encode_read_data(text, b"\x00" * 1024)
    yield Case("idcard_read_data", "good", read, {"ok": {"photo_bytes": 1024, "expired_2026": False}},
               "a card with a 长期 validity")
    yield Case("idcard_read_data", "lengths_lie", b"\x01\x00\x04\x00" + text, FE, "photo length beyond the data")
    yield Case("idcard_read_data", "short_text", frames.encode_read_data(text[:100], b""), RE,
               "text record not 256 bytes")
    yield Case("idcard_read_data", "not_utf16", frames.encode_read_data(b"\x00\xd8" * 128, b""), RE,
               "unpaired UTF-16 surrogates")
    bad_check = text.replace("11010519491231002X".encode("utf-16-le"), "110105194912310021".encode("utf-16-le"))
    yield Case("idcard_read_data", "id_check_digit", frames.encode_read_data(bad_check, b""), RE,
               "an ID number failing GB 11643")

    tag = em4100_frame(Em4100Tag(version=0x1A, tag=12345678))
    yield Case("em4100_stream", "good_twice", tag * 2, {"ok": {"tags": 2, "errors": 0}}, "a card held on the reader")
    yield Case("em4100_stream", "bad_checksum", tag[:11] + b"00" + tag[13:], {"ok": {"tags": 0, "errors": 1}},
               "EM4100 XOR mismatch")
    yield Case("em4100_stream", "non_hex", b"\x02ZZZZZZZZZZZZ\x03" + tag, {"ok": {"tags": 1, "errors": 1}},
               "garbled frame, then a good one")

    yield Case("scanner_lines", "two_codes", b"TS0001\r\nTS0002\r", {"ok": {"codes": 2, "errors": 0}}, "CR and CRLF")
    yield Case("scanner_lines", "control_bytes", b"TS\x00\x07001\r\nTS0002\r\n", {"ok": {"codes": 1, "errors": 1}},
               "a garbled read between good ones")
    yield Case("scanner_lines", "endless_line", b"9" * 5000, {"ok": {"codes": 0, "errors": 1}},
               "a scanner stuck in continuous mode: dropped, never an unbounded buffer")
    yield Case("scanner_lines", "gbk_bytes", "图书\r\n".encode("gbk"), {"ok": {"codes": 0, "errors": 1}},
               "a scanner in a Chinese keyboard mode")

    yield Case("wedge", "scan_burst", b"TS0001234\r", {"ok": {"codes": 1, "longest": 9}}, "a scanner types fast")
    yield Case("wedge", "person_typing", b"T\x01S\x010\x010\x011\r", {"ok": {"codes": 0, "longest": 0}},
               "a person at the keyboard is not a scan")
    yield Case("wedge", "too_long", b"8" * 300 + b"\r", {"ok": {"codes": 1, "longest": 42}},
               "a key held down: the burst restarts every 129 keys, so the tail (42 keys) is passed on, and "
               "circulation refuses it as an unknown barcode")

    good_totals = door.encode_totals_line(door.TotalsReport(total_in=12, total_out=3)).rstrip(b"\r\n")
    yield Case("door_totals", "good", good_totals, {"ok": {"in": 12, "out": 3}}, "checksummed totals line")
    yield Case("door_totals", "bad_checksum", good_totals[:-2] + b"00", FE, "line noise")
    yield Case("door_totals", "negative", b"IN=-5,OUT=2", FE, "a counter never goes below zero")
    yield Case("door_totals", "huge", b"IN=" + b"9" * 100 + b",OUT=1", FE, "more digits than the counter holds")
    yield Case("door_totals", "no_out", b"IN=5", FE, "half a line")
    yield Case("door_totals", "bad_time", b"IN=5,OUT=1,T=2026-13-45T99:00:00", FE, "an impossible device time")
    yield Case("door_totals", "too_long", b"IN=1,OUT=1," + b"X=1," * 100, FE, "longer than any real line")

    packet = door.encode_pointsix(door.PointSixPacket(packet_type=1, serial="0A0B0C0D", count=77,
                                                      flags=door.PointSixFlags(0), sequence=9)).rstrip(b"\r")
    yield Case("door_pointsix", "good", packet, {"ok": {"count": 77, "sequence": 9}}, "a Point Six packet")
    yield Case("door_pointsix", "bad_checksum", packet[:-2] + b"00", FE, "line noise")
    yield Case("door_pointsix", "short", packet[:20], FE, "truncated")
    yield Case("door_pointsix", "not_hex", b"G" * len(packet), FE, "not hex")

    on = relay.encode_lcus(1, True)
    yield Case("relay_lcus", "good", on, {"ok": {"commands": 1, "errors": 0}}, "switch channel 1 on")
    yield Case("relay_lcus", "channel_zero", b"\xa0\x00\x01\xa1", {"ok": {"commands": 0, "errors": 2}},
               "channel 0 does not exist: the frame, then its 3 remaining bytes as garbage")
    yield Case("relay_lcus", "state_two", b"\xa0\x01\x02\xa3", {"ok": {"commands": 0, "errors": 2}},
               "state must be 0 or 1: the frame, then its 3 remaining bytes as garbage")
    yield Case("relay_lcus", "garbage_then_good", b"\x00\xff" + on, {"ok": {"commands": 1, "errors": 1}},
               "resync on A0")

    yield Case("relay_door_line", "open", b"DOOR OPEN", {"ok": {"open": True}}, "the sensor's own words")
    yield Case("relay_door_line", "ajar", b"DOOR AJAR", FE, "an unknown word is never read as closed")
    yield Case("relay_door_line", "latin1", b"OPEN\xe9", FE, "non-ASCII")

    yield Case("printer_status", "paper_out", bytes([0x12 | 0x60]), {"ok": {"out": True, "near_end": False}},
               "DLE EOT 4 reply: roll empty")
    yield Case("printer_status", "two_bytes", b"\x12\x12", FE, "a status reply is one byte")
    yield Case("printer_status", "not_status", b"\xff", FE, "fixed bits wrong: not a status byte")
    yield Case("printer_status", "none", b"", FE, "printer unplugged: no reply")

    yield Case("social_security", "all_refused", b"\x00\x6a\x82" * 4, {"refused": "CardCommandError"},
               "the card has no social-security application")
    yield Case("social_security", "select_ok_then_silence", b"\x00\x90\x00", {"refused": "CardCommandError"},
               "card pulled out after SELECT")
    yield Case("social_security", "wrong_tlv_tag", b"\x00\x90\x00" * 2 + b"\x04\x09\x02AB\x90\x00",
               {"refused": "CardCommandError"}, "record returned with another tag")
    yield Case("social_security", "tlv_too_short", b"\x00\x90\x00" * 2 + b"\x03\x05\x09A\x90\x00",
               {"refused": "CardCommandError"}, "TLV length beyond the data")

    login = sip2.encode(sip2.make("93", {"uid_algorithm": "0", "pwd_algorithm": "0"}, [("CN", "kiosk"), ("CO", "x")],
                                  sequence=1), error_detection=True)
    yield Case("sip2", "good_login", login, {"ok": {"code": "93", "fields": 2}}, "a checksummed login")
    yield Case("sip2", "bad_checksum", login.rstrip(b"\r")[:-4] + b"0000\r", {"refused": "ChecksumError"},
               "line noise")
    yield Case("sip2", "unknown_code", b"ZZhello\r", {"refused": "Sip2Error"}, "not a SIP2 message")
    yield Case("sip2", "truncated_fixed", b"11YN2026\r", {"refused": "Sip2Error"}, "fixed fields cut short")
    yield Case("sip2", "not_utf8", b"9300CN\xff\xfe|CO\x80|", {"refused": "Sip2Error"}, "undecodable bytes")
    yield Case("sip2", "huge", b"93" + b"0" * 100_000, {"refused": "Sip2Error"}, "longer than any message")

    header = "题名,ISBN,条码号\r\n"
    yield Case("import_csv", "mixed_rows", (header + "好书,9787020002207,B1\r\n,9787020002207,B2\r\n"
                                            "坏ISBN,9787020002208,B3\r\n").encode("utf-8"),
               {"ok": {"records": 1, "errors": 2}}, "a bad row is reported, the good one imported")
    yield Case("import_csv", "gbk", (header + "红楼梦,,B9\r\n").encode("gb18030"), {"ok": {"records": 1, "errors": 0}},
               "an export from a Windows library system")
    yield Case("import_csv", "binary", bytes(range(256)) * 4, {"refused": "UnreadableFile"}, "a photo renamed .csv")
    yield Case("import_csv", "no_title_column", b"foo,bar\r\n1,2\r\n", {"refused": "UnreadableFile"},
               "headers that name no catalog field")
    yield Case("import_csv", "barcode_with_space", (header + "书,,B 1\r\n").encode(),
               {"ok": {"records": 0, "errors": 1}}, "a barcode no scanner can produce")

    yield Case("import_xlsx", "good", _xlsx([["题名", "条码号"], ["书", "X1"], ["", "X2"]]),
               {"ok": {"records": 1, "errors": 1}}, "a spreadsheet with one empty title")
    yield Case("import_xlsx", "truncated_zip", _xlsx([["题名"], ["书"]])[:300], {"refused": "UnreadableFile"},
               "a download cut short")
    yield Case("import_xlsx", "not_zip", b"PK\x03\x04" + b"\x00" * 100, {"refused": "UnreadableFile"},
               "a damaged spreadsheet")

    good_marc = _marc_record([("001", b"1"), ("245", b"00\x1faMARC title")])
    yield Case("import_marc", "good", good_marc, {"ok": {"records": 1, "errors": 0}}, "a MARC21 record")
    yield Case("import_marc", "directory_lies", good_marc[:24] + b"245009900000" + good_marc[36:],
               {"ok": {"records": 0, "errors": 1}}, "a directory entry beyond the record")
    yield Case("import_marc", "short_then_good", b"0001" + b"\x1d" + good_marc, {"ok": {"records": 1, "errors": 1}},
               "one damaged record does not cost the rest")
    yield Case("import_marc", "bad_xml", b"<?xml version='1.0'?><collection><record><leader>",
               {"refused": "UnreadableFile"}, "a MARCXML file cut short: not XML, so not a file to import")

    yield Case("config", "good", b'[kiosk]\nbranch = "NORTH"\n', {"ok": {"branch": "NORTH"}}, "a branch code")
    yield Case("config", "not_toml", b"[kiosk\nbranch=", {"refused": "ConfigError"}, "a typo in an edit")
    yield Case("config", "not_utf8", b'[kiosk]\nbranch = "\xff"\n', {"refused": "ConfigError"}, "a GBK editor")
    yield Case("config", "wrong_type", b"[kiosk]\nbranch = 5\n", {"refused": "ConfigError"}, "a number for text")
    yield Case("config", "section_not_table", b"kiosk = 1\n", {"refused": "ConfigError"}, "a section as a value")
    yield Case("config", "bad_url", b'[database]\nurl = "mysql://x"\n', {"refused": "ConfigError"},
               "an unsupported database")


def write_corpus(root: Path) -> int:
    """(Re)write every case and the `expected.json` of each target; the number of cases."""
    by_target: dict[str, dict[str, Any]] = {}
    count = 0
    for case in cases():
        folder = root / case.target
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{case.name}.bin").write_bytes(case.data)
        by_target.setdefault(case.target, {})[f"{case.name}.bin"] = {**case.expect, "why": case.why}
        count += 1
    for target, table in by_target.items():
        (root / target / "expected.json").write_text(json.dumps(table, ensure_ascii=False, indent=1, sort_keys=True)
                                                     + "\n", encoding="utf-8")
    return count


@dataclass(frozen=True)
class CorpusOutcome:
    target: str
    case: str
    expected: dict[str, Any]
    got: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.expected == self.got


def check_corpus(root: Path) -> list[CorpusOutcome]:
    """Feed every stored case to its parser; an undocumented exception is recorded as `{"crashed": type}`."""
    outcomes = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and (p / "expected.json").is_file()):
        target = TARGETS[folder.name]
        table = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
        for name, entry in sorted(table.items()):
            expected = {k: v for k, v in entry.items() if k != "why"}
            data = (folder / name).read_bytes()
            try:
                got = run_target(target, data)
            except Exception as exc:  # the point is to record it, not to crash the report
                got = {"crashed": type(exc).__name__}
            outcomes.append(CorpusOutcome(folder.name, name, expected, got))
    return outcomes
