"""Registers the `camera` kind (`camera:0`, `camera:file:/dir`; discovered by `devices.drivers`).

The driver module (OpenCV, zbar, zxing-cpp) is imported only when a camera is actually configured: a kiosk with a
serial scanner should not load three image libraries at every start (and zxing-cpp's bindings print a spurious
"leaked instances" report at interpreter exit once loaded).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devices.drivers import Driver, DriverKind, register_driver
from devices.events import DeviceEvent


def _camera_scanner(url: str, on_event: Callable[[DeviceEvent], None], **options: Any) -> Driver:
    from devices.camera.driver import CameraScanner

    return CameraScanner(url, on_event, **options)


register_driver(DriverKind("camera", _camera_scanner, "Camera barcode scanner (camera:0, camera:file:/dir)"))
