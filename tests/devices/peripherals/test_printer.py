"""Receipt printer: bytes on the wire (escpos Dummy-based encoder), status replies, outcomes against `sim:printer`."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.errors import FrameError
from devices.events import DeviceFault
from devices.printer.escpos_bytes import (
    DLE_EOT_PAPER,
    PaperStatus,
    encode_paper_status,
    encode_printer_status,
    encode_receipt,
    parse_paper_status,
    parse_printer_online,
)
from devices.printer.printer import PrintStatus, ReceiptPrinter
from devices.printer.simulator import PrinterSimulator
from devices.simulators.registry import get_simulator, start_simulator
from tests.devices.conftest import WAIT_S, EventLog


def test_chinese_text_is_sent_raw_in_gb18030() -> None:
    data = encode_receipt(["借书凭条", "Total 2"], qr=None)
    assert data.startswith(b"\x1b@\x1c&")
    assert "借书凭条".encode("gb18030") + b"\n" in data
    assert b"?" not in data
    assert data.endswith(b"\x1dV\x00")


def test_utf8_printers_get_no_chinese_mode_and_the_qr_is_native() -> None:
    data = encode_receipt(["借书"], qr="https://lib.example/r/42", encoding="utf-8", cut=False)
    assert b"\x1c&" not in data
    assert "借书".encode() in data
    assert b"\x1d(k" in data and b"https://lib.example/r/42" in data


@pytest.mark.parametrize(("near", "out"), [(False, False), (True, False), (True, True)])
def test_status_bytes_round_trip(near: bool, out: bool) -> None:
    assert parse_paper_status(encode_paper_status(PaperStatus(near, out))) == PaperStatus(near, out)
    assert parse_printer_online(encode_printer_status(True)) is True
    assert parse_printer_online(encode_printer_status(False)) is False


@given(st.binary(max_size=4))
def test_arbitrary_status_replies_raise_only_frame_error(data: bytes) -> None:
    with contextlib.suppress(FrameError):
        parse_paper_status(data)
    with contextlib.suppress(FrameError):
        parse_printer_online(data)


def test_receipt_reaches_the_simulated_printer(events: EventLog, leak_check: None) -> None:
    printer = ReceiptPrinter("sim:printer?name=front", events, name="front")
    outcome = printer.print_lines(["借书凭条", "《三体》 到期 2026-12-22"], qr="R-42").result(WAIT_S)
    assert outcome.status is PrintStatus.PRINTED and outcome.message_key == "device.printer_printed"
    sim = get_simulator("front")
    assert isinstance(sim, PrinterSimulator)
    assert sim.wait_receipts(1, WAIT_S)
    receipt = sim.receipts()[0]
    assert "《三体》 到期 2026-12-22".encode("gb18030") in receipt
    assert DLE_EOT_PAPER in bytes(sim.wire)
    printer.stop()


def test_paper_out_is_an_outcome_and_nothing_is_printed(events: EventLog) -> None:
    sim = start_simulator("printer", "front")
    assert isinstance(sim, PrinterSimulator)
    sim.paper_out()
    printer = ReceiptPrinter("sim:printer?name=front", events, name="front")
    outcome = printer.print_lines(["借书凭条"]).result(WAIT_S)
    assert outcome.status is PrintStatus.PAPER_OUT
    assert outcome.message_key == "device.printer_paper_out"
    assert sim.receipts() == []
    assert [f.code for f in events.of(DeviceFault)] == ["paper_out"]
    sim.near_end()
    assert printer.print_lines(["借书凭条"]).result(WAIT_S).paper_near_end
    printer.stop()


def test_a_silent_or_missing_printer_is_unavailable_without_blocking(events: EventLog) -> None:
    sim = start_simulator("printer", "mute")
    sim.silence()
    printer = ReceiptPrinter("sim:printer?name=mute", events, name="mute", status_timeout=0.1)
    assert printer.print_lines(["x"]).result(WAIT_S).status is PrintStatus.UNAVAILABLE
    printer.stop()
    missing = ReceiptPrinter("/dev/ttyNOPE-printer", events, name="missing")
    assert missing.print_lines(["x"]).result(WAIT_S).status is PrintStatus.UNAVAILABLE
    missing.stop()
    typo = ReceiptPrinter("nonsense://x", events, name="typo")
    assert typo.print_lines(["x"]).result(WAIT_S).status is PrintStatus.NOT_CONFIGURED
    typo.stop()


def test_file_printer_gets_the_same_bytes(tmp_path: Path, events: EventLog) -> None:
    target = tmp_path / "lp0"
    target.write_bytes(b"")
    printer = ReceiptPrinter(f"file:{target}", events, name="file", encoding="gbk")
    assert printer.print_lines(["还书成功"]).result(WAIT_S).printed
    printer.stop()
    assert target.read_bytes() == encode_receipt(["还书成功"], encoding="gbk")


def test_unknown_encoding_is_refused_at_configuration() -> None:
    with pytest.raises(LookupError):
        ReceiptPrinter("sim:printer", encoding="klingon")
