"""`kiosk chaos crash --runs N`: SIGKILL a lending (or importing) process N times, check the database after each."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from kiosk.cli.options import JsonOption
from kiosk.reliability.crash import run_crashes

chaos_app = typer.Typer(help="Fault injection that proves the kiosk loses nothing.", no_args_is_help=True)


@chaos_app.command("crash")
def crash(
    runs: Annotated[int, typer.Option("--runs", min=1, help="How many SIGKILLs.")] = 100,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    import_every: Annotated[int, typer.Option(
        "--import-every", min=0, help="Every Nth kill hits a catalog import instead of lending (0: never).")] = 4,
    as_json: JsonOption = False,
) -> None:
    """Kill a process lending, returning, renewing or importing at random points; check everything each time."""
    with tempfile.TemporaryDirectory(prefix="kiosk-crash-") as tmp:
        report = run_crashes(Path(tmp), runs=runs, seed=seed, import_every=import_every)
    if as_json:
        typer.echo(json.dumps({"ok": report.ok, "runs": report.runs, "loans": report.loans_seen,
                               "import_kills": report.import_kills,
                               "imports_cut_mid_way": report.imports_cut_mid_way,
                               "problems": report.problems}, ensure_ascii=False))
    else:
        typer.echo(f"{report.runs} SIGKILLs, {report.loans_seen} loans written in all; {report.import_kills} of "
                   f"them during a catalog import ({report.imports_cut_mid_way} cut mid-way, each completed by "
                   f"running it again)")
        for problem in report.problems:
            typer.secho(problem, fg="red")
        typer.echo("database intact and every invariant holds after each kill" if report.ok else "BROKEN")
    raise typer.Exit(0 if report.ok else 1)


@chaos_app.command("race")
def race(
    database_url: Annotated[str, typer.Option("--database-url", help="An EMPTY database to fight over.")],
    kiosks: Annotated[int, typer.Option("--kiosks", min=2)] = 4,
    seconds: Annotated[float, typer.Option("--seconds", min=0.5)] = 10.0,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    as_json: JsonOption = False,
) -> None:
    """Several kiosk processes lend the same copies to the same patrons at once; check no double loan, no overrun."""
    from catalog import schema
    from catalog.db import Database
    from kiosk.reliability.crash import run_race

    db = Database.from_url(database_url)
    try:
        schema.upgrade(db.engine)
    finally:
        db.dispose()
    report = run_race(database_url, kiosks=kiosks, seconds=seconds, seed=seed)
    if as_json:
        typer.echo(json.dumps({"ok": report.ok, **{k: v for k, v in report.__dict__.items() if k != "problems"},
                               "problems": report.problems}))
    else:
        typer.echo(f"{report.kiosks} kiosks for {report.seconds:.0f} s: {report.loans} loans, {report.returns} returns")
        for problem in report.problems:
            typer.secho(problem, fg="red")
        typer.echo("no copy lent twice, no patron over the limit, every action audited" if report.ok else "BROKEN")
    raise typer.Exit(0 if report.ok else 1)


def register(app: typer.Typer) -> None:
    app.add_typer(chaos_app, name="chaos")
