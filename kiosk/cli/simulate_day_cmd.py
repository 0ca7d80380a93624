"""`kiosk simulate-day --sessions N --seed S [--json]`: random visits, device faults, then the invariants."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from catalog import schema
from catalog.db import Database
from kiosk.cli.options import JsonOption
from kiosk.simulate_day import simulate_day


def simulate_day_command(
    sessions: Annotated[int, typer.Option("--sessions", "-n", min=1, help="How many visits.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same day.")] = 1,
    device_every: Annotated[int, typer.Option(
        "--device-every", min=0, help="Every Nth visit goes through the real drivers with wire faults (0: none).",
    )] = 40,
    days: Annotated[float | None, typer.Option(
        "--days", min=0.1, help="Spread the visits over this many simulated days (default: 60–900 s apart).",
    )] = None,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", help="Simulate on this (empty) database; default: a fresh SQLite file in a temp dir.",
    )] = None,
    as_json: JsonOption = False,
) -> None:
    """Drive many random visits through the real session machine and drivers, then check every invariant."""
    with tempfile.TemporaryDirectory(prefix="simulate-day-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'day.sqlite3'}"
        db = Database.from_url(url)
        try:
            schema.upgrade(db.engine)
            secret = bytes(range(32))  # a throwaway key: the simulated residents exist only in this database
            with Progress(TextColumn("[bold]visits"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          disable=as_json) as bar:
                task = bar.add_task("visits", total=sessions)
                summary = simulate_day(db, secret, sessions=sessions, seed=seed, device_every=device_every,
                                       days=days,
                                       progress=lambda done, _total: bar.update(task, completed=done))
        finally:
            db.dispose()
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        typer.echo(f"visits {summary.sessions} over {summary.simulated_days:.1f} simulated days: "
                   f"{summary.loans} loans, {summary.returns} returns, {summary.renewals} renewals, "
                   f"{summary.timeouts} timeouts, {sum(summary.refusals.values())} refusals")
        typer.echo(f"device visits {summary.device_sessions}, faults injected {dict(summary.faults_injected)}, "
                   f"events missed {summary.device_events_missed}"
                   + (f" ({'; '.join(summary.missed)})" if summary.missed else ""))
        if summary.resources:
            r = summary.resources
            typer.echo(f"growth after warm-up: memory {r['rss_kb'] / 1024:+.1f} MB, threads {r['threads']:+d}, "
                       f"open files {r['fds']:+d}")
        for problem in summary.violations:
            typer.secho(f"VIOLATION: {problem}", fg="red")
        typer.echo("every invariant holds" if summary.ok else "INVARIANTS BROKEN")
    raise typer.Exit(0 if summary.ok else 1)


def register(app: typer.Typer) -> None:
    app.command("simulate-day")(simulate_day_command)
