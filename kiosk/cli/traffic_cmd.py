"""`kiosk traffic …`: rollup rebuild, retention purge and a simulated month of counter data for demos."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from sqlalchemy import select

from catalog.model import Branch
from kiosk.bootstrap import open_database
from kiosk.cli.options import ConfigOption, JsonOption, fail, settings_from
from kiosk.traffic import maintenance
from kiosk.traffic.ingest import UnknownBranch, ingest
from kiosk.traffic.settings import traffic_settings
from kiosk.traffic.simulate import simulate_month

traffic_app = typer.Typer(help="Foot traffic: rollups, retention, simulated counter data.", no_args_is_help=True)

BranchOption = Annotated[str | None, typer.Option("--branch", "-b", help="Branch code (default: this kiosk's).")]


@traffic_app.command("rebuild-rollups")
def rebuild_rollups(branch: BranchOption = None, all_branches: Annotated[bool, typer.Option("--all")] = False,
                    config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Recompute rollups from the raw samples still kept (older rollups stay)."""
    settings = settings_from(config)
    cfg = traffic_settings(settings)
    db = open_database(settings)
    try:
        if all_branches:
            with db.read() as session:
                codes = list(session.scalars(select(Branch.code).order_by(Branch.code)))
        else:
            codes = [branch or settings.kiosk.branch]
        results = []
        with typer.progressbar(codes, label="rebuilding") as progress:
            for code in progress:
                results.append(maintenance.rebuild(db, code, cfg))
    except UnknownBranch as exc:
        raise fail(f"no branch {exc.params['branch']!r}") from None
    finally:
        db.dispose()
    for r in results:
        since = r.since.isoformat() if r.since else None
        if as_json:
            typer.echo(json.dumps({"branch": r.branch, "since": since, "samples": r.samples}))
        else:
            typer.echo(f"{r.branch}: replayed {r.samples} samples" + (f" from {since}" if since else " (no samples)"))


@traffic_app.command("purge")
def purge(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Delete raw samples older than [traffic] retention_days; rollups are kept forever."""
    settings = settings_from(config)
    cfg = traffic_settings(settings)
    db = open_database(settings)
    try:
        removed = maintenance.purge(db, cfg)
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps({"removed": removed, "retention_days": cfg.retention_days}))
    else:
        typer.echo(f"removed {removed} raw samples older than {cfg.retention_days} days")


@traffic_app.command("simulate-month")
def simulate(month: Annotated[str, typer.Option("--month", help="YYYY-MM")], branch: BranchOption = None,
             device: str = "door-1", seed: int = 7,
             interval: Annotated[int, typer.Option("--interval-min", min=1, max=60,
                                                   help="Minutes between counter reports.")] = 5,
             config: ConfigOption = None) -> None:
    """Ingest a simulated month of door-counter data (with a wrap, a reset and a gap) for demos and checks."""
    try:
        parsed = datetime.strptime(month, "%Y-%m")
    except ValueError:
        raise fail(f"--month must look like 2026-11, got {month!r}") from None
    settings = settings_from(config)
    cfg = traffic_settings(settings)
    code = branch or settings.kiosk.branch
    db = open_database(settings)
    try:
        with db.unit_of_work() as session:
            found = session.scalar(select(Branch).where(Branch.code == code))
            if found is None:
                session.add(Branch(code=code, name=code, capacity=40, timezone=settings.kiosk.timezone))
            tz = found.timezone if found is not None else settings.kiosk.timezone
        sim = simulate_month(parsed.year, parsed.month, tz=tz, device=device, seed=seed,
                             counter_max=cfg.counter_max, interval_min=interval)
        per_day = 24 * 60 // interval
        totals = {"stored": 0, "wraps": 0, "resets": 0, "gaps": 0}
        with typer.progressbar(range(0, len(sim.events), per_day), label="ingesting") as progress:
            for i in progress:
                r = ingest(db, code, sim.events[i : i + per_day], cfg)
                for key in totals:
                    totals[key] += getattr(r, key)
    finally:
        db.dispose()
    typer.echo(f"{code}: {totals['stored']} samples, {totals['wraps']} wrap(s), {totals['resets']} reset(s), "
               f"{totals['gaps']} gap(s); {sum(sim.true_in.values())} visits")


def register(app: typer.Typer) -> None:
    app.add_typer(traffic_app, name="traffic")
