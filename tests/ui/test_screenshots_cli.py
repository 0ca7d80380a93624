"""`kiosk screenshots` end to end, in its own process (Kivy allows one window per process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.ui.conftest import child_process_env

pytestmark = pytest.mark.ui


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", "screenshots", *args], capture_output=True, text=True,
                          env=child_process_env(tmp_path / "data"), timeout=240, check=False)


def test_screenshots_render_states_at_the_requested_size(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    result = _run(tmp_path, "--out", str(out), "--sizes", "600x960", "--languages", "en", "--elder", "on",
                  "--states", "attract,borrowing_refused", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    written = [Path(p) for p in json.loads(result.stdout.strip().splitlines()[-1])["written"]]
    assert [p.name for p in written] == ["attract-en-elder-600x960.png", "borrowing_refused-en-elder-600x960.png"]
    for path in written:
        with Image.open(path) as image:
            assert image.size == (600, 960)
            assert len(set(image.convert("L").resize((30, 48)).getdata())) > 10
    assert (tmp_path / "data" / "kivy").is_dir()  # Kivy's home is ours, not ~/.kivy


def test_unknown_state_is_one_clear_line(tmp_path: Path) -> None:
    result = _run(tmp_path, "--out", str(tmp_path), "--states", "nope")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("--states: unknown nope")
