"""Sizes and colours of the two looks (normal, elder mode) and the night dimming.

Sizes scale with the window so one layout serves 1920×1080, 1080×1920 and 1280×800; the scale is taken against a
1920×1080 reference on whichever axis is tighter. Touch targets never go below 15 mm (ISO 9241-9 style guidance for
public touch screens is 15–20 mm for elderly users), whatever the scale. Elder mode enlarges text by a third,
uses black on white and shows fewer items per page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

RGBA = tuple[float, float, float, float]


def hex_rgba(value: str, alpha: float = 1.0) -> RGBA:
    value = value.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, alpha)


@dataclass(frozen=True)
class Palette:
    bg: RGBA
    panel: RGBA
    text: RGBA
    muted: RGBA
    primary: RGBA
    on_primary: RGBA
    secondary: RGBA
    on_secondary: RGBA
    success: RGBA
    warning: RGBA
    error: RGBA
    info: RGBA
    line: RGBA
    disabled: RGBA


NORMAL = Palette(
    bg=hex_rgba("#F4EFE6"),
    panel=hex_rgba("#FFFFFF"),
    text=hex_rgba("#1B1F24"),
    muted=hex_rgba("#4A5360"),
    primary=hex_rgba("#A8231B"),
    on_primary=hex_rgba("#FFFFFF"),
    secondary=hex_rgba("#1F4E79"),
    on_secondary=hex_rgba("#FFFFFF"),
    success=hex_rgba("#1B6E35"),
    warning=hex_rgba("#8A5300"),
    error=hex_rgba("#B00020"),
    info=hex_rgba("#1F4E79"),
    line=hex_rgba("#D6CCBA"),
    disabled=hex_rgba("#DDD6CA"),
)
ELDER = Palette(
    bg=hex_rgba("#FFFFFF"),
    panel=hex_rgba("#FFFFFF"),
    text=hex_rgba("#000000"),
    muted=hex_rgba("#3A4048"),
    primary=hex_rgba("#8E0000"),
    on_primary=hex_rgba("#FFFFFF"),
    secondary=hex_rgba("#002F5F"),
    on_secondary=hex_rgba("#FFFFFF"),
    success=hex_rgba("#0B5323"),
    warning=hex_rgba("#6B3F00"),
    error=hex_rgba("#9A0018"),
    info=hex_rgba("#002F5F"),
    line=hex_rgba("#000000"),
    disabled=hex_rgba("#D0D0D0"),
)


@dataclass(frozen=True)
class Metrics:
    scale: float
    font_small: float
    font_body: float
    font_title: float
    font_huge: float
    button_height: float
    padding: float
    page_size: int


MIN_SMALL_PX = 20
"""The smallest text anywhere (a date under a title, a hint, the events list), in window pixels: the layout scale
alone would make it 16 px at 1280×800, too small for many of our readers standing at arm's length. Body text keeps
a step above it (`MIN_BODY_PX`). Elder mode raises both floors by a fifth."""
MIN_BODY_PX = 22
ELDER_FLOOR = 1.2


def window_scale(width: float, height: float) -> float:
    long_side, short_side = max(width, height), min(width, height)
    return max(0.5, min(long_side / 1920, short_side / 1080))


def metrics_for(width: float, height: float, *, elder: bool, min_target_px: float) -> Metrics:
    """Pixel sizes for this window; `min_target_px` is 15 mm in pixels on this screen (kivy.metrics.mm(15))."""
    s = window_scale(width, height)
    grow = 1.3 if elder else 1.0
    floor = ELDER_FLOOR if elder else 1.0
    return Metrics(
        scale=s,
        font_small=max(round(24 * s * grow), round(MIN_SMALL_PX * floor)),
        font_body=max(round(30 * s * grow), round(MIN_BODY_PX * floor)),
        font_title=round(42 * s * grow),
        font_huge=round(60 * s * grow),
        button_height=max(min_target_px, round(100 * s * grow)),
        padding=round(20 * s),
        page_size=4 if elder else 6,
    )


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def is_night(now: time, dim_from: str, dim_to: str) -> bool:
    """True inside [from, to), spanning midnight when from > to (22:00–06:00)."""
    start, end = parse_hhmm(dim_from), parse_hhmm(dim_to)
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end
