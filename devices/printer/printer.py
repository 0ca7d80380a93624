"""The receipt printer as the core uses it: `print_lines(...)` returns at once with a `Future[PrintOutcome]`.

A loan never waits for paper: jobs run one at a time on the printer's own worker thread, each job opens the
printer, asks the paper sensor where the transport can read (`DLE EOT 4`), writes the receipt and closes. Opening
per job costs a few milliseconds and needs no reconnect logic: a printer unplugged between two receipts is simply
found missing by the next job. Every failure is an outcome, never an exception in the caller: `PAPER_OUT` and
`UNAVAILABLE` tell the core to show the receipt on screen (with its QR code) instead.

Also honours the driver contract (`start`/`stop`/`health`, events through `on_event`) so `kiosk devices listen
printer` and `kiosk doctor` can show whether it is there: `start()` runs one status check.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum

from devices.errors import FrameError, TransportError
from devices.events import DeviceEvent, DeviceFault, DeviceHealth, HealthState
from devices.printer.connection import PrinterLink, PrinterUnavailable, open_printer
from devices.printer.escpos_bytes import DLE_EOT_PAPER, encode_receipt, parse_paper_status

log = logging.getLogger(__name__)


class PrintStatus(StrEnum):
    PRINTED = "printed"
    PAPER_OUT = "paper_out"
    UNAVAILABLE = "unavailable"
    NOT_CONFIGURED = "not_configured"


MESSAGE_KEYS = {
    PrintStatus.PRINTED: "device.printer_printed",
    PrintStatus.PAPER_OUT: "device.printer_paper_out",
    PrintStatus.UNAVAILABLE: "device.printer_unavailable",
    PrintStatus.NOT_CONFIGURED: "device.printer_not_configured",
}


@dataclass(frozen=True)
class PrintOutcome:
    status: PrintStatus
    detail: str = ""
    paper_near_end: bool = False

    @property
    def printed(self) -> bool:
        return self.status is PrintStatus.PRINTED

    @property
    def message_key(self) -> str:
        return MESSAGE_KEYS[self.status]


class ReceiptPrinter:
    """`ReceiptPrinter(url, on_event=None, *, name="printer", encoding="gb18030", status_query=True)`.

    `status_query=False` for printers that do not answer `DLE EOT` (they would otherwise look unplugged)."""

    def __init__(
        self,
        url: str,
        on_event: Callable[[DeviceEvent], None] | None = None,
        *,
        name: str = "printer",
        encoding: str = "gb18030",
        status_query: bool = True,
        status_timeout: float = 0.5,
        baudrate: int = 9600,
        opener: Callable[..., PrinterLink] = open_printer,
    ) -> None:
        "x".encode(encoding)  # an unknown encoding is a configuration error, found now rather than at a receipt
        self.url = url
        self.name = name
        self.encoding = encoding
        self.status_query = status_query
        self.status_timeout = status_timeout
        self.baudrate = baudrate
        self._open = opener
        self._on_event = on_event
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._health = DeviceHealth(device=name, state=HealthState.STOPPED)
        self._last_event_at: float | None = None
        self._near_end = False

    # -- driver contract -----------------------------------------------------------------------------------------

    @property
    def health(self) -> DeviceHealth:
        with self._lock:
            return self._health

    @property
    def running(self) -> bool:
        return self._executor is not None

    def start(self) -> None:
        self._set_health(HealthState.CONNECTING)
        self.check()

    def stop(self, timeout: float = 2.0) -> bool:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=False)
        self._set_health(HealthState.STOPPED)
        return True

    # -- printing ------------------------------------------------------------------------------------------------

    def print_lines(self, lines: Sequence[str], qr: str | None = None) -> Future[PrintOutcome]:
        """Queue one receipt; the future never raises, it resolves to a `PrintOutcome`."""
        lines = list(lines)
        return self._submit(lambda link: self._print(link, encode_receipt(lines, qr, encoding=self.encoding)))

    def check(self) -> Future[PrintOutcome]:
        """Is the printer there and has it paper? (`PRINTED` means: ready to print.)"""
        return self._submit(lambda link: self._paper(link) or PrintOutcome(PrintStatus.PRINTED))

    def _submit(self, job: Callable[[PrinterLink], PrintOutcome]) -> Future[PrintOutcome]:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"printer-{self.name}")
            executor = self._executor
        return executor.submit(self._run, job)

    def _run(self, job: Callable[[PrinterLink], PrintOutcome]) -> PrintOutcome:
        try:
            link = self._open(self.url, baudrate=self.baudrate)
        except TransportError as exc:
            outcome = PrintOutcome(
                PrintStatus.UNAVAILABLE if exc.permanent is False else PrintStatus.NOT_CONFIGURED, str(exc)
            )
            return self._report(outcome)
        except Exception as exc:  # PrinterUnavailable, or whatever an escpos backend raises on open
            return self._report(PrintOutcome(PrintStatus.UNAVAILABLE, str(exc) or type(exc).__name__))
        try:
            return self._report(job(link))
        except PrinterUnavailable as exc:
            return self._report(PrintOutcome(PrintStatus.UNAVAILABLE, str(exc)))
        except Exception as exc:  # a job must resolve its future whatever happens
            log.exception("printer %s job failed", self.name)
            return self._report(PrintOutcome(PrintStatus.UNAVAILABLE, f"{type(exc).__name__}: {exc}"))
        finally:
            link.close()

    def _paper(self, link: PrinterLink) -> PrintOutcome | None:
        """None when printing may go ahead."""
        if not (self.status_query and link.can_query):
            return None
        reply = link.query(DLE_EOT_PAPER, self.status_timeout)
        if not reply:
            return PrintOutcome(PrintStatus.UNAVAILABLE, "no answer to the paper status query")
        try:
            paper = parse_paper_status(reply)
        except FrameError as exc:
            return PrintOutcome(PrintStatus.UNAVAILABLE, str(exc))
        if paper.out:
            return PrintOutcome(PrintStatus.PAPER_OUT, "paper end sensor")
        self._near_end = paper.near_end
        return None

    def _print(self, link: PrinterLink, data: bytes) -> PrintOutcome:
        self._near_end = False
        refused = self._paper(link)
        if refused is not None:
            return refused
        link.write(data)
        return PrintOutcome(PrintStatus.PRINTED, paper_near_end=self._near_end)

    def _report(self, outcome: PrintOutcome) -> PrintOutcome:
        if outcome.status is PrintStatus.PRINTED:
            self._set_health(HealthState.CONNECTED, "paper near end" if outcome.paper_near_end else "")
        else:
            self._set_health(
                HealthState.FAILED if outcome.status is not PrintStatus.UNAVAILABLE else HealthState.RECONNECTING,
                outcome.status.value,
            )
            self._emit(DeviceFault(self.name, outcome.status.value, outcome.detail))
        return outcome

    def _set_health(self, state: HealthState, reason: str = "") -> None:
        with self._lock:
            if self._health.state == state and self._health.reason == reason:
                return
            self._health = DeviceHealth(self.name, state, reason, self._last_event_at)
            health = self._health
        self._emit(health)

    def _emit(self, event: DeviceEvent) -> None:
        if not isinstance(event, DeviceHealth):
            with self._lock:
                self._last_event_at = time.monotonic()
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:
            log.exception("event handler failed for printer %s", self.name)
