"""`kiosk doctor [--json]`: exit 0 only when every required part is ready."""

from __future__ import annotations

import json
import os

import typer
from rich.console import Console
from rich.table import Table

from kiosk.cli.options import ConfigOption, JsonOption, settings_from
from kiosk.devices_check import check_devices
from kiosk.doctor import all_required_ok, as_json, run_checks


def doctor(config: ConfigOption = None, as_json_output: JsonOption = False) -> None:
    """Check configuration, database and migrations, CJK font, barcode decoders and every configured device."""
    settings = settings_from(config)
    note = ""
    if settings.config_file is None and not any(k.startswith("KIOSK_DEVICES_") for k in os.environ):
        # A machine with no kiosk.toml is a machine that has only run the demo: check what `kiosk demo` runs.
        from kiosk.demo import demo_settings

        settings = demo_settings(settings, headless=True)
        note = "no kiosk.toml found: checked the demo set-up (`kiosk demo`); copy kiosk.example.toml to configure"
    checks = run_checks(settings, extra=[check_devices])
    ready = all_required_ok(checks)
    if as_json_output:
        typer.echo(json.dumps({"ready": ready, "note": note, "checks": as_json(checks)}, ensure_ascii=False,
                              indent=2))
    else:
        table = Table(title="kiosk doctor", show_lines=False)
        table.add_column("", width=2)
        table.add_column("part")
        table.add_column("found")
        for c in checks:
            mark = "[green]✔[/]" if c.ok else ("[red]✘[/]" if c.required else "[yellow]![/]")
            table.add_row(mark, c.name + ("" if c.required else " (optional)"), c.detail)
        if note:
            typer.echo(note)
        Console().print(table)
        typer.echo("ready" if ready else "NOT ready: fix the parts marked ✘")
    raise typer.Exit(0 if ready else 1)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
