"""`kiosk chaos crash|race|network`: SIGKILL lending processes, race them, cut their network; check after each."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from kiosk.cli.options import JsonOption, fail
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
    _finish(report.ok, report.problems, as_json,
            {"ok": report.ok, **{k: v for k, v in report.__dict__.items() if k != "problems"},
             "problems": report.problems},
            f"{report.kiosks} kiosks for {report.seconds:.0f} s: {report.loans} loans, {report.returns} returns",
            "no copy lent twice, no patron over the limit, every action audited")


@chaos_app.command("network")
def network(
    kiosks: Annotated[int, typer.Option("--kiosks", min=2, help="Kiosk processes, one branch each.")] = 3,
    seed: Annotated[int, typer.Option("--seed", help="Picks every phase length, the delay and the cut rhythm.")] = 1,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", help="An EMPTY PostgreSQL database; by default a scratch one on --server.")] = None,
    server: Annotated[str, typer.Option(
        "--server", envvar="KIOSK_TEST_POSTGRES_URL",
        help="A PostgreSQL server (any database on it) for the scratch database, created and dropped.")]
    = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    as_json: JsonOption = False,
) -> None:
    """Kiosk processes on PostgreSQL through a proxy that refuses, cuts and delays; one SIGKILLed mid-replay."""
    from kiosk.reliability.network_chaos import run_network_chaos, scratch_database

    if not (database_url or server).startswith("postgresql"):
        raise fail("the network run needs PostgreSQL (postgresql+psycopg://…)")
    with tempfile.TemporaryDirectory(prefix="kiosk-network-") as tmp:
        if database_url:
            report = run_network_chaos(database_url, Path(tmp), kiosks=kiosks, seed=seed)
        else:
            with scratch_database(server) as url:
                report = run_network_chaos(url, Path(tmp), kiosks=kiosks, seed=seed)
    phases = ", ".join(f"{p.name} {p.seconds:g} s" + (f" ({p.detail})" if p.detail else "") for p in report.phases)
    _finish(report.ok, report.problems, as_json, report.to_json(),
            f"{report.kiosks} kiosks, seed {report.seed}: {phases}\n"
            f"{report.actions} resident actions, {report.journaled} journaled offline ({report.applied} applied, "
            f"{report.exceptions} exceptions), {report.connections_cut} connections cut; {report.killed} SIGKILLed "
            f"mid-replay ({report.killed_after_bytes:,} bytes into it, journal {report.killed_backlog[0]} → "
            f"{report.killed_backlog[1]} pending); journals empty "
            f"{report.drained_s} s after the database returned",
            "every journaled action applied exactly once or listed as an exception, no item with two open loans")


def _finish(ok: bool, problems: list[str], as_json: bool, payload: dict[str, Any], summary: str,
            holds: str) -> None:
    """One way to end a chaos command: JSON or a summary, the problems in red, exit 1 unless all held."""
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False))
    else:
        typer.echo(summary)
        for problem in problems:
            typer.secho(problem, fg="red")
        typer.echo(holds if ok else "BROKEN")
    raise typer.Exit(0 if ok else 1)


def register(app: typer.Typer) -> None:
    app.add_typer(chaos_app, name="chaos")
