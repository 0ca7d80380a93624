"""`kiosk entry test`: for the installer at the door, pulse the relay once and show what the door sensor saw."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from devices.errors import DeviceError
from devices.relay.check import check_relay
from kiosk.cli.options import ConfigOption, JsonOption, fail, settings_from
from kiosk.entry.settings import RELAY_PROTOCOLS, entry_settings
from kiosk.errors import ConfigError

entry_app = typer.Typer(help="Card-controlled night entry (door relay, door sensor).", no_args_is_help=True)


@entry_app.command("test")
def test(
    url: Annotated[str | None, typer.Option("--url", help="Relay port URL (default: entry.relay_url or "
                                            "devices.door_relay).")] = None,
    protocol: Annotated[
        str | None, typer.Option("--protocol", help="lcus or line (default: entry.relay_protocol).")
    ] = None,
    seconds: Annotated[float | None, typer.Option("--seconds", help="Pulse length (default: entry.pulse_s).")] = None,
    channel: Annotated[
        int | None, typer.Option("--channel", help="Relay channel (default: entry.relay_channel).")
    ] = None,
    sensor: Annotated[bool, typer.Option("--sensor/--no-sensor", help="Read DOOR OPEN/CLOSED lines on the relay's "
                                         "port during the test.")] = True,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pulse the door relay once (it is switched off before and after) and report the door sensor's changes."""
    try:
        settings = settings_from(config)
        cfg = entry_settings(settings)
    except ConfigError as exc:
        raise fail(f"configuration: {exc}") from None
    url = url or cfg.relay_url or settings.devices.door_relay
    if not url:
        raise fail("no relay URL: pass --url or set [entry] relay_url / devices.door_relay")
    protocol = protocol or cfg.relay_protocol
    if protocol not in RELAY_PROTOCOLS:
        raise fail(f"--protocol must be one of {', '.join(RELAY_PROTOCOLS)}, got {protocol!r}")
    seconds = cfg.pulse_s if seconds is None else seconds
    if seconds <= 0 or seconds > 30:
        raise fail("--seconds must be more than 0 and at most 30")
    try:
        result = check_relay(url, seconds=seconds, protocol=protocol, channel=channel or cfg.relay_channel,
                             sensor=sensor)
    except (DeviceError, ValueError) as exc:
        raise fail(f"relay {url}: {exc}") from None
    door = "no sensor report" if not result.door_states else " → ".join(
        "open" if s else "closed" for s in result.door_states)
    if as_json:
        typer.echo(json.dumps({"url": url, "connected": result.connected, "pulsed": result.pulsed,
                               "seconds": seconds, "door_states": list(result.door_states),
                               "faults": list(result.faults), "reason": result.reason}))
    else:
        typer.echo(f"relay {url} ({protocol}, channel {channel or cfg.relay_channel}): "
                   + (f"pulsed {seconds:g} s, now off" if result.pulsed else f"NOT pulsed: {result.reason}"))
        typer.echo(f"door sensor: {door}")
        for fault in result.faults:
            typer.echo(f"fault: {fault}")
    if not result.pulsed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(entry_app, name="entry")
