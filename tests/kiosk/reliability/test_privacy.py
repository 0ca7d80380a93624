"""PIPL in practice: after a whole visit through the real drivers, nothing written anywhere names the resident.

The visit: the demo resident's card is placed on the simulated GA 467 reader (the driver reads the real 256-byte
record, with the raw ID number and name, off the pty), a book is lent, a receipt is printed on the simulated ESC/POS
printer, the resident rates and leaves. Then every log record of the run (captured UNREDACTED at DEBUG, so the
redacting log formatter cannot hide a leak), the rotating log file, the printed bytes, every table of the database
and the final screen state are searched for the ID number (in any case) and the full name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from devices.idcard.demo_cards import DEMO_CARDS
from devices.identity import mask_name
from devices.simulators.registry import get_simulator
from kiosk.config import DatabaseSettings, DeviceSettings, load_settings
from kiosk.demo import ensure_demo_data
from kiosk.ops.logging_setup import setup_logging
from kiosk.runtime import KioskRuntime
from kiosk.session.view import Screen


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.args!r} {record.exc_text or ''}")


def _wait(predicate, what: str, seconds: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out: {what}")


def test_a_whole_visit_leaves_no_identity_behind(kiosk_env: Path, database_url: str) -> None:
    card = DEMO_CARDS[0]
    settings = replace(
        load_settings(),
        database=DatabaseSettings(url=database_url, auto_migrate=True),
        devices=DeviceSettings(idcard="sim:idcard?name=privacy-id", scanner="sim:scanner?name=privacy-scan",
                               printer="sim:printer?name=privacy-print", idcard_poll_interval_s=0.1),
    )
    ensure_demo_data(replace(settings, kiosk=replace(settings.kiosk, demo_data_titles=60)))
    capture = Everything()
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(capture)
    file_handler = setup_logging(settings, level="DEBUG")
    runtime = KioskRuntime(settings)
    try:
        runtime.start()
        from kiosk.demo import available_barcodes

        _wait(lambda: get_simulator("privacy-id") is not None, "reader simulator")
        get_simulator("privacy-id").place_card(card)  # type: ignore[union-attr]
        _wait(lambda: runtime.session.current().screen == Screen.MENU, "card identified")
        get_simulator("privacy-scan").scan(available_barcodes(runtime)[0])  # type: ignore[union-attr]
        _wait(lambda: bool(runtime.session.current().scans), "book lent")
        assert runtime.session.current().scans[-1].ok
        runtime.session.finish()
        runtime.session.choose_receipt("print")
        _wait(lambda: runtime.session.current().screen == Screen.RECEIPT, "receipt")
        printer = get_simulator("privacy-print")
        assert printer is not None and printer.wait_receipts(1, 10)  # type: ignore[attr-defined]
        runtime.session.finish()
        runtime.session.rate("good")
        _wait(lambda: runtime.session.current().screen == Screen.ATTRACT, "back to attract")
        final_view = repr(runtime.session.current())
        printed = b"".join(printer.receipts())  # type: ignore[attr-defined]
        tables: list[str] = []
        with runtime.db.engine.connect() as conn:
            for table in inspect(runtime.db.engine).get_table_names():
                tables += [repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table}"'))]
    finally:
        runtime.stop()
        root.removeHandler(capture)
        root.removeHandler(file_handler)
        file_handler.close()
        root.setLevel(old_level)
    log_file = "".join(p.read_text(encoding="utf-8") for p in (settings.data_dir / "logs").glob("kiosk.log*"))
    assert capture.lines, "the run must have logged something for this test to mean anything"
    assert mask_name(card.name) in printed.decode("gb18030", "replace"), "the receipt shows the masked name"
    haystacks = {"log records": "\n".join(capture.lines), "log file": log_file, "screen": final_view,
                 "receipt": printed.decode("gb18030", "replace"), "database": "\n".join(tables)}
    for where, text_ in haystacks.items():
        for secret_value in (card.id_number, card.id_number.lower(), card.name, card.address):
            assert secret_value not in text_, f"{where} contains personal data"


@pytest.fixture(autouse=True)
def _stop_simulators() -> Iterator[None]:
    yield
    from devices.simulators.registry import stop_all

    stop_all()


def test_a_crash_report_never_carries_an_id_number(kiosk_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An uncaught exception whose message quotes a raw ID number, in a device thread and in the main thread:
    the crash file, the log file and stderr (the systemd journal) hold only the redacted form."""
    import stat
    import sys
    import threading

    from kiosk.ops.service import OpsRuntime

    card = DEMO_CARDS[0]
    settings = load_settings()
    ops = OpsRuntime(settings)
    ops.start(maintenance=False)
    try:
        def device_thread() -> None:
            raise ValueError(f"record {card.id_number} did not decode")

        worker = threading.Thread(target=device_thread, name="idcard-reader")
        worker.start()
        worker.join()
        try:
            raise KeyError(f"patron {card.id_number.lower()} not cached")
        except KeyError:
            sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]  # what the interpreter calls on the way out
    finally:
        ops.stop()
    reports = sorted((settings.data_dir / "crash").glob("crash-*.txt"))
    assert len(reports) == 2 and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in reports)
    crash_text = "".join(p.read_text(encoding="utf-8") for p in reports)
    assert "idcard-reader" in crash_text and "[ID-REDACTED]" in crash_text and "KeyError" in crash_text
    log_file = "".join(p.read_text(encoding="utf-8") for p in (settings.data_dir / "logs").glob("kiosk.log*"))
    journal = capsys.readouterr().err
    assert "ValueError" in journal and "ValueError" in log_file
    for where, text_ in {"crash report": crash_text, "log file": log_file, "stderr": journal}.items():
        for secret_value in (card.id_number, card.id_number.lower()):
            assert secret_value not in text_, f"{where} contains an ID number"
