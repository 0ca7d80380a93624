"""The demo center's map for `kiosk screenshots` and the UI tests: drawn once per process by `kiosk.demo_map`."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from kiosk.demo_map import draw_demo_map


@cache
def demo_map_path() -> str:
    """A PNG in a temporary folder of this process; "" when there is no CJK font to label it with."""
    path = Path(tempfile.mkdtemp(prefix="kiosk-demo-map-")) / "map.png"
    return str(path) if draw_demo_map(path) else ""
