"""Ingest into real databases: raw samples, deltas, wraps, resets, gaps, late samples, halving, rollups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from catalog.db import Database
from catalog.traffic_model import TrafficGap, TrafficRollup, TrafficSample
from kiosk.traffic.ingest import UnknownBranch, ingest
from kiosk.traffic.settings import TrafficSettings
from tests.kiosk.traffic.helpers import count, every, local

MAX = 16_777_215


def _rollups(db: Database, grain: str) -> dict[str, tuple[float, float, int]]:
    with db.read() as s:
        rows = s.scalars(select(TrafficRollup).where(TrafficRollup.grain == grain).order_by(TrafficRollup.bucket_start))
        return {r.bucket_start.isoformat(): (r.visits_in, r.visits_out, r.covered_slots) for r in rows}


def test_samples_store_both_times_and_deltas(database: Database, add_branch: Callable[..., int],
                                             traffic_settings: TrafficSettings) -> None:
    add_branch("B1")
    start = local(2026, 11, 2, 9)
    result = ingest(database, "B1", every(start, 5, [(100, 90), (110, 93), (125, 100)]), traffic_settings)
    assert result.kinds == ["first", "normal", "normal"]
    assert (result.visits_in, result.visits_out) == (25.0, 10.0)
    with database.read() as s:
        rows = s.scalars(select(TrafficSample).order_by(TrafficSample.at)).all()
    assert [(r.delta_in, r.delta_out) for r in rows] == [(0, 0), (10, 3), (15, 7)]
    assert rows[1].device_time == start + timedelta(minutes=5)
    assert rows[1].received_at == start + timedelta(minutes=5, seconds=5)


def test_wrap_reset_and_gap_are_recorded(database: Database, add_branch: Callable[..., int],
                                         traffic_settings: TrafficSettings) -> None:
    add_branch("B1")
    t0 = local(2026, 11, 2, 9)
    events = [
        count(t0, MAX - 3, 10),
        count(t0 + timedelta(minutes=5), 6, 12),  # wrapped: 10 visits
        count(t0 + timedelta(minutes=10), 2, 1, flags=frozenset({"reset"})),  # power loss: 2 since
        count(t0 + timedelta(minutes=15), 9, 3),
        count(t0 + timedelta(hours=3), 29, 13),  # 2 h 45 min of silence: a gap
    ]
    result = ingest(database, "B1", events, traffic_settings)
    assert result.kinds == ["first", "wrap", "reset", "normal", "normal,gap"]
    assert (result.wraps, result.resets, result.gaps) == (1, 1, 1)
    assert result.visits_in == 10 + 2 + 7
    with database.read() as s:
        gap = s.scalars(select(TrafficGap)).one()
    assert (gap.started_at, gap.ended_at, gap.delta_in) == (t0 + timedelta(minutes=15), t0 + timedelta(hours=3), 20)
    hours = _rollups(database, "hour")
    # 09:00 local = 01:00 UTC holds the counted visits; 12:00 local is covered only by the sample ending the gap.
    assert hours[local(2026, 11, 2, 9).isoformat()] == (19.0, 5.0, 2)
    assert hours[local(2026, 11, 2, 12).isoformat()] == (0.0, 0.0, 1)
    assert local(2026, 11, 2, 10).isoformat() not in hours  # the gap is a gap, not a zero


def test_late_sample_is_kept_but_not_counted_twice(database: Database, add_branch: Callable[..., int],
                                                   traffic_settings: TrafficSettings) -> None:
    add_branch("B1")
    t0 = local(2026, 11, 2, 9)
    ingest(database, "B1", [count(t0, 0, 0), count(t0 + timedelta(minutes=10), 20, 0)], traffic_settings)
    result = ingest(database, "B1", [count(t0 + timedelta(minutes=5), 8, 0)], traffic_settings)
    assert result.kinds == ["late"] and result.visits_in == 0
    assert _rollups(database, "day")[local(2026, 11, 2).isoformat()][0] == 20.0


def test_batches_continue_from_stored_state(database: Database, add_branch: Callable[..., int],
                                            traffic_settings: TrafficSettings) -> None:
    add_branch("B1")
    t0 = local(2026, 11, 2, 23, 50)
    ingest(database, "B1", every(t0, 5, [(0, 0), (4, 1)]), traffic_settings)
    ingest(database, "B1", every(t0 + timedelta(minutes=10), 5, [(9, 3), (12, 8)]), traffic_settings)
    days = _rollups(database, "day")
    # 23:50–00:05 local crosses midnight in Asia/Shanghai (16:00 UTC): 4 visits on the 2nd, 8 on the 3rd.
    assert days[local(2026, 11, 2).isoformat()] == (4.0, 1.0, 1)
    assert days[local(2026, 11, 3).isoformat()] == (8.0, 7.0, 1)


def test_single_direction_counter_is_halved(database: Database, add_branch: Callable[..., int],
                                            traffic_settings: TrafficSettings) -> None:
    add_branch("B1")
    settings = replace(traffic_settings, single_direction_devices=("gate",))
    t0 = local(2026, 11, 2, 9)
    result = ingest(database, "B1", every(t0, 5, [(0, 0), (30, 0), (51, 0)], device="gate"), settings)
    assert (result.visits_in, result.visits_out) == (25.5, 25.5)


def test_unknown_branch_stores_nothing(database: Database, traffic_settings: TrafficSettings) -> None:
    with pytest.raises(UnknownBranch):
        ingest(database, "NOPE", [count(local(2026, 11, 2), 1, 1)], traffic_settings)
    with database.read() as s:
        assert s.scalar(select(func.count(TrafficSample.id))) == 0


def test_a_failing_batch_leaves_nothing_behind(database: Database, add_branch: Callable[..., int],
                                               traffic_settings: TrafficSettings) -> None:
    add_branch("B1")
    t0 = local(2026, 11, 2, 9)
    bad = count(t0 + timedelta(minutes=5), 2**63, 0)  # overflows BIGINT: the whole batch must roll back
    with pytest.raises(Exception):  # noqa: B017 - driver-specific overflow error
        ingest(database, "B1", [count(t0, 0, 0), bad], traffic_settings)
    with database.read() as s:
        assert s.scalar(select(func.count(TrafficSample.id))) == 0
        assert s.scalar(select(func.count()).select_from(TrafficRollup)) == 0
