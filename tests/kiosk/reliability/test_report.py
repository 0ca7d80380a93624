"""`kiosk reliability report` at tiny sizes: every step runs, the table is written, and a failure shows as one."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kiosk.cli import app
from kiosk.reliability.report import Report, ReportSizes, Row, render, run_report

TINY = ReportSizes(soak_sessions=30, soak_days=0.5, device_every=0, crash_runs=2, import_every=2, race_kiosks=2,
                   race_seconds=1.0, fuzz_inputs=20, ui_visits=0, network_kiosks=0)


def test_the_report_runs_every_check_and_writes_the_table(tmp_path: Path) -> None:
    report = run_report(tmp_path, TINY)
    assert [row.ok for row in report.rows] == [True] * 5, [r.outcome for r in report.rows if not r.ok]
    text = render(report)
    assert text.startswith("# Reliability") and "every check passed" in text
    assert "`kiosk chaos crash --runs 2 --import-every 2 --seed 7`" in text
    assert "2 kills, 1 of them during an import" in text
    assert all(f"| `{name}` |" in text for name in report.fuzz) and len(report.fuzz) >= 17


def test_a_failed_row_is_marked_and_flips_the_verdict() -> None:
    report = Report(TINY, rows=[Row("x", "`y`", "z", ok=False)])
    assert not report.ok and "**FAILED** z" in render(report) and "SOMETHING FAILED" in render(report)


def test_the_cli_prints_the_markdown_and_fails_on_a_bad_size() -> None:
    assert CliRunner().invoke(app, ["reliability", "report", "--crash-runs", "0"]).exit_code == 2
