"""Golden reports on fixed data: day boundaries in Asia/Shanghai, gaps as None, every grain, network-wide."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from catalog.db import Database
from catalog.model import Item, Loan, Rating, Title
from kiosk.traffic.ingest import ingest
from kiosk.traffic.reports import traffic_report
from kiosk.traffic.settings import TrafficSettings
from tests.kiosk.traffic.helpers import count, local

TOTAL = 380 + 384 + 380 + 384 + 764 + 768


def _steady_day(day: date, per_quarter: int, start_total: int = 0, hours: range = range(24)) -> list:
    """One sample every 15 minutes through the given local hours, `per_quarter` visits each."""
    events, total = [], start_total
    for hour in hours:
        for quarter in range(4):
            events.append(count(local(day.year, day.month, day.day, hour, 15 * quarter), total, total))
            total += per_quarter
    return events


def _seed(database: Database, settings: TrafficSettings) -> None:
    """Mon 2 Nov 2026 .. Sun 8 Nov: 4 visits per 15 min, except Wed 4 Nov dead all day (a gap) and Sat/Sun 8."""
    events = []
    total = 0
    for offset in range(7):
        day = date(2026, 11, 2) + timedelta(days=offset)
        if day == date(2026, 11, 4):
            continue
        per = 8 if day.weekday() >= 5 else 4
        events += _steady_day(day, per, total)
        total += per * 96
    events.append(count(local(2026, 11, 9, 0, 0), total, total))
    ingest(database, "B1", events, settings)


def test_daily_report_shows_the_gap_as_none(database: Database, add_branch: Callable[..., int],
                                            traffic_settings: TrafficSettings) -> None:
    add_branch("B1")
    _seed(database, traffic_settings)
    report = traffic_report(database, start=date(2026, 11, 1), end=date(2026, 11, 8), by="day", branch="B1")
    got = [(r.label, r.visits, round(r.coverage, 3)) for r in report.rows]
    assert got == [
        ("2026-11-01", None, 0.0),
        # The first sample (00:00 on the 2nd) only sets the baseline: 95 deltas of 4 visits.
        ("2026-11-02", 380.0, 1.0),
        # A sample reports the visits since the previous one; 00:00 local belongs to the new day: 96 deltas.
        ("2026-11-03", 384.0, 1.0),
        # Nothing from Tuesday 23:45 to Thursday 00:00: a gap, not a zero day.
        ("2026-11-04", None, 0.0),
        # Thursday 00:00 closes the gap (its delta is unattributed): 95 deltas.
        ("2026-11-05", 380.0, 1.0),
        ("2026-11-06", 384.0, 1.0),
        # Saturday 00:00 still carries Friday's rate (4), then 95 deltas of 8.
        ("2026-11-07", 764.0, 1.0),
        ("2026-11-08", 768.0, 1.0),
    ]
    assert report.total_visits == TOTAL
    assert len(report.gaps) == 1 and report.gaps[0].unattributed_visits == 4
    assert report.weekday_mean == (380 + 384 + 380 + 384) / 4
    assert report.weekend_mean == (764 + 768) / 2


def test_hourly_report_and_day_boundary(database: Database, add_branch: Callable[..., int],
                                        traffic_settings: TrafficSettings) -> None:
    add_branch("B1")
    _seed(database, traffic_settings)
    report = traffic_report(database, start=date(2026, 11, 3), end=date(2026, 11, 3), by="hour", branch="B1")
    assert len(report.rows) == 24
    assert report.rows[0].label == "2026-11-03 00:00"
    # 00:00 local on the 3rd (16:00 UTC on the 2nd) belongs to the 3rd and holds 4 quarters of 4 visits.
    assert [r.visits for r in report.rows] == [16.0] * 24
    wed = traffic_report(database, start=date(2026, 11, 4), end=date(2026, 11, 4), by="hour", branch="B1")
    assert [r.visits for r in wed.rows] == [None] * 24


def test_week_month_year_grains(database: Database, add_branch: Callable[..., int],
                                traffic_settings: TrafficSettings) -> None:
    add_branch("B1")
    _seed(database, traffic_settings)
    weeks = traffic_report(database, start=date(2026, 10, 26), end=date(2026, 11, 15), by="week", branch="B1")
    assert [(r.label, r.visits) for r in weeks.rows] == [
        ("2026-W44", None), ("2026-W45", TOTAL), ("2026-W46", 8.0)]
    assert round(weeks.rows[1].coverage, 4) == round(6 / 7, 4)
    assert round(weeks.rows[2].coverage * 96 * 7) == 1  # only the 00:00 sample on Monday the 9th
    months = traffic_report(database, start=date(2026, 10, 1), end=date(2026, 11, 30), by="month", branch="B1")
    assert [(r.label, r.visits) for r in months.rows] == [("2026-10", None), ("2026-11", TOTAL + 8.0)]
    years = traffic_report(database, start=date(2026, 1, 1), end=date(2026, 12, 31), by="year", branch="B1")
    assert [(r.label, r.visits) for r in years.rows] == [("2026", TOTAL + 8.0)]


def test_heatmap_peaks_and_year_over_year(database: Database, add_branch: Callable[..., int],
                                          traffic_settings: TrafficSettings) -> None:
    add_branch("B1")
    _seed(database, traffic_settings)
    report = traffic_report(database, start=date(2026, 11, 2), end=date(2026, 11, 8), by="day", branch="B1")
    assert report.heatmap[2] == (None,) * 24  # Wednesday: no data
    assert report.heatmap[5][10] == 32.0 and report.heatmap[1][10] == 16.0
    assert report.peak_hours[0][1] > 16.0
    assert [(y.month, y.visits, y.previous, y.change) for y in report.year_over_year] == [
        ("2026-11", float(TOTAL), None, None)]


def test_loans_per_visit_and_satisfaction(database: Database, add_branch: Callable[..., int],
                                          traffic_settings: TrafficSettings) -> None:
    branch_id = add_branch("B1")
    _seed(database, traffic_settings)
    with database.unit_of_work() as s:
        title = Title(title="论语")
        s.add(title)
        s.flush()
        for n in range(4):
            item = Item(barcode=f"TS{n}", title_id=title.id, home_branch_id=branch_id, current_branch_id=branch_id)
            s.add(item)
            s.flush()
            s.add(Loan(item_id=item.id, branch_id=branch_id, kiosk_id="k1", out_at=local(2026, 11, 3, 10),
                       due_at=local(2026, 12, 3, 10)))
        # 23:59 on the 8th local is inside; 00:00 on the 9th local is not.
        for score, at in [("good", local(2026, 11, 8, 23, 59)), ("good", local(2026, 11, 3)),
                          ("bad", local(2026, 11, 5)), ("neutral", local(2026, 11, 6)), ("bad", local(2026, 11, 9))]:
            s.add(Rating(branch_id=branch_id, kiosk_id="k1", score=score, at=at))
    report = traffic_report(database, start=date(2026, 11, 2), end=date(2026, 11, 8), by="day", branch="B1")
    assert report.loans == 4
    assert report.loans_per_visit == 4 / TOTAL
    assert report.ratings == {"good": 2, "neutral": 1, "bad": 1}
    assert report.satisfaction == 0.5


def test_network_wide_sums_branches(database: Database, add_branch: Callable[..., int],
                                    traffic_settings: TrafficSettings) -> None:
    add_branch("B1")
    add_branch("B2")
    _seed(database, traffic_settings)
    ingest(database, "B2", [count(local(2026, 11, 4, 9), 0, 0), count(local(2026, 11, 4, 9, 15), 7, 2)],
           traffic_settings)
    report = traffic_report(database, start=date(2026, 11, 3), end=date(2026, 11, 4), by="day", branch="*")
    assert [(r.label, r.visits) for r in report.rows] == [("2026-11-03", 384.0), ("2026-11-04", 7.0)]
    assert report.branch == "*"


def test_a_day_under_way_is_covered_so_far_not_part_missing(database: Database, add_branch: Callable[..., int],
                                                            traffic_settings: TrafficSettings) -> None:
    """At 10:30 a counter that has reported every quarter since midnight covers today so far: the dashboard must
    not label today's bar "part of the period has no data" because the afternoon has not happened yet."""
    add_branch("B1")
    day = date(2026, 11, 10)
    ingest(database, "B1", [*_steady_day(day, 4, hours=range(10)), count(local(2026, 11, 10, 10, 0), 160, 160),
                            count(local(2026, 11, 10, 10, 15), 164, 164)], traffic_settings)
    now = local(2026, 11, 10, 10, 30)
    so_far = traffic_report(database, start=day, end=day, by="day", branch="B1", now=now)
    assert so_far.rows[0].visits == 164.0 and so_far.rows[0].coverage > 0.97
    whole_day = traffic_report(database, start=day, end=day, by="day", branch="B1")
    assert whole_day.rows[0].coverage < 0.45  # a finished day with only the morning counted is part missing
    hours = traffic_report(database, start=day, end=day, by="hour", branch="B1", now=now, details=False)
    current = next(r for r in hours.rows if r.start.hour == 10)
    assert current.visits == 8.0 and current.coverage == 1.0  # 10:00 and 10:15 of the two quarters begun
    assert [r.visits for r in hours.rows if r.start.hour > 10] == [None] * 13
