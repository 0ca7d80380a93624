"""Typed errors of the device layer. `devices` may not import `kiosk`, so each error carries its own message key
(translated in `kiosk/locale/*/core.po`) instead of subclassing `kiosk.errors.KioskError`."""

from __future__ import annotations


class DeviceError(Exception):
    """Base of every error a driver, transport or simulator raises on purpose."""

    key = "device.error"


class TransportError(DeviceError):
    """A device URL that cannot be opened as a byte stream: unknown scheme, unknown simulator kind, bad option,
    or a non-serial URL (`hid:`, `camera:N`) handed to `open_transport`.

    `permanent` tells the reconnect loop whether retrying can help: a typo in a URL never heals, a missing
    `/dev/ttyUSB0` may come back when the cable is plugged in again.
    """

    key = "device.transport_error"

    def __init__(self, message: str, *, permanent: bool = True) -> None:
        super().__init__(message)
        self.permanent = permanent


class FrameError(DeviceError):
    """Bytes that do not form a valid frame of the device's protocol (bad checksum, bad length, garbage, a text
    record that cannot be decoded). Parsers raise only this, so a driver can count it and keep reading."""

    key = "device.frame_error"


class DeviceFailure(DeviceError):
    """The device answered, but reports that it cannot work (e.g. the ID-card reader's SAM self-test failed).
    The reconnect loop publishes it as health `failed` with `reason` and keeps retrying."""

    key = "device.failure"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class DeviceNotAnswering(DeviceError):
    """A request/response device stayed silent past its deadline several times in a row: the reconnect loop closes
    the port and opens it again (a wedged USB-CDC adapter often recovers only that way)."""

    key = "device.not_answering"
