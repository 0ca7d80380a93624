"""The demo center's map for `kiosk screenshots` and the UI tests: drawn once per process by `kiosk.demo_map`."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from kiosk.demo_map import draw_demo_map


@cache
def demo_map_path(language: str = "zh") -> str:
    """A PNG in a temporary folder of this process, labelled in `language`; "" when there is no CJK font."""
    path = Path(tempfile.mkdtemp(prefix="kiosk-demo-map-")) / f"map-{language}.png"
    return str(path) if draw_demo_map(path, language=language) else ""
