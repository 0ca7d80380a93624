"""Occupancy now: in − out, clamped at zero, recalibrated at the quiet hour or after a long empty stretch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from catalog.db import Database
from kiosk.traffic.ingest import ingest
from kiosk.traffic.occupancy import crowding_level, occupancy_now
from kiosk.traffic.settings import TrafficSettings
from tests.kiosk.traffic.helpers import count, local


def test_none_until_the_counter_has_reported(database: Database, add_branch: Callable[..., int],
                                             traffic_settings: TrafficSettings) -> None:
    add_branch("B1")
    view = occupancy_now(database, "B1", traffic_settings, now=local(2026, 11, 2, 9))
    assert view.people is None and view.level == ""


def test_in_minus_out_with_a_crowding_level(database: Database, add_branch: Callable[..., int],
                                            traffic_settings: TrafficSettings) -> None:
    add_branch("B1", capacity=40)
    t0 = local(2026, 11, 2, 9)
    ingest(database, "B1", [count(t0, 0, 0), count(t0 + timedelta(minutes=5), 30, 4)], traffic_settings)
    view = occupancy_now(database, "B1", traffic_settings, now=t0 + timedelta(minutes=6))
    assert (view.people, view.level) == (26, "busy")
    ingest(database, "B1", [count(t0 + timedelta(minutes=10), 40, 4)], traffic_settings)
    assert occupancy_now(database, "B1", traffic_settings, now=t0 + timedelta(minutes=11)).level == "full"


def test_never_below_zero(database: Database, add_branch: Callable[..., int],
                          traffic_settings: TrafficSettings) -> None:
    add_branch("B1")
    t0 = local(2026, 11, 2, 9)
    ingest(database, "B1", [count(t0, 0, 0), count(t0 + timedelta(minutes=5), 2, 9)], traffic_settings)
    assert occupancy_now(database, "B1", traffic_settings, now=t0 + timedelta(minutes=6)).people == 0
    ingest(database, "B1", [count(t0 + timedelta(minutes=10), 5, 9)], traffic_settings)
    assert occupancy_now(database, "B1", traffic_settings, now=t0 + timedelta(minutes=11)).people == 3


def test_recalibrated_at_the_quiet_hour(database: Database, add_branch: Callable[..., int],
                                        traffic_settings: TrafficSettings) -> None:
    add_branch("B1")
    settings = replace(traffic_settings, quiet_hour=4, empty_after_s=24 * 3600)
    t0 = local(2026, 11, 2, 3, 30)
    ingest(database, "B1", [count(t0, 0, 0), count(t0 + timedelta(minutes=15), 5, 1)], settings)  # drift: 4 left
    assert occupancy_now(database, "B1", settings, now=local(2026, 11, 2, 3, 59)).people == 4
    assert occupancy_now(database, "B1", settings, now=local(2026, 11, 2, 4, 1)).people == 0
    ingest(database, "B1", [count(local(2026, 11, 2, 4, 15), 7, 1)], settings)
    assert occupancy_now(database, "B1", settings, now=local(2026, 11, 2, 4, 16)).people == 2


def test_recalibrated_after_a_long_empty_stretch(database: Database, add_branch: Callable[..., int],
                                                 traffic_settings: TrafficSettings) -> None:
    add_branch("B1")
    settings = replace(traffic_settings, quiet_hour=None, empty_after_s=3600)
    t0 = local(2026, 11, 2, 10)
    ingest(database, "B1", [count(t0, 0, 0), count(t0 + timedelta(minutes=5), 6, 0)], settings)
    # Samples keep coming without movement; after an hour with nobody passing the room is known empty.
    quiet = [count(t0 + timedelta(minutes=5 + 10 * i), 6, 0) for i in range(1, 5)]
    ingest(database, "B1", quiet, settings)
    assert occupancy_now(database, "B1", settings, now=t0 + timedelta(minutes=50)).people == 6
    ingest(database, "B1", [count(t0 + timedelta(minutes=90), 8, 0)], settings)
    assert occupancy_now(database, "B1", settings, now=t0 + timedelta(minutes=91)).people == 2


def test_crowding_levels_against_capacity(traffic_settings: TrafficSettings) -> None:
    assert [crowding_level(p, 10, traffic_settings) for p in (0, 5, 6, 8, 9, 12)] == [
        "comfortable", "comfortable", "busy", "busy", "full", "full"]
    assert crowding_level(5, None, traffic_settings) == ""
