"""A chart drawn for a screen panel fills exactly the panel's pixels with the screen's text size, and leaves the
printable page charts as they were."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from matplotlib.patches import Rectangle
from PIL import Image

from kiosk.i18n import translate
from kiosk.traffic.charts import ChartFrame, traffic_figure, write_png
from kiosk.traffic.reports import PeriodRow, TrafficReport

TZ = ZoneInfo("Asia/Shanghai")


def _week() -> TrafficReport:
    monday = date(2026, 11, 16)
    days = [monday + timedelta(days=d) for d in range(7)]
    heatmap = tuple(tuple(float((h * 7 + d) % 11) for h in range(24)) for d in range(7))
    rows = tuple(PeriodRow(datetime(d.year, d.month, d.day, tzinfo=TZ), d.isoformat(), 90.0 + n, None, 1.0)
                 for n, d in enumerate(days))
    return TrafficReport("DEMO", "幸福里社区党群服务中心", "day", monday, days[-1], "Asia/Shanghai", rows,
                         sum(r.visits or 0 for r in rows), heatmap=heatmap, peak_hours=((19, 12.0),))


@pytest.mark.parametrize(("size", "side_by_side"), [((1240, 330), True), ((1040, 900), False)])
def test_a_screen_chart_is_drawn_at_the_panel_size_with_its_text_size(tmp_path: Path, size: tuple[int, int],
                                                                      side_by_side: bool) -> None:
    frame = ChartFrame(size[0], size[1], text_px=20)
    png = write_png(_week(), tmp_path / "c.png", "zh_CN", frame)
    assert Image.open(png).size == size
    fig = traffic_figure(_week(), "zh_CN", frame)
    bars, heat = fig.axes[0], fig.axes[1]
    assert bool(bars.get_position().y0 == pytest.approx(heat.get_position().y0, abs=0.1)) is side_by_side
    ticks = [float(t.get_fontsize()) * frame.DPI / 72 for t in heat.get_xticklabels() + bars.get_xticklabels()]
    assert min(ticks) >= 0.9 * 20 - 0.01  # labels in pixels, as on the screen


def _week_with_a_partial_day() -> TrafficReport:
    """As the dashboard shows it most days: today counted only so far, so a second legend entry."""
    week = _week()
    rows = (*week.rows[:-2], replace(week.rows[-2], visits=118.0), replace(week.rows[-1], visits=52.0, coverage=0.5))
    return replace(week, rows=rows)


@pytest.mark.parametrize("language", ["zh_CN", "en"])
@pytest.mark.parametrize(("size", "text_px"), [
    ((1880, 420), 31),  # elder mode at 1920x1080: a low panel, large text
    ((1220, 300), 24),  # elder mode at 1280x800
    ((1240, 330), 20),
    ((1000, 1000), 31),  # portrait: the heatmap under the bars
    ((800, 900), 31),  # narrow: the legend's two entries do not fit one row
])
def test_the_legend_covers_no_bar_and_stays_in_the_picture(size: tuple[int, int], text_px: int,
                                                           language: str) -> None:
    fig = traffic_figure(_week_with_a_partial_day(), language, ChartFrame(size[0], size[1], text_px=text_px))
    bars, heat = fig.axes[0], fig.axes[1]
    legend = bars.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [translate("traffic.report.visits", language),
                                                          translate("traffic.report.partial", language)]
    box = legend.get_window_extent()
    drawn = [p.get_window_extent() for p in bars.patches if isinstance(p, Rectangle) and p.get_height() > 0]
    assert len(drawn) == 7
    assert not [b for b in drawn if b.overlaps(box)]
    assert not box.overlaps(heat.get_window_extent())
    assert not box.overlaps(heat.title.get_window_extent())
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1


@pytest.mark.parametrize("language", ["zh_CN", "en"])
@pytest.mark.parametrize(("size", "text_px", "labels"), [
    ((1880, 420), 31, 4),  # elder mode at 1920x1080: rows lower than the text, so every other weekday
    ((1220, 300), 24, 4),  # elder mode at 1280x800
    ((1000, 1000), 31, 7),  # portrait: room for all seven
])
def test_weekday_labels_never_touch(size: tuple[int, int], text_px: int, labels: int, language: str) -> None:
    fig = traffic_figure(_week(), language, ChartFrame(size[0], size[1], text_px=text_px))
    heat = fig.axes[1]
    names = [t for t in heat.get_yticklabels() if t.get_text()]
    assert len(names) == labels
    assert names[0].get_text() == translate("traffic.weekday.mon", language)
    boxes = [t.get_window_extent() for t in names]
    assert not [(a, b) for a, b in pairwise(boxes) if a.overlaps(b)]
    assert min(float(t.get_fontsize()) for t in names) * 100 / 72 >= 0.9 * text_px - 0.01


def test_a_page_chart_after_a_screen_chart_is_unchanged(tmp_path: Path) -> None:
    before = write_png(_week(), tmp_path / "before.png")
    write_png(_week(), tmp_path / "screen.png", frame=ChartFrame(800, 300, text_px=30))
    after = write_png(_week(), tmp_path / "after.png")
    assert Image.open(before).size == Image.open(after).size == (1320, 990)
    assert before.read_bytes() == after.read_bytes()
