"""Registers the `camera` kind (`camera:0`, `camera:file:/dir`; discovered by `devices.drivers`)."""

from devices.camera.driver import CameraScanner
from devices.drivers import DriverKind, register_driver

register_driver(DriverKind("camera", CameraScanner, "Camera barcode scanner (camera:0, camera:file:/dir)"))
