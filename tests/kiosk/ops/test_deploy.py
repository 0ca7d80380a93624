"""The shipped systemd unit, udev rules and Kivy config say what docs/OPERATIONS.md promises."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def unit_options() -> dict[str, list[str]]:
    options: dict[str, list[str]] = {}
    for line in (DEPLOY / "reading-room-kiosk.service").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            options.setdefault(key.strip(), []).append(value.strip())
    return options


def test_unit_restarts_a_crashed_or_hung_kiosk_within_seconds() -> None:
    o = unit_options()
    assert o["Type"] == ["notify"] and o["Restart"] == ["always"] and o["RestartSec"] == ["2"]
    assert int(o["WatchdogSec"][0]) <= 30
    assert o["StartLimitIntervalSec"] == ["0"]
    assert o["ExecStart"][0].endswith("kiosk serve")


def test_unit_is_private_and_hardened_but_reaches_serial_devices() -> None:
    o = unit_options()
    assert o["UMask"] == ["0077"] and o["User"] == ["kiosk"]
    assert "dialout" in o["SupplementaryGroups"][0].split()
    assert o["ProtectSystem"] == ["strict"]
    assert o["ReadWritePaths"] == [o["Environment"][1].split("=", 1)[1]]  # the data dir, and only it
    assert "char-ttyUSB rw" in o["DeviceAllow"] and "char-ttyACM rw" in o["DeviceAllow"]
    assert o["NoNewPrivileges"] == ["yes"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_accepts_the_unit() -> None:
    run = subprocess.run(["systemd-analyze", "verify", "--man=no", str(DEPLOY / "reading-room-kiosk.service")],
                         capture_output=True, text=True, check=False, timeout=60)
    complaints = [line for line in (run.stdout + run.stderr).splitlines()
                  if line.strip() and "is not executable" not in line]  # the venv is not installed here
    assert complaints == []


def test_udev_rules_give_every_device_a_stable_name() -> None:
    rules = (DEPLOY / "99-reading-room-kiosk.rules").read_text(encoding="utf-8")
    names = set(re.findall(r'SYMLINK\+="([^"]+)"', rules))
    assert {"kiosk-idcard", "kiosk-cardreader", "kiosk-scanner", "kiosk-doorcounter", "kiosk-doorrelay",
            "kiosk-printer", "kiosk-camera", "input/kiosk-touch"} <= names
    for line in rules.splitlines():
        if line and not line.startswith("#"):
            assert 'MODE="06' in line, line  # never world-readable


def test_kivy_config_is_a_kiosk_config() -> None:
    config = configparser.ConfigParser(interpolation=None)
    config.read(DEPLOY / "kivy-config.ini", encoding="utf-8")
    assert config["kivy"]["exit_on_escape"] == "0"
    assert config["graphics"]["show_cursor"] == "0"
    assert config["input"]["touch"].startswith("mtdev,/dev/input/kiosk-touch")
