from __future__ import annotations

from datetime import time

import pytest

from ui import theme


@pytest.mark.parametrize(("now", "night"), [
    (time(23, 0), True), (time(2, 0), True), (time(6, 0), False), (time(12, 0), False), (time(22, 0), True),
])
def test_night_spans_midnight(now: time, night: bool) -> None:
    assert theme.is_night(now, "22:00", "06:00") is night


def test_night_within_one_day_and_disabled() -> None:
    assert theme.is_night(time(13, 0), "12:00", "14:00")
    assert not theme.is_night(time(15, 0), "12:00", "14:00")
    assert not theme.is_night(time(15, 0), "00:00", "00:00")


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920), (1280, 800)])
def test_touch_targets_never_below_the_floor(size: tuple[int, int]) -> None:
    floor = 57.0  # 15 mm at 96 dpi
    for elder in (False, True):
        m = theme.metrics_for(*size, elder=elder, min_target_px=floor)
        assert m.button_height >= floor
    normal = theme.metrics_for(*size, elder=False, min_target_px=floor)
    elder_m = theme.metrics_for(*size, elder=True, min_target_px=floor)
    assert elder_m.font_body > normal.font_body
    assert elder_m.page_size < normal.page_size


def test_portrait_and_landscape_share_a_scale() -> None:
    assert theme.window_scale(1920, 1080) == theme.window_scale(1080, 1920) == 1.0
    assert theme.window_scale(1280, 800) < 1.0


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920), (1280, 800)])
def test_no_text_below_the_readable_floor(size: tuple[int, int]) -> None:
    """At 1280×800 the scale alone gives 16 px small text; nothing is drawn under 20 px (24 px in elder mode), and
    body text stays a step above the small size."""
    for elder in (False, True):
        m = theme.metrics_for(*size, elder=elder, min_target_px=57.0)
        assert m.font_small >= (24 if elder else 20)
        assert m.font_body >= (26 if elder else 22) and m.font_body > m.font_small
        assert m.font_title > m.font_body
