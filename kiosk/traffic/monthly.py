"""The monthly report a center hands to its district office: one workbook (every view, the popularity index) and
a PNG chart beside it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from catalog.db import Database
from kiosk.i18n import translate
from kiosk.traffic.charts import write_png
from kiosk.traffic.export import index_table, traffic_sheets, write_xlsx
from kiosk.traffic.index import popularity_index
from kiosk.traffic.reports import traffic_report
from kiosk.traffic.settings import TrafficSettings


@dataclass(frozen=True)
class MonthlyFiles:
    workbook: Path
    chart: Path


def month_range(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    after = date(year + (month == 12), month % 12 + 1, 1)
    return first, after - timedelta(days=1)


def write_monthly(db: Database, *, year: int, month: int, branch: str | None, out: Path, cfg: TrafficSettings,
                  language: str = "zh_CN", network_tz: str = "Asia/Shanghai") -> MonthlyFiles:
    start, end = month_range(year, month)
    report = traffic_report(db, start=start, end=end, by="day", branch=branch, network_tz=network_tz)
    index = popularity_index(db, start=start, end=end, branch=branch, cfg=cfg.index, network_tz=network_tz)
    sheets = traffic_sheets(report, language)
    sheets[translate("traffic.report.index", language)] = index_table(index)
    workbook = write_xlsx(sheets, out)
    chart = write_png(report, out.with_suffix(".png"), language)
    return MonthlyFiles(workbook, chart)
