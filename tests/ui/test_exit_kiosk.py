""""Exit the kiosk program" on the librarian screen, in its own process: the real app stops, so no other test can
share it (Kivy allows one App and one window per process)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.ui.conftest import child_process_env

pytestmark = pytest.mark.ui

SCRIPT = textwrap.dedent("""
    import json, sys
    from dataclasses import replace
    from kivy.app import App
    from kivy.base import EventLoop
    from kiosk.cli.options import settings_from
    from ui.boot import configure_kivy

    settings = settings_from(None)
    settings = replace(settings, ui=replace(settings.ui, fullscreen=False, width=1280, height=800))
    configure_kivy(settings, headless=True)
    from ui import screens
    from ui.screenshots import ScreenshotRenderer

    screens.EXIT_CONFIRM_S = float(sys.argv[1])
    renderer = ScreenshotRenderer(settings)
    h, app, session = renderer.harness, renderer.app, renderer.session
    renderer._stage("staff")
    steps = {}
    h.tap("exit_kiosk")
    h.pump(2)
    steps["armed"] = [h.find("exit_kiosk").text, App.get_running_app() is app, [c[0] for c in session.commands]]
    h.wait_for(lambda: not app.root.screen("staff").exit_armed, timeout=5)
    steps["disarmed"] = [h.find("exit_kiosk").text, App.get_running_app() is app]
    h.tap("exit_kiosk")
    h.tap("exit_kiosk")
    steps["exited"] = [App.get_running_app() is None, EventLoop.status, [c[0] for c in session.commands]]
    print(json.dumps(steps, ensure_ascii=False))
""")


def test_exit_takes_a_second_tap_and_then_stops_the_program(tmp_path: Path) -> None:
    env = {**child_process_env(tmp_path / "data"), "KIVY_NO_ARGS": "1"}
    result = subprocess.run([sys.executable, "-c", SCRIPT, "0.5"], capture_output=True, text=True, env=env,
                            timeout=180, check=False, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr[-3000:]
    steps = json.loads(result.stdout.strip().splitlines()[-1])
    text, running, commands = steps["armed"]
    assert text == "再点一次：关闭自助机程序" and running and "staff_exit" not in commands  # one tap: still running
    assert steps["disarmed"] == ["关闭自助机程序", True]  # no second tap in time: back to the plain button
    stopped, loop, commands = steps["exited"]
    assert stopped and loop in ("closed", "stopped") and commands.count("staff_exit") == 1
