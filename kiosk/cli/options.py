"""Options and helpers shared by every command: where the settings come from, how errors end a command."""

from __future__ import annotations

from typing import Annotated

import typer

from kiosk.config import Settings, load_settings

ConfigOption = Annotated[
    str | None,
    typer.Option("--config", "-c", help="Path of kiosk.toml (default: $KIOSK_CONFIG or ./kiosk.toml)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def settings_from(config: str | None) -> Settings:
    return load_settings(config)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one clear line to stderr and return the Exit to raise."""
    typer.secho(message, fg="red", err=True)
    return typer.Exit(code)
