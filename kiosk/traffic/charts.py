"""PNG charts of a traffic report, drawn with matplotlib in a Simplified-Chinese font found through fontconfig.

Matplotlib's default DejaVu Sans has no CJK glyphs and draws boxes, so the font file is located with `fc-match`
(the same way the UI finds its font) and registered explicitly. Gaps are NaN in the series, so a line breaks and a
bar is missing instead of dropping to zero.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

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


def traffic_figure(report: TrafficReport, language: str = "zh_CN") -> Figure:
    plt.rcParams["font.family"] = cjk_font_family()
    plt.rcParams["axes.unicode_minus"] = False
    with_heatmap = bool(report.heatmap)
    fig, axes = plt.subplots(2 if with_heatmap else 1, 1, figsize=(12, 9 if with_heatmap else 5), squeeze=False)
    labels, values = visits_series(report)
    ax = axes[0][0]
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
    ax.set_xticks(xs[::step], labels[::step], rotation=45, ha="right", fontsize=8)
    ax.set_title(translate("traffic.report.title", language, branch=report.branch_name,
                           start=report.start.isoformat(), end=report.end.isoformat()))
    ax.set_ylabel(translate("traffic.report.visits", language))
    ax.legend(loc="upper left")
    if with_heatmap:
        hm = axes[1][0]
        image = hm.imshow(heatmap_matrix(report), aspect="auto", cmap="YlOrRd")
        hm.set_yticks(range(7), [translate(f"traffic.weekday.{d}", language)
                                 for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")])
        hm.set_xticks(range(24), [str(h) for h in range(24)], fontsize=8)
        hm.set_xlabel(translate("traffic.report.hour", language))
        hm.set_title(translate("traffic.report.heatmap", language))
        fig.colorbar(image, ax=hm)
    fig.tight_layout()
    return fig


def write_png(report: TrafficReport, path: Path, language: str = "zh_CN") -> Path:
    fig = traffic_figure(report, language)
    try:
        fig.savefig(path, dpi=110)
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
