"""Open a receipt printer from its URL. One small interface over two families of transport:

- byte streams opened by `devices.transport.open_transport` (pyserial, which is what python-escpos's `Serial`
  wraps): `/dev/ttyUSB0`, `socket://host:port`, `sim:printer`. These can read, so the paper sensor is asked.
- python-escpos printers: `usb:VID:PID` (`escpos.printer.Usb`, needs pyusb), `tcp://host:port`
  (`escpos.printer.Network`, port 9100 by default), `file:/path` (`escpos.printer.File`, e.g. `/dev/usb/lp0`).
  These are written to only; a missing device shows as an error on open or write.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Protocol

import serial

from devices.errors import DeviceError, TransportError
from devices.transport import flush_input, open_transport, url_scheme


class PrinterUnavailable(DeviceError):
    """The printer cannot be reached (unplugged, powered off, wrong address)."""

    key = "device.printer_unavailable"


class PrinterLink(Protocol):
    can_query: bool

    def write(self, data: bytes) -> None: ...

    def query(self, request: bytes, timeout: float) -> bytes:
        """Send `request`, return the one-byte reply, or b"" when nothing came within `timeout`."""
        ...

    def close(self) -> None: ...


class SerialLink:
    can_query = True

    def __init__(self, url: str, baudrate: int) -> None:
        try:
            self._port = open_transport(url, baudrate=baudrate, timeout=0.05)
        except TransportError as exc:
            if exc.permanent:
                raise
            raise PrinterUnavailable(str(exc)) from exc

    def write(self, data: bytes) -> None:
        try:
            self._port.write(data)
            self._port.flush()
        except (serial.SerialException, OSError) as exc:
            raise PrinterUnavailable(str(exc)) from exc

    def query(self, request: bytes, timeout: float) -> bytes:
        try:
            flush_input(self._port)
            self._port.write(request)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                reply = self._port.read(1)
                if reply:
                    return bytes(reply)
            return b""
        except (serial.SerialException, OSError) as exc:
            raise PrinterUnavailable(str(exc)) from exc

    def close(self) -> None:
        self._port.close()


class EscposLink:
    """A python-escpos device printer used as a write-only pipe (`_raw`)."""

    can_query = False

    def __init__(self, printer: Any) -> None:
        self._printer = printer
        try:
            printer.open()
        except Exception as exc:  # each escpos backend raises its own type (USBNotFoundError, OSError, …)
            raise PrinterUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def write(self, data: bytes) -> None:
        try:
            self._printer._raw(data)
        except Exception as exc:
            raise PrinterUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def query(self, request: bytes, timeout: float) -> bytes:
        return b""

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a dead device must not hide the outcome of the job
            self._printer.close()


def _escpos_printer(url: str) -> Any:
    from escpos import printer as escpos_printer

    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()
    if scheme == "usb":
        if not escpos_printer.Usb.is_usable():
            raise TransportError("usb: printers need pyusb (an optional dependency of python-escpos)")
        vid, _, pid = rest.partition(":")
        try:
            return escpos_printer.Usb(int(vid, 16), int(pid, 16))
        except ValueError:
            raise TransportError(f"usb printer URL is usb:VID:PID in hex, got {url!r}") from None
    if scheme == "tcp":
        host, _, port = rest.removeprefix("//").partition(":")
        if not host:
            raise TransportError(f"tcp printer URL needs a host: {url!r}")
        try:
            return escpos_printer.Network(host, port=int(port or 9100), timeout=3)
        except ValueError:
            raise TransportError(f"bad tcp printer port in {url!r}") from None
    if scheme == "file":
        path = rest.removeprefix("//")
        if not path:
            raise TransportError(f"file printer URL needs a path: {url!r}")
        return escpos_printer.File(path)
    raise TransportError(f"not a printer URL: {url!r}")


ESCPOS_SCHEMES = frozenset({"usb", "tcp", "file"})


def printer_scheme(url: str) -> str:
    head, sep, _ = url.partition(":")
    if sep and head.lower() in ESCPOS_SCHEMES:
        return head.lower()
    return url_scheme(url)


def open_printer(url: str, *, baudrate: int = 9600) -> PrinterLink:
    """Raises `TransportError` for a URL that can never work, `PrinterUnavailable` for a printer not there now."""
    if not url.strip():
        raise TransportError("no printer configured")
    if printer_scheme(url) in ESCPOS_SCHEMES:
        return EscposLink(_escpos_printer(url))
    return SerialLink(url, baudrate)
