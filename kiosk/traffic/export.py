"""Report files: JSON, CSV, XLSX (one sheet per view) and plain tables. Gaps stay gaps: null in JSON, an empty cell
in CSV and XLSX, "—" in a table."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kiosk.i18n import translate
from kiosk.traffic.index import IndexReport
from kiosk.traffic.reports import WEEKDAY_KEYS, TrafficReport


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def report_dict(report: TrafficReport | IndexReport) -> dict[str, Any]:
    data: dict[str, Any] = _plain(asdict(report))
    return data


def to_json(report: TrafficReport | IndexReport) -> str:
    return json.dumps(report_dict(report), ensure_ascii=False, indent=2)


def period_table(report: TrafficReport, language: str = "zh_CN") -> list[list[Any]]:
    """Header plus one row per period; None (a gap) stays None."""
    t = lambda key: translate(key, language)  # noqa: E731
    rows: list[list[Any]] = [[t("traffic.report.period"), t("traffic.report.visits"), t("traffic.report.exits"),
                              t("traffic.report.coverage")]]
    for r in report.rows:
        rows.append([r.label, _round(r.visits), _round(r.exits), round(r.coverage, 3)])
    return rows


def index_table(report: IndexReport) -> list[list[Any]]:
    rows: list[list[Any]] = [["board", "indicator", "value", "score"]]
    for i in report.indicators:
        rows.append([i.board, i.key, None if i.value is None else round(i.value, 4), i.score])
    for board, score in report.boards.items():
        rows.append([board, "board_score", None, score])
    rows.append(["total", "popularity_index", None, report.total])
    return rows


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


def to_csv(table: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in table:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue()


def to_text_table(table: list[list[Any]]) -> str:
    cells = [["—" if v is None else str(v) for v in row] for row in table]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c + " " * (w - _width(c)) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def traffic_sheets(report: TrafficReport, language: str = "zh_CN") -> dict[str, list[list[Any]]]:
    """Every view of a traffic report as a named table (one XLSX sheet each)."""
    t = lambda key: translate(key, language)  # noqa: E731
    summary: list[list[Any]] = [
        ["branch", report.branch], ["name", report.branch_name], ["from", report.start.isoformat()],
        ["to", report.end.isoformat()], ["timezone", report.timezone], ["total_visits", _round(report.total_visits)],
        ["loans", report.loans],
        ["loans_per_visit", None if report.loans_per_visit is None else round(report.loans_per_visit, 4)],
        ["ratings_good", report.ratings.get("good", 0)], ["ratings_neutral", report.ratings.get("neutral", 0)],
        ["ratings_bad", report.ratings.get("bad", 0)],
        ["satisfaction", None if report.satisfaction is None else round(report.satisfaction, 4)],
        ["unattributed_visits_in_gaps", round(sum(g.unattributed_visits for g in report.gaps), 1)],
    ]
    heat: list[list[Any]] = [["", *range(24)]]
    for key, row in zip(WEEKDAY_KEYS, report.heatmap, strict=False):
        heat.append([t(f"traffic.weekday.{key}"), *(_round(v) for v in row)])
    peaks: list[list[Any]] = [["hour", "mean_visits"], *([h, round(v, 1)] for h, v in report.peak_hours)]
    week: list[list[Any]] = [["", "mean_daily_visits"], ["weekday", _round(report.weekday_mean)],
                             ["weekend", _round(report.weekend_mean)]]
    yoy: list[list[Any]] = [["month", "visits", "previous_year", "change"]]
    yoy += [[y.month, _round(y.visits), _round(y.previous), None if y.change is None else round(y.change, 4)]
            for y in report.year_over_year]
    gaps: list[list[Any]] = [["device", "from", "to", "unattributed_visits"]]
    gaps += [[g.device, g.started_at.strftime("%Y-%m-%d %H:%M"), g.ended_at.strftime("%Y-%m-%d %H:%M"),
              g.unattributed_visits] for g in report.gaps]
    return {
        t("traffic.report.summary"): summary,
        t("traffic.report.visits"): period_table(report, language),
        t("traffic.report.heatmap"): heat,
        t("traffic.report.peak_hours"): peaks,
        t("traffic.report.weekday_weekend"): week,
        t("traffic.report.year_over_year"): yoy,
        t("traffic.report.gaps"): gaps,
    }


def write_xlsx(sheets: dict[str, list[list[Any]]], path: Path) -> Path:
    from openpyxl import Workbook  # imported here: every `kiosk` command loads this module, few write workbooks

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, table in sheets.items():
        sheet = book.create_sheet(_sheet_name(name))
        for row in table:
            sheet.append(row)
    book.save(path)
    return path


def _sheet_name(name: str) -> str:
    """Excel forbids []:*?/\\ in sheet names and cuts them at 31 characters."""
    for ch in "[]:*?/\\":
        name = name.replace(ch, " ")
    return name[:31]
