"""Open a device from its URL.

- `/dev/ttyUSB0`, `/dev/idcard`, `COM3`: a local serial port (pyserial).
- `socket://host:port`, `rfc2217://host:port`, `loop://`, `spy://…`, every `scheme://` pyserial's
  `serial_for_url` knows: pyserial's URL handlers.
- `sim:KIND[?name=N&opt=v…]`: an in-process simulator of KIND (started on first use, reused by name) serving real
  bytes on a pty, opened here with pyserial: the driver still parses every byte.
- `hid:`: NOT a byte stream. Keyboard-wedge input arrives from the UI as key events and is assembled by
  `devices.scanner.wedge.WedgeAssembler`.
- `camera:N`: NOT a byte stream. The camera scanner driver opens OpenCV capture N itself.
- `pcsc:[READER]`: NOT a byte stream. The social-security card driver talks to pcscd (pyscard) itself.

pyserial routes only `scheme://` URLs (and `sim:` has no `//`), so this dispatcher is ours rather than a pyserial
`protocol_handler_packages` entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import serial

from devices.errors import TransportError

NOT_SERIAL_SCHEMES = {
    "hid": "hid: is not a byte stream: keyboard-wedge keys come from the UI, assembled by devices.scanner.wedge",
    "camera": "camera:N is not a byte stream: the camera scanner driver opens OpenCV capture N itself",
    "pcsc": "pcsc:[READER] is not a byte stream: the social-security card driver talks to pcscd itself",
}


@dataclass(frozen=True)
class SimUrl:
    """`sim:idcard?name=front&refinds=1` → kind `idcard`, name `front`, options `{"refinds": "1"}`."""

    kind: str
    name: str
    options: dict[str, str] = field(default_factory=dict)


def url_scheme(url: str) -> str:
    """`sim`, `hid`, `camera`, a pyserial scheme (`socket`, `loop`, …), or `serial` for a plain device path."""
    if "://" in url:
        return url.split("://", 1)[0].lower()
    head, sep, _ = url.partition(":")
    if sep and head.lower() in {"sim", "hid", "camera", "pcsc"}:
        return head.lower()
    return "serial"


def is_byte_stream(url: str) -> bool:
    """Whether `open_transport` can open this URL (everything except `hid:` and `camera:N`)."""
    return url_scheme(url) not in NOT_SERIAL_SCHEMES


def parse_sim_url(url: str) -> SimUrl:
    if url_scheme(url) != "sim":
        raise TransportError(f"not a sim: URL: {url!r}")
    parts = urlsplit(url)
    kind = parts.path.strip("/")
    if not kind:
        raise TransportError(f"sim: URL without a kind: {url!r} (e.g. sim:idcard)")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    name = options.pop("name", "") or kind
    return SimUrl(kind=kind, name=name, options=options)


def open_transport(url: str, *, baudrate: int = 9600, timeout: float = 0.1, **kw: Any) -> serial.SerialBase:
    """Open `url` as a pyserial port (already open, `timeout` seconds per read).

    Raises `TransportError`: `permanent=True` when the URL itself is wrong (unknown scheme or simulator kind,
    `hid:`/`camera:`), `permanent=False` when the device may come back (missing port, refused socket, unplugged
    simulator), which the reconnect loop retries.
    """
    scheme = url_scheme(url)
    if not url.strip():
        raise TransportError("empty device URL")
    if scheme in NOT_SERIAL_SCHEMES:
        raise TransportError(NOT_SERIAL_SCHEMES[scheme])
    if scheme == "sim":
        from devices.simulators.registry import start_simulator

        sim_url = parse_sim_url(url)
        options: dict[str, Any] = dict(sim_url.options)
        simulator = start_simulator(sim_url.kind, sim_url.name, **options)
        return _open_serial(simulator.port_path, baudrate, timeout, kw)
    if scheme == "serial":
        return _open_serial(url, baudrate, timeout, kw)
    try:
        return serial.serial_for_url(url, baudrate=baudrate, timeout=timeout, **kw)
    except ValueError as exc:  # pyserial: unknown URL scheme or bad URL parameter
        raise TransportError(f"cannot open {url!r}: {exc}") from exc
    except (serial.SerialException, OSError) as exc:
        raise TransportError(f"cannot open {url!r}: {exc}", permanent=False) from exc


def _open_serial(path: str, baudrate: int, timeout: float, kw: dict[str, Any]) -> serial.SerialBase:
    try:
        return serial.Serial(path, baudrate=baudrate, timeout=timeout, **kw)
    except ValueError as exc:
        raise TransportError(f"cannot open {path!r}: {exc}") from exc
    except (serial.SerialException, OSError) as exc:
        raise TransportError(f"cannot open {path!r}: {exc}", permanent=False) from exc


def bytes_waiting(port: serial.SerialBase) -> int:
    """`in_waiting` of any pyserial port (typed on `Serial` only in the stubs)."""
    return int(getattr(port, "in_waiting", 0) or 0)


def flush_input(port: serial.SerialBase) -> None:
    """Drop unread input (a late reply to an earlier request must not be taken for the next one)."""
    reset = getattr(port, "reset_input_buffer", None)
    if reset is not None:
        reset()
