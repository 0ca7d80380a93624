"""The camera scanner driver on a `camera:file:` source: real decoding in its own threads, debounced events."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp

from devices.camera.driver import CameraScanner, Debouncer
from devices.camera.sources import parse_camera_url
from devices.errors import TransportError
from devices.events import BarcodeScanned, HealthState
from tests.devices.conftest import EventLog, wait_until
from tests.devices.peripherals.conftest import barcode_image, blank_image

F = zxingcpp.BarcodeFormat


def write_frames(directory: Path, frames: Sequence[tuple[str, np.ndarray]]) -> None:
    for index, (_, image) in enumerate(frames):
        cv2.imwrite(str(directory / f"{index:03d}.png"), image)


def test_debouncer_reports_a_held_code_once_and_again_after_it_left() -> None:
    debounce = Debouncer(forget_after=2)
    assert debounce.new_codes(["A"]) == ["A"]
    assert debounce.new_codes(["A"]) == []
    assert debounce.new_codes([]) == []  # one missed frame (motion blur) …
    assert debounce.new_codes(["A"]) == []  # … is still the same scan
    assert debounce.new_codes([]) == []
    assert debounce.new_codes([]) == []
    assert debounce.new_codes([]) == []
    assert debounce.new_codes(["A", "B"]) == ["A", "B"]


def test_camera_urls() -> None:
    assert parse_camera_url("camera:0").index == 0
    assert parse_camera_url("camera:file:/tmp/x").path == Path("/tmp/x")
    for bad in ("camera:", "camera:abc", "camera:-1", "cam:0"):
        with pytest.raises(TransportError):
            parse_camera_url(bad)


def test_file_source_events_are_debounced(tmp_path: Path, events: EventLog, leak_check: None) -> None:
    book = barcode_image("9780140013993", F.EAN13)
    item = barcode_image("TS0001234", F.Code128)
    frames = [("book", book)] * 3 + [("none", blank_image())] * 4 + [("book", book), ("item", item)] * 1
    write_frames(tmp_path, frames)
    scanner = CameraScanner(f"camera:file:{tmp_path}", events, name="cam", forget_after=2)
    scanner.start()
    wait_until(lambda: not scanner.running, "the file source to end")
    assert scanner.stop()
    scans = [(e.code, e.symbology) for e in events.of(BarcodeScanned)]
    assert scans == [("9780140013993", "ean13"), ("9780140013993", "ean13"), ("TS0001234", "code128")]
    assert scanner.frames_decoded == len(frames)
    assert events.events[0].state is HealthState.CONNECTING  # type: ignore[union-attr]
    assert scanner.health.state is HealthState.STOPPED


def test_repeat_option_holds_each_still_for_several_frames(tmp_path: Path, events: EventLog) -> None:
    write_frames(tmp_path, [("item", barcode_image("ITEM42", F.Code39))])
    scanner = CameraScanner(f"camera:file:{tmp_path}", events, name="cam", repeat=5)
    scanner.start()
    wait_until(lambda: not scanner.running, "the file source to end")
    scanner.stop()
    assert scanner.frames_decoded == 5
    assert [e.code for e in events.of(BarcodeScanned)] == ["ITEM42"]


def test_a_missing_directory_is_retried_until_it_appears(tmp_path: Path, events: EventLog) -> None:
    folder = tmp_path / "later"
    scanner = CameraScanner(f"camera:file:{folder}", events, name="cam")
    scanner.start()
    events.wait_health(HealthState.RECONNECTING)
    folder.mkdir()
    write_frames(folder, [("item", barcode_image("TS0001234", F.Code128))])
    events.wait_count(BarcodeScanned, 1)
    scanner.stop()


def test_a_malformed_url_fails_at_configuration() -> None:
    with pytest.raises(TransportError):
        CameraScanner("camera:front", lambda e: None)


def test_video_file_source_is_decoded_frame_by_frame(tmp_path: Path, events: EventLog, leak_check: None) -> None:
    """A recorded clip plays through OpenCV's VideoCapture, the path a live `camera:N` takes."""
    item = cv2.resize(barcode_image("TS0001234", F.Code128), (480, 240))
    empty = cv2.resize(blank_image(), (480, 240))
    clip = tmp_path / "counter.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"MJPG"), 10, (480, 240))
    assert writer.isOpened()
    for frame in [empty] * 2 + [item] * 4 + [empty] * 5 + [item] * 2:
        writer.write(frame)
    writer.release()
    scanner = CameraScanner(f"camera:file:{clip}", events, name="cam", forget_after=3)
    scanner.start()
    wait_until(lambda: not scanner.running, "the clip to end")
    scanner.stop()
    assert scanner.frames_decoded == 13
    assert [e.code for e in events.of(BarcodeScanned)] == ["TS0001234", "TS0001234"]
