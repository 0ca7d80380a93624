"""`kiosk alerts test|status`: prove at install time that a paper-out at 3 a.m. will reach someone."""

from __future__ import annotations

import json

import typer

from kiosk.cli.options import ConfigOption, JsonOption, fail, settings_from
from kiosk.ops.alerts.dispatcher import AlertDispatcher
from kiosk.ops.alerts.model import AlertKind

alerts_app = typer.Typer(help="Alerts to the librarian on duty (webhook, MQTT).", no_args_is_help=True)


@alerts_app.command("test")
def test(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Send a test alert through every configured channel now; exit 1 if any channel failed."""
    settings = settings_from(config)
    dispatcher = AlertDispatcher.from_settings(settings)
    try:
        if not dispatcher.channels:
            raise fail("no alert channel configured: set [alerts] webhook_url and/or mqtt_host")
        dispatcher.raise_alert(AlertKind.TEST, "cli")
        result = dispatcher.deliver_due()
    finally:
        dispatcher.outbox.close()
    if as_json:
        typer.echo(json.dumps({"sent": result.sent, "failed": result.failed, "errors": result.errors}))
    else:
        for name in sorted(dispatcher.channels):
            problem = result.errors.get(name)
            typer.echo(f"{name}: {'FAILED: ' + problem if problem else 'delivered'}")
    if result.failed:
        raise typer.Exit(1)


@alerts_app.command("status")
def status(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Ongoing conditions and undelivered alerts waiting in the outbox."""
    settings = settings_from(config)
    dispatcher = AlertDispatcher.from_settings(settings)
    try:
        conditions = dispatcher.outbox.conditions()
        pending = dispatcher.outbox.pending()
    finally:
        dispatcher.outbox.close()
    if as_json:
        typer.echo(json.dumps({"conditions": [c.key for c in conditions],
                               "pending": [{"channel": ch, "attempts": n, "error": e} for ch, n, e in pending]}))
        return
    typer.echo(f"ongoing: {', '.join(c.key for c in conditions) or 'none'}")
    typer.echo(f"undelivered: {len(pending)}")
    for channel, attempts, error in pending:
        typer.echo(f"  {channel}: {attempts} attempt(s){': ' + error if error else ''}")


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
