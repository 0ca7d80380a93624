"""`kiosk devices …` (what an installer runs to check the hardware) and `kiosk simulate KIND` (a device by hand).

`devices_app` is module-level so that other device commands (`decode`, in the camera module) attach to it:
`from kiosk.cli.devices_cmd import devices_app` then `@devices_app.command("decode")`.
Device kinds come from the registry in `devices.drivers`, so new kinds appear in `listen` without editing this file.
"""

from __future__ import annotations

import dataclasses
import json
import queue
import sys
import threading
import time
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any

import typer

from devices.drivers import DriverKind, driver_kind, driver_kinds
from devices.errors import DeviceError
from devices.events import (
    BarcodeScanned,
    CardPresented,
    CardRemoved,
    DeviceEvent,
    DeviceFault,
    DeviceHealth,
)
from kiosk.cli.options import ConfigOption, JsonOption, fail, settings_from

devices_app = typer.Typer(
    help="Check the room's devices: listen to a reader, scanner or counter.", no_args_is_help=True
)

CONFIGURED_URL = {"idcard": "idcard", "scanner": "scanner", "em4100": "card_reader", "card-line": "card_reader"}
"""Kind → `[devices]` setting used when `--url` is not given."""

HIDDEN_FIELDS = {"patron_identifier"}
"""Never printed: the raw ID number exists only in memory for a SIP2 backend."""


def event_record(event: DeviceEvent) -> dict[str, Any]:
    """A JSON-ready dict of an event, without the raw identifier."""
    record: dict[str, Any] = {"event": type(event).__name__}
    for item in dataclasses.fields(event):
        if item.name in HIDDEN_FIELDS:
            continue
        value = getattr(event, item.name)
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, frozenset):
            value = sorted(value)
        record[item.name] = value
    return record


def event_line(event: DeviceEvent) -> str:
    """One human line per event, masked values only."""
    stamp = datetime.now().strftime("%H:%M:%S.%f")[:-3]
    if isinstance(event, CardPresented):
        valid = "长期" if event.valid_until is None else event.valid_until.isoformat()
        expired = " EXPIRED" if event.expired else ""
        name = f" {event.display_name}" if event.display_name else ""
        text = f"card presented  {event.kind.value} {event.masked_number}{name} valid to {valid}{expired} "
        text += f"key {event.key[:12]}…"
    elif isinstance(event, CardRemoved):
        text = "card removed"
    elif isinstance(event, BarcodeScanned):
        symbology = f" ({event.symbology})" if event.symbology else ""
        addon = f" add-on {event.addon}" if event.addon else ""
        text = f"barcode {event.code}{symbology}{addon}"
    elif isinstance(event, DeviceHealth):
        text = f"health {event.state.value}" + (f": {event.reason}" if event.reason else "")
    elif isinstance(event, DeviceFault):
        text = f"fault {event.code}" + (f": {event.detail}" if event.detail else "")
    else:
        fields = " ".join(f"{k}={v}" for k, v in event_record(event).items() if k not in {"event", "device"})
        text = f"{type(event).__name__} {fields}"
    return f"{stamp} {event.device} {text}"


def _coerce(value: str) -> Any:
    lowered = value.lower()
    if lowered in {"true", "yes", "on"}:
        return True
    if lowered in {"false", "no", "off"}:
        return False
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise fail(f"--option wants key=value, got {pair!r}")
        options[key.strip().replace("-", "_")] = _coerce(value.strip())
    return options


def _kind_or_fail(kind: str) -> DriverKind:
    try:
        return driver_kind(kind)
    except KeyError:
        known = ", ".join(k.kind for k in driver_kinds())
        raise fail(f"unknown device kind {kind!r}; known: {known}") from None


def _configured_defaults(kind: str, settings: Any) -> dict[str, Any]:
    devices = settings.devices
    if kind == "idcard":
        return {"poll_interval": devices.idcard_poll_interval_s}
    if kind == "scanner":
        return {"terminator": devices.scanner_terminator}
    return {}


@devices_app.command("listen")
def listen(
    kind: Annotated[str, typer.Argument(help="Device kind: idcard, scanner, em4100, card-line, social-security, …")],
    url: Annotated[
        str | None, typer.Option("--url", help="Device URL (/dev/ttyUSB0, socket://h:p, sim:idcard); default: config")
    ] = None,
    as_json: JsonOption = False,
    count: Annotated[
        int | None, typer.Option("--count", help="Stop after N device events (health not counted).")
    ] = None,
    seconds: Annotated[float | None, typer.Option("--seconds", help="Stop after S seconds.")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", "-o", help="Driver option key=value.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Device name shown in events.")] = None,
    config: ConfigOption = None,
) -> None:
    """Print one line per event of a real or simulated device until Ctrl-C (or --count / --seconds)."""
    found = _kind_or_fail(kind)
    settings = settings_from(config)
    if not url:
        setting = CONFIGURED_URL.get(kind, kind.replace("-", "_"))
        url = getattr(settings.devices, setting, "") or ""
        if not url:
            raise fail(f"no --url given and devices.{setting} is not configured")
    options = {**_configured_defaults(kind, settings), **_options(option or [])}
    secret: bytes | None = None
    if found.needs_secret:
        from kiosk.bootstrap import network_secret

        secret = network_secret(settings)
    events: queue.Queue[DeviceEvent] = queue.Queue()
    try:
        driver = found.create(url, events.put, name=name or kind, secret=secret, **options)
    except (DeviceError, ValueError, TypeError) as exc:
        raise fail(f"cannot use {kind} at {url}: {exc}") from None
    deadline = None if seconds is None else time.monotonic() + seconds
    seen = 0
    failed_for_good = False
    driver.start()
    try:
        while count is None or seen < count:
            timeout = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if timeout <= 0:
                break
            try:
                event = events.get(timeout=timeout)
            except queue.Empty:
                if not driver_running(driver):
                    break
                continue
            typer.echo(json.dumps(event_record(event), ensure_ascii=False) if as_json else event_line(event))
            if isinstance(event, DeviceHealth):
                failed_for_good = event.state.value == "failed" and not driver_running(driver)
            else:
                seen += 1
    except KeyboardInterrupt:
        pass
    finally:
        driver.stop()
        from devices.simulators.registry import stop_all

        stop_all()
    if failed_for_good or (not driver_running(driver) and driver.health.state.value == "failed"):
        raise typer.Exit(1)


def driver_running(driver: Any) -> bool:
    running = getattr(driver, "running", None)
    return True if running is None else bool(running)


def simulate(
    kind: Annotated[str, typer.Argument(help="Simulator kind: idcard, scanner, em4100, card-line, …")],
    port: Annotated[int, typer.Option("--port", help="TCP port to serve (0: any free port).")] = 0,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    link: Annotated[str | None, typer.Option("--link", help="Also serve a pty and keep this symlink to it.")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", "-o", help="Simulator option key=value.")] = None,
    seconds: Annotated[float | None, typer.Option("--seconds", help="Stop after S seconds.")] = None,
) -> None:
    """Run a device simulator by hand: it serves the device's real bytes on a TCP port (and a pty); type commands
    (`place 0`, `lift`, `scan 9787…`, `garbage`, `unplug`, `help`) on stdin."""
    from devices.simulators.registry import simulator_kinds, start_simulator, stop_all

    if kind not in simulator_kinds():
        raise fail(f"no simulator of kind {kind!r}; known: {', '.join(simulator_kinds())}")
    options: dict[str, Any] = {k: str(v) for k, v in _options(option or []).items()}
    try:
        simulator = start_simulator(kind, kind, link=link, **options)
        bound = simulator.serve_tcp(host, port)
    except (DeviceError, OSError, ValueError) as exc:
        raise fail(f"cannot start the {kind} simulator: {exc}") from None
    typer.echo(f"{kind} simulator: socket://{host}:{bound}  pty: {simulator.port_path}", err=False)
    sys.stdout.flush()
    commands: queue.Queue[str | None] = queue.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            commands.put(line)
        commands.put(None)

    threading.Thread(target=read_stdin, name="simulate-stdin", daemon=True).start()
    deadline = None if seconds is None else time.monotonic() + seconds
    stdin_open = True
    try:
        while deadline is None or time.monotonic() < deadline:
            try:
                line = commands.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                if deadline is None and stdin_open and not sys.stdin.isatty():
                    stdin_open = False  # input ended: keep serving until Ctrl-C
                continue
            if line.strip().lower() in {"quit", "exit"}:
                break
            answer = simulator.command(line)
            if answer:
                typer.echo(answer)
    except KeyboardInterrupt:
        pass
    finally:
        stop_all()


def register(app: typer.Typer) -> None:
    app.add_typer(devices_app, name="devices")
    app.command("simulate")(simulate)
