"""The touch-screen bench drives the real app through its flows; it once stopped at its first assertion after a
message key was renamed, unnoticed until the next measurement. One round at one size keeps it runnable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.ui.conftest import child_process_env

pytestmark = pytest.mark.ui

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_ui.py"


def test_the_ui_bench_runs_and_reports_every_measure(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(BENCH), "--rounds", "1", "--sizes", "1280x800"],
                            capture_output=True, text=True, env=child_process_env(tmp_path / "data"), timeout=240,
                            check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ui.multisamples = 0, sample buffers = 0" in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ") and "1280×800" in line]
    assert [row.split(" | ")[0].lstrip("| ") for row in rows] == [
        "session view (worker thread) → drawn", "touch down → pressed colour drawn",
        "language switch → all screens re-rendered, drawn", "elder-mode switch → re-laid out, drawn",
        "search key → results drawn (demo browser)"]
