"""A simulated month (wrap, reset, gap) through the CLI into a real database, out in every format."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from typer.testing import CliRunner

from catalog.db import Database
from kiosk.cli import app
from kiosk.traffic.charts import cjk_font_path, index_series, visits_series
from kiosk.traffic.index import popularity_index
from kiosk.traffic.reports import traffic_report
from kiosk.traffic.settings import IndexSettings
from kiosk.traffic.simulate import simulate_month


@pytest.fixture
def cli_env(kiosk_env: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KIOSK_DATABASE_URL", database_url)
    monkeypatch.setenv("KIOSK_KIOSK_BRANCH", "SIM")
    return database_url


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_simulator_has_a_wrap_a_reset_and_a_gap() -> None:
    sim = simulate_month(2026, 11)
    assert sim.wrap_at is not None and sim.wrap_at.astimezone().day <= 4
    assert sim.reset_at is not None and any("reset" in e.flags for e in sim.events)
    assert sim.gap is not None and sim.gap_in > 0
    assert not any(sim.gap[0] < (e.device_time or e.received_at) < sim.gap[1] for e in sim.events)


def test_simulated_month_reports_in_every_format(cli_env: str, tmp_path: Path) -> None:
    sim = simulate_month(2026, 11, interval_min=15)
    out = _run("traffic", "simulate-month", "--month", "2026-11", "--interval-min", "15")
    assert "1 reset(s), 1 gap(s)" in out and "wrap" in out

    data = json.loads(_run("report", "traffic", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "json"))
    got = {row["label"]: row["visits"] for row in data["rows"]}
    assert got == {d.isoformat(): float(n) for d, n in sim.true_in.items()}
    assert data["total_visits"] == sum(sim.true_in.values())
    assert [g["unattributed_visits"] for g in data["gaps"]] == [sim.gap_in]

    hourly = json.loads(_run("report", "traffic", "--from", "2026-11-20", "--to", "2026-11-20", "--by", "hour",
                             "--format", "json"))
    by_hour = {row["label"][-5:]: row["visits"] for row in hourly["rows"]}
    assert by_hour["09:00"] is None and by_hour["13:00"] is None  # unplugged 08:00–14:00
    assert by_hour["07:00"] is not None and by_hour["15:00"] is not None

    rows = list(csv.reader(io.StringIO(_run("report", "traffic", "--from", "2026-11-19", "--to", "2026-11-21",
                                            "--format", "csv"))))
    assert rows[0][:2] == ["时段", "到访人次"]
    assert [r[0] for r in rows[1:]] == ["2026-11-19", "2026-11-20", "2026-11-21"]
    assert float(rows[2][1]) == sim.true_in[date(2026, 11, 20)] and float(rows[2][3]) < 1

    table = _run("report", "traffic", "--from", "2026-11-01", "--to", "2026-11-30", "--by", "week")
    assert "2026-W45" in table

    xlsx = tmp_path / "traffic.xlsx"
    _run("report", "traffic", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "xlsx", "--out", str(xlsx))
    book = load_workbook(xlsx)
    assert {"概况", "到访人次", "高峰时段", "同比", "缺测时段"} <= set(book.sheetnames)
    daily = [r for r in book["到访人次"].iter_rows(min_row=2, values_only=True)]
    assert daily[19][0] == "2026-11-20" and daily[19][1] == sim.true_in[date(2026, 11, 20)]

    png = tmp_path / "traffic.png"
    _run("report", "traffic", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "png", "--out", str(png))
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size[0] > 800

    monthly = tmp_path / "monthly.xlsx"
    _run("report", "monthly", "--month", "2026-11", "--out", str(monthly))
    assert "人气指数" in load_workbook(monthly).sheetnames
    assert monthly.with_suffix(".png").is_file()

    index = json.loads(_run("report", "index", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "json"))
    assert index["boards"]["flow"] == 100.0 and index["total"] is not None
    index_png = tmp_path / "index.png"
    _run("report", "index", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "png", "--out", str(index_png))
    with Image.open(index_png) as image:
        assert image.format == "PNG"


def test_chart_series_matches_the_report(database: Database) -> None:
    from kiosk.traffic.ingest import ingest
    from kiosk.traffic.settings import TrafficSettings

    with database.unit_of_work() as s:
        from catalog.model import Branch

        s.add(Branch(code="SIM", name="模拟中心"))
    sim = simulate_month(2026, 11, interval_min=15)
    ingest(database, "SIM", sim.events, TrafficSettings())
    report = traffic_report(database, start=date(2026, 10, 31), end=date(2026, 11, 30), by="day", branch="SIM")
    labels, values = visits_series(report)
    assert labels[0] == "2026-10-31" and values[0] != values[0]  # NaN: October is a gap, not a zero
    assert values[1:] == [float(sim.true_in[date(2026, 11, d)]) for d in range(1, 31)]


def test_index_chart_series_leaves_missing_indicators_out(database: Database) -> None:
    with database.unit_of_work() as s:
        from catalog.model import Branch

        s.add(Branch(code="SIM", name="模拟中心"))
    report = popularity_index(database, start=date(2026, 11, 1), end=date(2026, 11, 30), branch="SIM",
                              cfg=IndexSettings())
    keys, scores = index_series(report)
    assert keys[0] == "visit_rate" and math.isnan(scores[0])  # no counter data: no bar, not a zero bar
    assert scores[keys.index("events_held")] == 0.0


def test_a_cjk_font_is_found() -> None:
    path = cjk_font_path()
    assert path is not None and Path(path).is_file()


def test_clear_errors(cli_env: str) -> None:
    result = CliRunner().invoke(app, ["report", "traffic", "--from", "2026-11-01", "--to", "2026-11-30",
                                      "--branch", "NOPE"])
    assert result.exit_code == 1 and "no branch 'NOPE'" in result.output
    result = CliRunner().invoke(app, ["report", "traffic", "--from", "2026-11-01", "--to", "2026-11-30",
                                      "--format", "png"])
    assert result.exit_code == 1 and "needs --out" in result.output
    result = CliRunner().invoke(app, ["report", "traffic", "--from", "11/01", "--to", "2026-11-30"])
    assert result.exit_code == 1 and "--from must be a date" in result.output
