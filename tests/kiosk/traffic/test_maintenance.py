"""Retention purge and rollup rebuild: rebuilt rollups equal the incrementally kept ones; purged days stay."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from catalog.db import Database
from catalog.model import Branch
from catalog.traffic_model import TrafficRollup, TrafficSample
from kiosk.cli import app
from kiosk.traffic import maintenance
from kiosk.traffic.ingest import ingest
from kiosk.traffic.reports import traffic_report
from kiosk.traffic.settings import TrafficSettings
from kiosk.traffic.simulate import SimulatedMonth, simulate_month
from tests.kiosk.traffic.helpers import count, local


def _snapshot(db: Database) -> list[tuple[str, str, float, float, int, int]]:
    with db.read() as s:
        rows = s.scalars(select(TrafficRollup).order_by(TrafficRollup.grain, TrafficRollup.bucket_start))
        return [(r.grain, r.bucket_start.isoformat(), round(r.visits_in, 6), round(r.visits_out, 6),
                 r.covered_slots, r.samples) for r in rows]


def _seed(database: Database) -> SimulatedMonth:
    sim = simulate_month(2026, 11, interval_min=15)
    settings = TrafficSettings()
    for i in range(0, len(sim.events), 480):
        ingest(database, "B1", sim.events[i : i + 480], settings)
    return sim


def test_rebuild_reproduces_the_incremental_rollups(database: Database, add_branch: Callable[..., int]) -> None:
    add_branch("B1")
    _seed(database)
    before = _snapshot(database)
    with database.unit_of_work() as s:  # damage the rollups
        s.execute(delete(TrafficRollup).where(TrafficRollup.grain == "hour",
                                              TrafficRollup.bucket_start >= local(2026, 11, 2)))
    result = maintenance.rebuild(database, "B1", TrafficSettings())
    # The oldest sample (00:00 on the 1st) primes the counter; the replay starts at the next local midnight.
    assert result.since == local(2026, 11, 2) and result.samples > 2000
    assert _snapshot(database) == before


def test_purge_keeps_rollups_and_rebuild_leaves_purged_days_alone(database: Database,
                                                                  add_branch: Callable[..., int]) -> None:
    add_branch("B1")
    sim = _seed(database)
    report_before = traffic_report(database, start=date(2026, 11, 1), end=date(2026, 11, 30), details=False)
    settings = TrafficSettings(retention_days=10)
    removed = maintenance.purge(database, settings, now=local(2026, 12, 1))
    with database.read() as s:
        kept = s.scalar(select(func.count(TrafficSample.id)))
        oldest = s.scalar(select(func.min(TrafficSample.at)))
    assert removed > 0 and kept == len(sim.events) - removed
    assert oldest is not None and oldest >= local(2026, 11, 21)
    maintenance.rebuild(database, "B1", settings)
    report_after = traffic_report(database, start=date(2026, 11, 1), end=date(2026, 11, 30), details=False)
    assert report_after.rows == report_before.rows


def test_purge_and_rebuild_commands(kiosk_env: object, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSK_DATABASE_URL", database_url)
    monkeypatch.setenv("KIOSK_KIOSK_BRANCH", "B1")
    Path("kiosk.toml").write_text("[traffic]\nretention_days = 1\n", encoding="utf-8")
    db = Database.from_url(database_url)
    try:
        with db.unit_of_work() as s:
            s.add(Branch(code="B1", name="一号中心"))
        ingest(db, "B1", [count(local(2026, 11, 2, 9), 0, 0), count(local(2026, 11, 2, 9, 5), 3, 1)],
               TrafficSettings())
    finally:
        db.dispose()
    runner = CliRunner()
    rebuilt = runner.invoke(app, ["traffic", "rebuild-rollups", "--json"])
    assert rebuilt.exit_code == 0, rebuilt.output
    # Both samples fall on the oldest kept day, which only primes the counter: nothing to replay after it.
    assert json.loads(rebuilt.output.strip().splitlines()[-1]) == {
        "branch": "B1", "since": local(2026, 11, 3).isoformat(), "samples": 0}
    purged = runner.invoke(app, ["traffic", "purge", "--json"])
    assert purged.exit_code == 0, purged.output
    assert json.loads(purged.output) == {"removed": 2, "retention_days": 1}
    unknown = runner.invoke(app, ["traffic", "rebuild-rollups", "--branch", "NOPE"])
    assert unknown.exit_code == 1 and "no branch 'NOPE'" in unknown.output
