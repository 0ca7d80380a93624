"""`kiosk reliability report [--out docs/RELIABILITY.md] [--quick]`: run every reliability check, write the table."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Annotated

import typer

reliability_app = typer.Typer(help="The reliability evidence: soak, crashes, race, corpus, fuzzing.",
                              no_args_is_help=True)


@reliability_app.command("report")
def report_command(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the Markdown here (else print it).")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Small sizes: a few minutes instead of ~25.")] = False,
    soak_sessions: Annotated[int | None, typer.Option("--soak-sessions", min=10)] = None,
    crash_runs: Annotated[int | None, typer.Option("--crash-runs", min=1)] = None,
    fuzz_inputs: Annotated[int | None, typer.Option("--fuzz-inputs", min=1, help="Per parser.")] = None,
    ui_visits: Annotated[int | None, typer.Option("--ui-visits", min=0, help="Headless Kivy soak (0: skip).")] = None,
    seed: Annotated[int | None, typer.Option("--seed")] = None,
) -> None:
    """Soak (a simulated week), SIGKILLs (lending and import), a race, the bad-input corpus and a fuzz run."""
    from kiosk.reliability.report import QUICK, ReportSizes, render, run_report

    sizes = QUICK if quick else ReportSizes()
    chosen = {"soak_sessions": soak_sessions, "crash_runs": crash_runs, "fuzz_inputs": fuzz_inputs,
              "ui_visits": ui_visits, "seed": seed}
    sizes = dataclasses.replace(sizes, **{k: v for k, v in chosen.items() if v is not None})
    with tempfile.TemporaryDirectory(prefix="kiosk-reliability-") as tmp:
        report = run_report(Path(tmp), sizes, progress=lambda step: typer.echo(f"running: {step}", err=True))
    text = render(report)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}: {'every check passed' if report.ok else 'SOMETHING FAILED'}", err=True)
    raise typer.Exit(0 if report.ok else 1)


def register(app: typer.Typer) -> None:
    app.add_typer(reliability_app, name="reliability")
