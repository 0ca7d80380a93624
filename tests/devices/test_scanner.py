from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.errors import FrameError
from devices.events import BarcodeScanned, DeviceFault, HealthState
from devices.scanner.lines import LineAssembler, terminator_bytes
from devices.scanner.serial_scanner import SerialScanner
from devices.simulators.line import ScannerSimulator
from devices.simulators.registry import start_simulator

from .conftest import EventLog


def lines_of(assembler: LineAssembler) -> list[str | str]:
    out: list[str] = []
    while True:
        try:
            line = assembler.next_line()
        except FrameError as exc:
            out.append(f"!{exc}")
            continue
        if line is None:
            return out
        out.append(line)


@pytest.mark.parametrize("terminator", [b"\r", b"\n", b"\r\n"])
def test_cr_lf_and_crlf_all_end_a_line(terminator: bytes) -> None:
    assembler = LineAssembler()
    assembler.feed(b"9787020002207" + terminator + b"TS00" + b"01234" + terminator)
    assert lines_of(assembler) == ["9787020002207", "TS0001234"]


def test_prefix_suffix_and_split_reads() -> None:
    assembler = LineAssembler(b"\t", strip_prefix="]E0", strip_suffix="#")
    for byte in b"]E09787020002207#\t":
        assembler.feed(bytes((byte,)))
    assert lines_of(assembler) == ["9787020002207"]


def test_bad_lines_are_frame_errors_and_reading_goes_on() -> None:
    assembler = LineAssembler(max_length=16)
    assembler.feed(b"\x00\xff\x13\r" + b"A" * 40 + b"\rTS0001\r")
    result = lines_of(assembler)
    assert result[-1] == "TS0001"
    assert all(line.startswith("!") for line in result[:-1]) and len(result) == 3


def test_terminator_words() -> None:
    assert terminator_bytes("CRLF") == b"\r\n" and terminator_bytes("\t") == b"\t" and terminator_bytes("lf") == b"\n"
    with pytest.raises(ValueError):
        terminator_bytes("")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=10))
def test_arbitrary_bytes_raise_only_frame_error(chunks: list[bytes]) -> None:
    assembler = LineAssembler(max_length=32)
    for chunk in chunks:
        assembler.feed(chunk)
        lines_of(assembler)
        assert len(assembler.pending) <= 33


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(r"\A[0-9A-Z\-]{1,30}\Z"), max_size=8), st.integers(1, 20))
def test_round_trip_any_chunking(codes: list[str], chunk: int) -> None:
    stream = b"".join(code.encode() + b"\r\n" for code in codes)
    assembler = LineAssembler()
    got: list[str] = []
    for start in range(0, len(stream), chunk):
        assembler.feed(stream[start : start + chunk])
        got += lines_of(assembler)
    assert got == codes


def scanner_sim(name: str, **options: Any) -> ScannerSimulator:
    simulator = start_simulator("scanner", name, **options)
    assert isinstance(simulator, ScannerSimulator)
    return simulator


def test_serial_scanner_over_a_pty(events: EventLog) -> None:
    simulator = scanner_sim("desk", prefix="]C1")
    scanner = SerialScanner("sim:scanner?name=desk", events, name="scanner", prefix="]C1")
    scanner.start()
    try:
        events.wait_health(HealthState.CONNECTED)
        for code in ["9787020002207", "TS0001234", "31234000012344"]:
            simulator.scan(code)
        scans = events.wait_count(BarcodeScanned, 3)
        assert [s.code for s in scans] == ["9787020002207", "TS0001234", "31234000012344"]
        simulator.send(b"\x01\x02\x03\r")
        events.wait_count(DeviceFault, 1)
        simulator.scan("TS0009999")
        assert events.wait_count(BarcodeScanned, 4)[-1].code == "TS0009999"
    finally:
        assert scanner.stop()


def test_half_a_code_at_unplug_is_never_glued_to_the_next(events: EventLog, tmp_path: Path) -> None:
    link = tmp_path / "scanner"
    simulator = scanner_sim("cable", link=str(link))
    scanner = SerialScanner(str(link), events, name="scanner")
    scanner.start()
    try:
        events.wait_health(HealthState.CONNECTED)
        simulator.scan("TS0000001")
        events.wait_count(BarcodeScanned, 1)
        simulator.send_partial("TS0000002")
        mark = len(events.events)
        simulator.unplug()
        events.wait_health(HealthState.RECONNECTING, after=mark)
        simulator.replug()
        events.wait_health(HealthState.CONNECTED, after=mark)
        simulator.scan("TS0000003")
        scans = events.wait_count(BarcodeScanned, 2)
        assert [s.code for s in scans] == ["TS0000001", "TS0000003"]
        assert scanner.connections == 2
    finally:
        assert scanner.stop()


def test_scanner_over_tcp(events: EventLog) -> None:
    simulator = start_simulator("scanner", "tcp-scanner", serve_pty=False)
    assert isinstance(simulator, ScannerSimulator)
    port = simulator.serve_tcp()
    scanner = SerialScanner(f"socket://127.0.0.1:{port}", events, name="scanner")
    scanner.start()
    try:
        events.wait_health(HealthState.CONNECTED)
        events.wait_for(lambda: simulator.connections == 1, "the TCP client")
        simulator.scan("9787532776771")
        assert events.wait_count(BarcodeScanned, 1)[0].code == "9787532776771"
    finally:
        assert scanner.stop()
