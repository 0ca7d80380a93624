"""Kivy settings that must exist before `kivy` is first imported (it reads KIVY_HOME and the config at import).

This module imports no Kivy at module level: call `configure_kivy` first, then import `ui.app`.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from kiosk.config import Settings

log = logging.getLogger(__name__)


def configure_kivy(settings: Settings, *, headless: bool) -> None:
    """Kiosk settings that Kivy reads only once, when `kivy` and `kivy.core.window` are first imported."""
    kivy_home = settings.data_dir / "kivy"
    kivy_home.mkdir(parents=True, exist_ok=True)
    os.environ["KIVY_NO_ARGS"] = "1"
    os.environ["KIVY_HOME"] = str(kivy_home)
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    # Kivy's default log mode replaces sys.stderr with its logger, which hides tracebacks when its console log is
    # off and breaks Typer's error output; in PYTHON mode Kivy logs through `logging` like the rest of the kiosk.
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    if headless:
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    if "kivy" in sys.modules:
        log.warning("Kivy was imported before configure_kivy; KIVY_HOME and window settings may not apply")
    from kivy.config import Config

    fullscreen = settings.ui.fullscreen and not headless
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "width", str(settings.ui.width))
    Config.set("graphics", "height", str(settings.ui.height))
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    Config.set("graphics", "resizable", "0" if fullscreen else "1")
    Config.set("graphics", "multisamples", str(settings.ui.multisamples))
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "pause_on_minimize", "0")
    Config.set("kivy", "keyboard_mode", "system")


def run_kiosk(settings: Settings, session: Any, browser: Any, *, occupancy: Any = None, key_sink: Any = None,
              headless: bool = False) -> None:
    """Configure Kivy, open the window and run the touch screen until the staff exits it (blocks the main thread).

    `session` implements `kiosk.session.view.SessionPort`, `browser` `ui.ports.BrowserPort` (or None),
    `occupancy` is a callable returning `OccupancyView | None`, `key_sink(key, t)` receives raw key events."""
    configure_kivy(settings, headless=headless)
    from ui.app import KioskApp

    KioskApp(session, browser, settings, occupancy=occupancy, key_sink=key_sink).run()
