"""PNG charts of a traffic report, drawn with matplotlib in a Simplified-Chinese font found through fontconfig.

Matplotlib's default DejaVu Sans has no CJK glyphs and draws boxes, so the font file is located with `fc-match`
(the same way the UI finds its font) and registered explicitly. Gaps are NaN in the series, so a line breaks and a
bar is missing instead of dropping to zero.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager
from matplotlib import pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend

from kiosk.i18n import translate
from kiosk.traffic.index import IndexReport
from kiosk.traffic.reports import TrafficReport

FALLBACK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


@lru_cache(maxsize=1)
def cjk_font_path() -> str | None:
    """A font file with Simplified-Chinese glyphs: fontconfig first, then well-known paths."""
    if shutil.which("fc-match"):
        try:
            found = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True,
                                   timeout=5, check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            found = ""
        if found and Path(found).is_file():
            return found
    return next((p for p in FALLBACK_FONTS if Path(p).is_file()), None)


@lru_cache(maxsize=1)
def cjk_font_family() -> str:
    path = cjk_font_path()
    if path is None:
        return "sans-serif"
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


def visits_series(report: TrafficReport) -> tuple[list[str], list[float]]:
    """The plotted series: period labels and visits, gaps as NaN (what the chart shows, readable by tests)."""
    return [r.label for r in report.rows], [math.nan if r.visits is None else r.visits for r in report.rows]


def heatmap_matrix(report: TrafficReport) -> list[list[float]]:
    return [[math.nan if v is None else v for v in row] for row in report.heatmap]


@dataclass(frozen=True)
class ChartFrame:
    """The pixels a chart will be shown in, and the height of its text there: a screen draws the chart at the size
    it shows it, so its text is as large as the screen's own instead of a 1320×990 page shrunk into a panel."""

    width_px: int
    height_px: int
    text_px: float

    DPI = 100

    @property
    def side_by_side(self) -> bool:
        """A wide, low panel (a landscape screen) puts the heatmap beside the bars instead of under them."""
        return self.width_px > 1.6 * self.height_px

    @property
    def points(self) -> float:
        return self.text_px * 72 / self.DPI


def traffic_figure(report: TrafficReport, language: str = "zh_CN", frame: ChartFrame | None = None) -> Figure:
    """The week's bars and the weekday × hour heatmap: on a printable page by default, or filling `frame`."""
    with _chart_style(frame):
        return _traffic_figure(report, language, frame)


@contextmanager
def _chart_style(frame: ChartFrame | None) -> Iterator[None]:
    """The CJK font, and a screen's text size for a frame, only while a chart is built and drawn (ticks are made
    when drawing): the screen's size never leaks into a report drawn later in the same process."""
    with plt.rc_context():
        plt.rcParams["font.family"] = cjk_font_family()
        plt.rcParams["axes.unicode_minus"] = False
        if frame is not None:
            plt.rcParams["font.size"] = frame.points
        yield


def _traffic_figure(report: TrafficReport, language: str, frame: ChartFrame | None) -> Figure:
    with_heatmap = bool(report.heatmap)
    rows, cols = (2 if with_heatmap else 1), 1
    if frame is None:
        figsize, tick = (12.0, 9.0 if with_heatmap else 5.0), 8.0
    else:
        if with_heatmap and frame.side_by_side:
            rows, cols = 1, 2
        figsize, tick = (frame.width_px / frame.DPI, frame.height_px / frame.DPI), frame.points * 0.9
    fig, axes_grid = plt.subplots(rows, cols, figsize=figsize, squeeze=False)
    axes = [ax for row in axes_grid for ax in row]
    labels, values = visits_series(report)
    ax = axes[0]
    xs = list(range(len(labels)))
    full = [0.0 if math.isnan(v) or r.coverage < 1 else v for v, r in zip(values, report.rows, strict=True)]
    partial = [v if not math.isnan(v) and r.coverage < 1 else 0.0 for v, r in zip(values, report.rows, strict=True)]
    ax.bar(xs, full, color="#3a7bd5", label=translate("traffic.report.visits", language))
    if any(partial):
        ax.bar(xs, partial, color="#f0a030", label=translate("traffic.report.partial", language))
    gaps = [x for x, v in zip(xs, values, strict=True) if math.isnan(v)]
    if gaps:
        top = max((v for v in values if not math.isnan(v)), default=1.0) or 1.0
        ax.bar(gaps, [top] * len(gaps), color="none", edgecolor="#999999", hatch="//",
               label=translate("traffic.report.gap", language))
    step = max(1, len(labels) // 16)
    ax.set_xticks(xs[::step], [_short_label(x) if frame else x for x in labels[::step]], rotation=45, ha="right",
                  fontsize=tick)
    if frame is None:
        ax.set_title(translate("traffic.report.title", language, branch=report.branch_name,
                               start=report.start.isoformat(), end=report.end.isoformat()))
        ax.set_ylabel(translate("traffic.report.visits", language))
        ax.legend(loc="upper left")
        legend = None
    else:  # on a screen the branch and the week are the dashboard's own; the legend names the bars, above them
        legend = _legend_above(ax, tick)
    if with_heatmap:
        hm = axes[1]
        image = hm.imshow(heatmap_matrix(report), aspect="auto", cmap="YlOrRd")
        weekdays = [translate(f"traffic.weekday.{d}", language)
                    for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
        hm.set_yticks(range(7), weekdays, fontsize=tick if frame else None)
        hours = range(0, 24, 3 if frame else 1)  # every third hour is legible at screen size
        hm.set_xticks(hours, [str(h) for h in hours], fontsize=tick)
        hm.set_xlabel(translate("traffic.report.hour", language))
        hm.set_title(translate("traffic.report.heatmap", language))
        fig.colorbar(image, ax=hm)
    fig.tight_layout()
    if legend is not None and legend.get_window_extent().width > ax.get_window_extent().width:
        _legend_above(ax, tick, one_row=False)
        fig.tight_layout()
    if with_heatmap and frame is not None and not _rows_fit_their_labels(axes[1], tick, frame):
        # Large text in a low panel (elder mode): seven labels would touch each other; Mon, Wed, Fri, Sun read as
        # a weekday axis (as a calendar heatmap does) and each stays legible at the screen's text size.
        axes[1].set_yticks(range(0, 7, 2), weekdays[::2], fontsize=tick)
        fig.tight_layout()
    return fig


def _rows_fit_their_labels(heatmap: Axes, points: float, frame: ChartFrame) -> bool:
    """Is a heatmap row at least as high as its label's line (with a little air between neighbours)?"""
    row_px = heatmap.get_window_extent().height / 7
    return row_px >= points * frame.DPI / 72 * 1.2


def _legend_above(ax: Axes, fontsize: float, *, one_row: bool = True) -> Legend:
    """Outside the axes, over them: inside, a two-line legend in large text covered the bars' tops in a low panel
    (elder mode at 1920×1080), whatever headroom the y axis was given. One row while it fits the axes' width."""
    handles, _ = ax.get_legend_handles_labels()
    return ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=len(handles) if one_row else 1,
                     frameon=False, borderaxespad=0.2, fontsize=fontsize)


def _short_label(label: str) -> str:
    """"2026-11-16" → "11-16" on a screen: the year is in the title."""
    return label[5:] if len(label) == 10 and label[4] == "-" else label


def write_png(report: TrafficReport, path: Path, language: str = "zh_CN", frame: ChartFrame | None = None) -> Path:
    """A PNG of `traffic_figure`: 110 dpi for a page, or exactly `frame`'s pixels."""
    with _chart_style(frame):
        fig = traffic_figure(report, language, frame)
        try:
            fig.savefig(path, dpi=110 if frame is None else frame.DPI)
        finally:
            plt.close(fig)
    return path


def index_series(report: IndexReport) -> tuple[list[str], list[float]]:
    """Indicator keys and scores as plotted (missing indicators as NaN: no bar, not a zero bar)."""
    return [i.key for i in report.indicators], [math.nan if i.score is None else i.score for i in report.indicators]


def write_index_png(report: IndexReport, path: Path, language: str = "zh_CN") -> Path:
    """Horizontal bars of each indicator's score, coloured by board, with the board and total scores in the title."""
    plt.rcParams["font.family"] = cjk_font_family()
    keys, scores = index_series(report)
    colours = {"flow": "#3a7bd5", "activity": "#f0a030", "service": "#2ca02c"}
    fig, ax = plt.subplots(figsize=(10, 5))
    try:
        ys = list(range(len(keys)))
        ax.barh(ys, [0 if math.isnan(s) else s for s in scores],
                color=[colours[i.board] for i in report.indicators])
        for y, score in zip(ys, scores, strict=True):
            text = translate("traffic.report.no_data", language) if math.isnan(score) else f"{score:.1f}"
            ax.text((0 if math.isnan(score) else score) + 1, y, text, va="center", fontsize=9)
        ax.set_yticks(ys, [translate(f"traffic.index.{k}", language) for k in keys])
        ax.invert_yaxis()
        ax.set_xlim(0, 110)
        boards = "  ".join(
            f"{translate(f'traffic.index.board.{b}', language)} {'—' if s is None else f'{s:.1f}'}"
            for b, s in report.boards.items()
        )
        total = "—" if report.total is None else f"{report.total:.1f}"
        ax.set_title(f"{report.branch_name} {translate('traffic.report.index', language)} {total}\n{boards}")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return path
