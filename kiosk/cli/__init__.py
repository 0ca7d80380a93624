"""The `kiosk` command. Each feature adds its commands in its own module `kiosk/cli/<feature>_cmd.py`, exposing
`register(app)`; they are discovered here so that features never edit one shared file."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from kiosk.errors import ConfigError

app = typer.Typer(
    name="kiosk",
    help="24-hour reading-room kiosk (24小时智慧书房): lending, devices, catalog, foot traffic.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register_commands() -> None:
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name.endswith("_cmd"):
            importlib.import_module(f"{__name__}.{module.name}").register(app)


_register_commands()


def main() -> None:
    try:
        app()
    except ConfigError as exc:
        typer.secho(f"configuration error: {exc}", fg="red", err=True)
        sys.exit(2)
