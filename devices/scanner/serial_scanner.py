"""Serial / USB-CDC barcode scanner: one code per line (the kiosk's preferred scanner mode, see barcodes.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devices.connection import SerialDevice
from devices.errors import FrameError
from devices.events import BarcodeScanned, DeviceEvent, DeviceFault
from devices.scanner.lines import LineAssembler, terminator_bytes


class SerialScanner(SerialDevice):
    """Emits `BarcodeScanned(code)` per line. `prefix`/`suffix`: text the scanner is configured to add around each
    code (stripped); `terminator`: `"\\r\\n"` accepts CR, LF and CRLF."""

    default_baudrate = 9600

    def __init__(
        self,
        url: str,
        on_event: Callable[[DeviceEvent], None],
        *,
        name: str = "scanner",
        terminator: str = "\r\n",
        prefix: str = "",
        suffix: str = "",
        max_length: int = 128,
        **options: Any,
    ) -> None:
        super().__init__(url, on_event, name=name, **options)
        self._lines = LineAssembler(
            terminator_bytes(terminator), max_length=max_length, strip_prefix=prefix, strip_suffix=suffix
        )

    def data_received(self, data: bytes) -> None:
        self._lines.feed(data)
        while True:
            try:
                line = self._lines.next_line()
            except FrameError as exc:
                self.emit(DeviceFault(self.name, "bad_line", str(exc)))
                continue
            if line is None:
                return
            self.emit(BarcodeScanned(device=self.name, code=line))

    def connection_lost(self, exc: BaseException | None) -> None:
        # A partial line at unplug time is half a code: never glue it to the next connection's bytes.
        self._lines.reset()
