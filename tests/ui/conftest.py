"""One real KioskApp per test process (Kivy allows one window), driven headless through `ui.headless.Harness`.

Kivy reads KIVY_HOME when it is first imported, so it is pointed at a temporary folder here, before any test module
imports Kivy. Each test gets the app back on the attract screen with a fresh session attached.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="kiosk-ui-tests-"))
os.environ.setdefault("KIVY_HOME", str(_HOME / "kivy"))
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")


@pytest.fixture(scope="session")
def ui_settings() -> Any:
    from kiosk.config import load_settings

    return load_settings(env={"KIOSK_DATA_DIR": str(_HOME / "data"), "KIOSK_UI_FULLSCREEN": "0",
                              "KIOSK_UI_WIDTH": "1280", "KIOSK_UI_HEIGHT": "800"})


@pytest.fixture(scope="session")
def _harness(ui_settings: Any) -> Iterator[Any]:
    from ui import configure_kivy

    configure_kivy(ui_settings, headless=True)
    from ui.app import KioskApp
    from ui.demo import DemoBrowser, ScriptedSession
    from ui.headless import Harness

    app = KioskApp(ScriptedSession(), DemoBrowser(), ui_settings)
    harness = Harness(app)
    harness.set_size(1280, 800)
    harness.settle()
    yield harness
    harness.close()


@pytest.fixture
def kiosk_ui(_harness: Any) -> Iterator[Any]:
    """The running app on the attract screen, zh_CN, normal mode, with a new ScriptedSession attached."""
    from ui.demo import ScriptedSession

    h = _harness
    session = ScriptedSession()
    h.app.attach(session)
    h.app.lang, h.app.elder, h.app.local_screen, h.app.attract_hint, h.app.occupancy = "zh_CN", False, "", "", None
    h.settle()
    h.session = session
    yield h


def child_process_env(data_dir: Path) -> dict[str, str]:
    """The environment of a kiosk started in its own process (Kivy allows one window per process): this run's
    settings and Kivy home left out, the data in `data_dir`, headless."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_") and k != "KIVY_HOME"}
    env.update(KIOSK_DATA_DIR=str(data_dir), SDL_VIDEODRIVER="offscreen", KIVY_NO_CONSOLELOG="1")
    return env
