"""The touch screen (Kivy). Importing this package registers the UI's message catalog; nothing Kivy is imported
here, so `kiosk doctor` can use `ui.fonts` without opening a window."""

from __future__ import annotations

from pathlib import Path

from kiosk import i18n

LOCALE_DIR = Path(__file__).with_name("locale")
i18n.register_domain("ui", LOCALE_DIR)

from ui.boot import configure_kivy, run_kiosk  # noqa: E402  (no Kivy import: safe before the window exists)

__all__ = ["LOCALE_DIR", "configure_kivy", "run_kiosk"]
