"""`sim:printer`: an ESC/POS printer on a pty that records every byte and answers `DLE EOT` status queries.

`paper_out()` / `paper_loaded()` / `near_end()` set the paper sensor; `silence()` (base class) makes it a
powered-off printer that answers nothing; `wire` holds every byte the driver sent (status queries included),
`receipts` the print data split at each cut.
"""

from __future__ import annotations

import threading
from typing import Any

from devices.printer.escpos_bytes import (
    DLE_EOT_PAPER,
    DLE_EOT_PRINTER,
    PaperStatus,
    encode_paper_status,
    encode_printer_status,
)
from devices.simulators.base import Simulator

CUT = b"\x1dV"


class PrinterSimulator(Simulator):
    kind = "printer"

    def __init__(self, name: str, *, link: str | None = None) -> None:
        super().__init__(name, link=link)
        self.wire = bytearray()
        self.paper = PaperStatus(near_end=False, out=False)
        self._arrived = threading.Condition(self.lock)
        self._scan_from = 0

    def paper_out(self) -> None:
        self.paper = PaperStatus(near_end=True, out=True)

    def near_end(self) -> None:
        self.paper = PaperStatus(near_end=True, out=False)

    def paper_loaded(self) -> None:
        self.paper = PaperStatus(near_end=False, out=False)

    def received(self, data: bytes) -> None:
        with self._arrived:
            self.wire += data
            self._answer_queries()
            self._arrived.notify_all()

    def _answer_queries(self) -> None:
        while True:
            index = self.wire.find(b"\x10\x04", self._scan_from)
            if index < 0 or index + 2 >= len(self.wire):
                if index < 0:
                    self._scan_from = max(0, len(self.wire) - 1)
                return
            request = bytes(self.wire[index : index + 3])
            self._scan_from = index + 3
            if request == DLE_EOT_PAPER:
                self.send(encode_paper_status(self.paper))
            elif request == DLE_EOT_PRINTER:
                self.send(encode_printer_status(True))

    def receipts(self) -> list[bytes]:
        """Print data between cuts, status queries removed."""
        with self.lock:
            data = bytes(self.wire).replace(DLE_EOT_PAPER, b"").replace(DLE_EOT_PRINTER, b"")
        parts = data.split(CUT)
        return parts[:-1]

    def wait_receipts(self, count: int, timeout: float) -> bool:
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.receipts()) >= count, timeout)

    def kind_command(self, verb: str, args: list[str]) -> str | None:
        if verb == "paper":
            state = args[0] if args else "ok"
            {"out": self.paper_out, "low": self.near_end}.get(state, self.paper_loaded)()
            return f"paper: {self.paper}"
        if verb == "receipts":
            return f"{len(self.receipts())} receipts, {len(self.wire)} bytes"
        return None

    def kind_help(self) -> str:
        return "paper out|low|ok | receipts"


def create_printer(name: str, **options: Any) -> PrinterSimulator:
    return PrinterSimulator(name, **options)
