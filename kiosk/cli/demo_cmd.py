"""`kiosk demo`: the kiosk on simulated devices and a demo catalog; `--scenario first-loan` plays a visit."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from kiosk.cli.options import ConfigOption, settings_from
from kiosk.config import Settings


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and \
        os.environ.get("SDL_VIDEODRIVER") != "offscreen"


def demo(
    config: ConfigOption = None,
    scenario: Annotated[str | None, typer.Option(help="Play a scripted visit: first-loan.")] = None,
    screenshots: Annotated[Path | None, typer.Option(help="Write a screenshot of each scenario step here.")] = None,
    headless: Annotated[bool | None, typer.Option("--headless/--window",
                                                  help="Default: headless when there is no display.")] = None,
    night: Annotated[bool, typer.Option("--night", help="Night mode: the door opens to a card at the entry reader.")]
    = False,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", help="Run the demo on this database instead of its own SQLite file (tests, PostgreSQL).",
    )] = None,
    sip2: Annotated[bool, typer.Option(
        "--sip2", help="Lend through SIP2 from our own SIP2 server on a loopback port, as from a library system.",
    )] = False,
) -> None:
    """Run the kiosk demo: simulated ID-card reader, scanner, printer and door counter; demo catalog; SQLite."""
    from kiosk.demo import demo_settings, ensure_demo_data

    no_display = not _has_display()
    run_headless = no_display if headless is None else headless
    if run_headless and scenario is None:
        typer.echo("No display found: running the first-loan scenario headless instead of the interactive kiosk.")
        scenario = "first-loan"
        screenshots = screenshots or Path("demo-screenshots")
    settings = demo_settings(settings_from(config), headless=run_headless, database_url=database_url, night=night)
    with Progress(TextColumn("[bold]demo catalog"), BarColumn(), MofNCompleteColumn(), transient=True) as bar:
        task = bar.add_task("titles", total=settings.kiosk.demo_data_titles)
        ensure_demo_data(settings, progress=lambda done, total: bar.update(task, completed=done, total=total))
    server = None
    if sip2:
        from kiosk.demo import DemoSip2

        server = DemoSip2(settings)
        settings = server.kiosk_settings(settings)
        typer.echo(f"SIP2: the kiosk lends through 127.0.0.1:{server.server.port} (our SIP2 server, demo database)")
    try:
        _run(settings, scenario, screenshots, run_headless)
    finally:
        if server is not None:
            server.stop()


def _run(settings: Settings, scenario: str | None, screenshots: Path | None, run_headless: bool) -> None:
    if scenario is None:
        from kiosk.app import run_interactive_demo

        run_interactive_demo(settings)
        return
    if scenario != "first-loan":
        typer.secho(f"unknown scenario {scenario!r}; known: first-loan", fg="red", err=True)
        raise typer.Exit(2)
    from ui.first_loan import run_first_loan

    result = run_first_loan(settings, screenshots, headless=run_headless)
    for step in result.steps:
        typer.echo(f"  ✔ {step}")
    if not result.ok:
        typer.secho(f"first-loan scenario FAILED: {result.error}", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(f"first-loan scenario passed: lent “{result.title}” ({result.barcode}), committed and shown")
    if result.screenshots:
        typer.echo(f"screenshots: {screenshots}/ ({len(result.screenshots)} files)")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
