"""Which devices this kiosk is configured with, and whether each one answers (for `kiosk doctor`).

A device "answers" when its driver reaches the connected state: the ID-card reader's SAM reports OK, a serial
scanner's port opens, a simulator serves its pty. Probing uses the real driver, so what doctor says is what the kiosk
will see.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from devices.drivers import driver_kind
from devices.events import DeviceEvent, HealthState
from devices.transport import parse_sim_url, url_scheme
from kiosk.config import Settings
from kiosk.doctor import Check
from kiosk.errors import ConfigError
from kiosk.secret import read_secret

REQUIRED_SLOTS = {"idcard", "card_reader", "scanner"}
"""Without these a resident cannot identify or scan; a camera, counter, printer or relay is an extra."""


@dataclass(frozen=True)
class ConfiguredDevice:
    slot: str
    """The setting it comes from (devices.idcard, devices.scanner, …); also the driver's name."""
    kind: str
    url: str

    @property
    def required(self) -> bool:
        return self.slot in REQUIRED_SLOTS


def _slot_kinds(settings: Settings) -> dict[str, str]:
    return {
        "idcard": "idcard",
        "card_reader": settings.devices.card_reader_kind,
        "scanner": "scanner",
        "camera": "camera",
        "door_counter": "door-counter",
        "printer": "printer",
        "door_relay": "relay",
    }


def configured_devices(settings: Settings) -> list[ConfiguredDevice]:
    found: list[ConfiguredDevice] = []
    for slot, kind in _slot_kinds(settings).items():
        url = getattr(settings.devices, slot)
        if not url:
            continue
        if slot == "scanner" and url_scheme(url) == "hid":
            kind = "wedge"
        elif url_scheme(url) == "sim":
            kind = _kind_for_simulator(parse_sim_url(url).kind, default=kind)
        found.append(ConfiguredDevice(slot, kind, url))
    return found


def _kind_for_simulator(sim_kind: str, default: str) -> str:
    try:
        return driver_kind(sim_kind).kind
    except KeyError:
        return default


def probe(device: ConfiguredDevice, secret: bytes, timeout_s: float = 3.0) -> tuple[bool, str]:
    """Start the real driver, wait for it to connect or fail, stop it. Never raises."""
    if device.kind == "wedge":
        return True, "keyboard-wedge input from the touch screen (no port to probe)"
    try:
        kind = driver_kind(device.kind)
    except KeyError as exc:
        return False, str(exc)

    def ignore(_event: DeviceEvent) -> None:
        return None

    try:
        driver = kind.create(device.url, ignore, name=f"doctor-{device.slot}", secret=secret)
    except Exception as exc:
        return False, f"cannot create driver: {exc}"
    driver.start()
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            health = driver.health
            if health.state is HealthState.CONNECTED:
                return True, "answers"
            if health.state is HealthState.FAILED:
                return False, health.reason or "failed"
            time.sleep(0.05)
        health = driver.health
        return False, f"no answer within {timeout_s:.0f} s ({health.state}: {health.reason or 'no reason given'})"
    finally:
        driver.stop()


def check_devices(settings: Settings) -> list[Check]:
    devices = configured_devices(settings)
    if not devices:
        return [Check("devices", False, "no device configured (set [devices] in kiosk.toml)")]
    try:
        secret = read_secret(settings.secret_file)
    except (OSError, ConfigError):
        secret = b"\0" * 32  # probing needs no real key (and doctor creates nothing); the secret check reports it
    checks = []
    for device in devices:
        ok, detail = probe(device, secret)
        checks.append(Check(f"device {device.slot}", ok, f"{device.kind} at {device.url}: {detail}",
                            required=device.required, data={"kind": device.kind, "url": device.url}))
    return checks
