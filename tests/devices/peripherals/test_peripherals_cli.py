"""`kiosk devices decode` and `kiosk devices listen` for the peripheral kinds, through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import zxingcpp
from typer.testing import CliRunner

from kiosk.cli import app
from tests.devices.peripherals.conftest import barcode_image, blank_image

runner = CliRunner()


def test_decode_prints_codes_and_json(tmp_path: Path) -> None:
    book, blank, broken = tmp_path / "book.png", tmp_path / "blank.png", tmp_path / "broken.webp"
    cv2.imwrite(str(book), barcode_image("978073520044951299", zxingcpp.BarcodeFormat.EAN13))
    cv2.imwrite(str(blank), blank_image())
    broken.write_bytes(b"RIFF")
    result = runner.invoke(app, ["devices", "decode", str(book), str(blank)])
    assert result.exit_code == 0, result.output
    assert f"{book}: 9780735200449 (ean13) add-on 51299" in result.output
    assert f"{blank}: no barcode" in result.output
    result = runner.invoke(app, ["devices", "decode", "--json", str(book), str(broken)])
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first["codes"][0]["code"] == "9780735200449" and first["codes"][0]["addon"] == "51299"
    assert second["error"] == "unreadable image"


def test_decode_of_a_missing_file_fails_with_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["devices", "decode", str(tmp_path / "nope.png")])
    assert result.exit_code == 1
    assert "no such image" in result.output


def test_listen_door_counter_simulator(kiosk_env: Path) -> None:
    result = runner.invoke(
        app,
        [
            "devices",
            "listen",
            "door-counter",
            "--url",
            "sim:door-counter?name=cli-door&every=0.05",
            "--json",
            "--count",
            "2",
            "--seconds",
            "20",
        ],
    )
    assert result.exit_code == 0, result.output
    counts = [json.loads(line) for line in result.output.splitlines() if '"DoorCount"' in line]
    assert [(c["total_in"], c["total_out"]) for c in counts] == [(1, 0), (2, 0)]


def test_listen_camera_on_a_folder(tmp_path: Path, kiosk_env: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), barcode_image("TS0001234", zxingcpp.BarcodeFormat.Code128))
    result = runner.invoke(
        app, ["devices", "listen", "camera", "--url", f"camera:file:{tmp_path}", "-o", "repeat=3", "--seconds", "20"]
    )
    assert result.exit_code == 0, result.output
    assert [line.split()[3] for line in result.output.splitlines() if " barcode " in line] == ["TS0001234"]
