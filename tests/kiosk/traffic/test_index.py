"""The popularity index on known inputs: each indicator, board scores and the weighted total."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

from catalog.db import Database
from catalog.model import AuditEntry, BranchEvent, Rating
from kiosk.traffic.index import popularity_index
from kiosk.traffic.ingest import ingest
from kiosk.traffic.settings import TrafficSettings
from tests.kiosk.traffic.helpers import count, local


def _seed(database: Database, branch_id: int, settings: TrafficSettings) -> None:
    """Two covered days in Nov 2026: 3 busy hours a day out of 24 covered hours, 60 visits a day."""
    events, total = [], 0
    for day in (2, 3):
        for hour in range(24):
            for quarter in range(4):
                events.append(count(local(2026, 11, day, hour, 15 * quarter), total, total))
                total += 5 if hour in (9, 10, 11) and day == 2 else 0
                total += 5 if hour in (14, 15, 16) and day == 3 else 0
    events.append(count(local(2026, 11, 4), total, total))
    ingest(database, "B1", events, settings)
    with database.unit_of_work() as s:
        start = local(2026, 11, 5, 19)
        s.add(BranchEvent(branch_id=branch_id, title="国学讲堂", starts_at=start, ends_at=start + timedelta(hours=2),
                          capacity=50, attendance=40))
        s.add(BranchEvent(branch_id=branch_id, title="读书会", starts_at=start + timedelta(days=7),
                          ends_at=start + timedelta(days=7, hours=2), capacity=30, attendance=30))
        for outcome in ("ok", "ok", "ok", "refused"):
            s.add(AuditEntry(kiosk_id="k1", branch_id=branch_id, action="loan", outcome=outcome,
                             at=local(2026, 11, 6, 10)))
        for score in ("good", "good", "good", "neutral", "bad"):
            s.add(Rating(branch_id=branch_id, kiosk_id="k1", score=score, at=local(2026, 11, 6, 11)))


def test_index_indicators_boards_and_total(database: Database, add_branch: Callable[..., int],
                                           traffic_settings: TrafficSettings) -> None:
    branch_id = add_branch("B1")
    _seed(database, branch_id, traffic_settings)
    cfg = replace(traffic_settings.index, target_daily_visits=120, target_events_per_month=4)
    report = popularity_index(database, start=date(2026, 11, 1), end=date(2026, 11, 30), branch="B1", cfg=cfg)
    values = {i.key: (i.value, i.score) for i in report.indicators}
    # 60 + 60 visits over 2 covered days (plus the slot covered on the 4th, a third covered day with 0).
    assert values["visit_rate"] == (40 / 120, 33.3)
    assert values["events_held"] == (2.0, 50.0)
    assert values["attendance_rate"] == (70 / 80, 87.5)
    # Visits land on the sample after them: 09:15–12:00 and 14:15–17:00 → 4 hours a day with visits, out of
    # 24 + 24 + 1 covered hours.
    usage_score = round(100 * 8 / 49, 1)
    assert values["usage_rate"] == (8 / 49, usage_score)
    assert values["completion_rate"] == (0.75, 75.0)
    assert values["satisfaction_rate"] == (0.6, 60.0)
    assert report.boards["flow"] == 33.3
    assert report.boards["activity"] == round((50.0 + 87.5) / 2, 1)
    assert report.boards["service"] == round((usage_score + 75.0 + 60.0) / 3, 1)
    expected = (0.4 * 33.3 + 0.2 * report.boards["activity"] + 0.4 * report.boards["service"])
    assert report.total == round(expected, 1) == 47.2  # the worked example in docs/POPULARITY_INDEX.md


def test_missing_data_is_left_out_not_scored_zero(database: Database, add_branch: Callable[..., int],
                                                  traffic_settings: TrafficSettings) -> None:
    add_branch("B1")
    report = popularity_index(database, start=date(2026, 11, 1), end=date(2026, 11, 30), branch="B1",
                              cfg=traffic_settings.index)
    values = {i.key: i.score for i in report.indicators}
    assert values["visit_rate"] is None and values["satisfaction_rate"] is None
    assert report.boards == {"flow": None, "activity": 0.0, "service": None}
    assert report.total == 0.0


def test_network_index_averages_visits_per_reporting_center(database: Database, add_branch: Callable[..., int],
                                                            traffic_settings: TrafficSettings) -> None:
    branch_id = add_branch("B1")
    add_branch("B2")  # no counter: must not halve the network's visit rate
    _seed(database, branch_id, traffic_settings)
    cfg = replace(traffic_settings.index, target_daily_visits=120)
    network = popularity_index(database, start=date(2026, 11, 1), end=date(2026, 11, 30), branch="*", cfg=cfg)
    single = popularity_index(database, start=date(2026, 11, 1), end=date(2026, 11, 30), branch="B1", cfg=cfg)
    assert network.branch == "*"
    assert {i.key: i.value for i in network.indicators}["visit_rate"] == 40 / 120
    # Two centers are expected to hold twice the events: 2 held against 2 × 4 a month.
    assert {i.key: i.score for i in network.indicators}["events_held"] == 25.0
    assert network.boards["service"] == single.boards["service"]
