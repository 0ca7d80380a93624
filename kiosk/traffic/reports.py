"""Visit reports built from the rollups only (never from raw samples), per branch or network-wide.

Gaps are gaps: a period without any counter coverage is `None`, never 0, and every row carries the share of its
15-minute slots that were covered, so a half-covered day is visibly half-covered rather than silently low.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.db import Database
from catalog.model import Branch, Loan, Rating
from catalog.traffic_model import TrafficGap, TrafficRollup
from kiosk.traffic.buckets import day_start
from kiosk.traffic.ingest import UnknownBranch

Grain = Literal["hour", "day", "week", "month", "year"]
GRAINS: tuple[str, ...] = get_args(Grain)
NETWORK = "*"
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class PeriodRow:
    start: datetime
    """Local start of the period (aware, in the report's time zone)."""
    label: str
    visits: float | None
    exits: float | None
    coverage: float
    """Share of the period's 15-minute slots with counter data (0–1); 0 means a gap."""


@dataclass(frozen=True)
class GapView:
    device: str
    started_at: datetime
    ended_at: datetime
    unattributed_visits: float
    """What the counter counted across the gap: real visits that cannot be placed in time."""


@dataclass(frozen=True)
class YearOverYear:
    month: str
    visits: float | None
    previous: float | None
    change: float | None
    """(visits − previous) / previous; None when either side is a gap or previous is 0."""


@dataclass(frozen=True)
class TrafficReport:
    branch: str
    """Branch code, or "*" for the whole network."""
    branch_name: str
    by: str
    start: date
    end: date
    """Inclusive."""
    timezone: str
    rows: tuple[PeriodRow, ...]
    total_visits: float | None
    gaps: tuple[GapView, ...] = ()
    heatmap: tuple[tuple[float | None, ...], ...] = ()
    """7 × 24 mean visits per covered hour, Monday first."""
    peak_hours: tuple[tuple[int, float], ...] = ()
    weekday_mean: float | None = None
    weekend_mean: float | None = None
    year_over_year: tuple[YearOverYear, ...] = ()
    loans: int = 0
    loans_per_visit: float | None = None
    ratings: dict[str, int] = field(default_factory=dict)
    satisfaction: float | None = None
    """Share of 好评 among all ratings (None without ratings)."""


@dataclass(frozen=True)
class Scope:
    """Which branches a report covers and in which time zone its days are counted."""

    code: str
    name: str
    branch_ids: tuple[int, ...]
    tz: ZoneInfo


def resolve_scope(session: Session, branch: str | None, network_tz: str = "Asia/Shanghai") -> Scope:
    if branch and branch != NETWORK:
        row = session.scalar(select(Branch).where(Branch.code == branch))
        if row is None:
            raise UnknownBranch(branch=branch)
        return Scope(row.code, row.name, (row.id,), ZoneInfo(row.timezone))
    ids = tuple(session.scalars(select(Branch.id).order_by(Branch.id)))
    return Scope(NETWORK, "全网", ids, ZoneInfo(network_tz))


def _days(start: date, end: date) -> Iterable[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def daily_rollups(session: Session, scope: Scope, start: date, end: date) -> dict[date, tuple[float, float, int]]:
    """visits in, out and covered slots per local date, summed over the scope's branches."""
    if len(scope.branch_ids) == 1:
        # One branch: walk its primary key (branch, grain, bucket_start) instead of every branch's days.
        lo, hi = day_start(start, scope.tz), day_start(end + timedelta(days=1), scope.tz)
        single = session.execute(
            select(TrafficRollup.local_date, TrafficRollup.visits_in, TrafficRollup.visits_out,
                   TrafficRollup.covered_slots)
            .where(TrafficRollup.branch_id == scope.branch_ids[0], TrafficRollup.grain == "day",
                   TrafficRollup.bucket_start >= lo, TrafficRollup.bucket_start < hi)
        )
        return {d: (float(vin), float(vout), int(cov)) for d, vin, vout, cov in single}
    rows = session.execute(
        select(TrafficRollup.local_date, func.sum(TrafficRollup.visits_in), func.sum(TrafficRollup.visits_out),
               func.sum(TrafficRollup.covered_slots))
        .where(TrafficRollup.grain == "day", TrafficRollup.local_date >= start, TrafficRollup.local_date <= end,
               TrafficRollup.branch_id.in_(scope.branch_ids))
        .group_by(TrafficRollup.local_date)
    )
    return {d: (float(vin), float(vout), int(cov)) for d, vin, vout, cov in rows}


def hourly_rollups(session: Session, scope: Scope, start: date, end: date) -> dict[datetime, tuple[float, float, int]]:
    """visits in, out and covered slots per hour (UTC start), summed over the scope's branches."""
    lo, hi = day_start(start, scope.tz), day_start(end + timedelta(days=1), scope.tz)
    if len(scope.branch_ids) == 1:
        single = session.execute(
            select(TrafficRollup.bucket_start, TrafficRollup.visits_in, TrafficRollup.visits_out,
                   TrafficRollup.covered_slots)
            .where(TrafficRollup.branch_id == scope.branch_ids[0], TrafficRollup.grain == "hour",
                   TrafficRollup.bucket_start >= lo, TrafficRollup.bucket_start < hi)
        )
        return {at: (vin, vout, cov) for at, vin, vout, cov in single}
    rows = session.execute(
        select(TrafficRollup.bucket_start, func.sum(TrafficRollup.visits_in), func.sum(TrafficRollup.visits_out),
               func.sum(TrafficRollup.covered_slots))
        .where(TrafficRollup.grain == "hour", TrafficRollup.bucket_start >= lo, TrafficRollup.bucket_start < hi,
               TrafficRollup.branch_id.in_(scope.branch_ids))
        .group_by(TrafficRollup.bucket_start)
    )
    return {at: (float(vin), float(vout), int(cov)) for at, vin, vout, cov in rows}


def reporting_branches(session: Session, scope: Scope, start: date, end: date) -> int:
    if len(scope.branch_ids) == 1:
        return 1
    count = session.scalar(
        select(func.count(func.distinct(TrafficRollup.branch_id))).where(
            TrafficRollup.grain == "day", TrafficRollup.local_date >= start, TrafficRollup.local_date <= end)
    )
    return max(1, int(count or 0))


def _period_key(day: date, by: str) -> date:
    if by == "week":
        return day - timedelta(days=day.weekday())
    if by == "month":
        return day.replace(day=1)
    if by == "year":
        return day.replace(month=1, day=1)
    return day


def _label(start: date | datetime, by: str) -> str:
    if by == "hour":
        assert isinstance(start, datetime)
        return start.strftime("%Y-%m-%d %H:00")
    if by == "week":
        iso = start.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if by == "month":
        return start.strftime("%Y-%m")
    if by == "year":
        return start.strftime("%Y")
    return start.strftime("%Y-%m-%d")


def _local(day: date, tz: ZoneInfo) -> datetime:
    return day_start(day, tz).astimezone(tz)


def _elapsed_slots(period_start: datetime, period_end: datetime, now: datetime | None) -> int:
    """The 15-minute slots of a period that have begun by `now` (all of them without `now`): a day still under
    way is not "part of the period has no data", it is not over yet."""
    full = round((period_end - period_start) / timedelta(minutes=15))
    if now is None or now >= period_end:
        return full
    if now <= period_start:
        return 0
    return min(full, -(-(now - period_start) // timedelta(minutes=15)))


def period_rows(scope: Scope, by: str, start: date, end: date, days: dict[date, tuple[float, float, int]],
                hours: dict[datetime, tuple[float, float, int]], branches: int,
                now: datetime | None = None) -> tuple[PeriodRow, ...]:
    """One row per period; with `now`, coverage counts only the slots that have begun (today so far)."""
    if by not in GRAINS:
        raise ValueError(f"unknown period {by!r}: one of {', '.join(GRAINS)}")
    rows: list[PeriodRow] = []
    if by == "hour":
        at = day_start(start, scope.tz)
        stop = day_start(end + timedelta(days=1), scope.tz)
        while at < stop:
            cell = hours.get(at)
            local = at.astimezone(scope.tz)
            if cell is None:
                rows.append(PeriodRow(local, _label(local, by), None, None, 0.0))
            else:
                expected = _elapsed_slots(at, at + timedelta(hours=1), now) * branches
                rows.append(PeriodRow(local, _label(local, by), cell[0], cell[1],
                                      min(1.0, cell[2] / expected) if expected else 1.0))
            at += timedelta(hours=1)
        return tuple(rows)
    groups: dict[date, list[date]] = defaultdict(list)
    for day in _days(start, end):
        groups[_period_key(day, by)].append(day)
    for key in sorted(groups):
        members = [days[d] for d in groups[key] if d in days]
        expected = sum(_elapsed_slots(day_start(d, scope.tz), day_start(d + timedelta(days=1), scope.tz), now)
                       for d in groups[key]) * branches
        if not members:
            rows.append(PeriodRow(_local(key, scope.tz), _label(key, by), None, None, 0.0))
            continue
        rows.append(PeriodRow(
            _local(key, scope.tz), _label(key, by), sum(m[0] for m in members), sum(m[1] for m in members),
            min(1.0, sum(m[2] for m in members) / expected) if expected else 1.0,
        ))
    return tuple(rows)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def local_cells(hours: dict[datetime, tuple[float, float, int]], tz: ZoneInfo) -> list[tuple[int, int, float]]:
    """(weekday, local hour, visits) per covered hour: converted once, shared by the heatmap and the peaks."""
    return [(local.weekday(), local.hour, vin) for local, vin in
            ((at.astimezone(tz), cell[0]) for at, cell in hours.items())]


def heatmap(cells: list[tuple[int, int, float]]) -> tuple[tuple[float | None, ...], ...]:
    sums = [[0.0] * 24 for _ in range(7)]
    counts = [[0] * 24 for _ in range(7)]
    for weekday, hour, vin in cells:
        sums[weekday][hour] += vin
        counts[weekday][hour] += 1
    return tuple(tuple(sums[w][h] / counts[w][h] if counts[w][h] else None for h in range(24)) for w in range(7))


def peak_hours(cells: list[tuple[int, int, float]], top: int = 3) -> tuple[tuple[int, float], ...]:
    sums = [0.0] * 24
    counts = [0] * 24
    for _weekday, hour, vin in cells:
        sums[hour] += vin
        counts[hour] += 1
    means = [(hour, sums[hour] / counts[hour]) for hour in range(24) if counts[hour]]
    return tuple(sorted(means, key=lambda m: (-m[1], m[0]))[:top])


def year_over_year(session: Session, scope: Scope, start: date, end: date,
                   days: dict[date, tuple[float, float, int]]) -> tuple[YearOverYear, ...]:
    prev_start = start.replace(year=start.year - 1) if not (start.month == 2 and start.day == 29) else \
        start.replace(year=start.year - 1, day=28)
    prev_end = end.replace(year=end.year - 1) if not (end.month == 2 and end.day == 29) else \
        end.replace(year=end.year - 1, day=28)
    previous = daily_rollups(session, scope, prev_start, prev_end)

    def monthly(table: dict[date, tuple[float, float, int]]) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for d, (vin, _o, _c) in table.items():
            out[d.strftime("%Y-%m")] += vin
        return out

    now, before = monthly(days), monthly(previous)
    result: list[YearOverYear] = []
    months = sorted({d.strftime("%Y-%m") for d in _days(start, end)})
    for month in months:
        prev_key = f"{int(month[:4]) - 1}{month[4:]}"
        v, p = now.get(month), before.get(prev_key)
        change = (v - p) / p if v is not None and p else None
        result.append(YearOverYear(month, v, p, change))
    return tuple(result)


def _utc_range(scope: Scope, start: date, end: date) -> tuple[datetime, datetime]:
    return day_start(start, scope.tz), day_start(end + timedelta(days=1), scope.tz)


def loans_in(session: Session, scope: Scope, start: date, end: date) -> int:
    lo, hi = _utc_range(scope, start, end)
    return int(session.scalar(
        select(func.count(Loan.id)).where(Loan.out_at >= lo, Loan.out_at < hi, Loan.branch_id.in_(scope.branch_ids))
    ) or 0)


def ratings_in(session: Session, scope: Scope, start: date, end: date) -> dict[str, int]:
    lo, hi = _utc_range(scope, start, end)
    rows = session.execute(
        select(Rating.score, func.count(Rating.id))
        .where(Rating.at >= lo, Rating.at < hi, Rating.branch_id.in_(scope.branch_ids))
        .group_by(Rating.score)
    )
    counts = {"good": 0, "neutral": 0, "bad": 0}
    for score, n in rows:
        counts[score] = counts.get(score, 0) + int(n)
    return counts


def satisfaction_rate(ratings: dict[str, int], neutral_counts: bool = False) -> float | None:
    total = sum(ratings.values())
    if not total:
        return None
    satisfied = ratings.get("good", 0) + (ratings.get("neutral", 0) if neutral_counts else 0)
    return satisfied / total


def gaps_in(session: Session, scope: Scope, start: date, end: date) -> tuple[GapView, ...]:
    lo, hi = _utc_range(scope, start, end)
    rows = session.scalars(
        select(TrafficGap).where(TrafficGap.branch_id.in_(scope.branch_ids), TrafficGap.ended_at > lo,
                                 TrafficGap.started_at < hi).order_by(TrafficGap.started_at)
    )
    return tuple(GapView(g.device, g.started_at.astimezone(scope.tz), g.ended_at.astimezone(scope.tz), g.delta_in)
                 for g in rows)


def traffic_report(db: Database, *, start: date, end: date, by: str = "day", branch: str | None = None,
                   network_tz: str = "Asia/Shanghai", details: bool = True,
                   now: datetime | None = None) -> TrafficReport:
    """Visits per period plus, with `details`, the heatmap, peaks, weekday/weekend, YoY, loans and ratings. With
    `now`, a period still under way is measured against the part of it that has begun."""
    if end < start:
        raise ValueError("the report ends before it starts")
    with db.read() as session:
        scope = resolve_scope(session, branch, network_tz)
        days = daily_rollups(session, scope, start, end)
        need_hours = by == "hour" or details
        hours = hourly_rollups(session, scope, start, end) if need_hours else {}
        branches = reporting_branches(session, scope, start, end)
        rows = period_rows(scope, by, start, end, days, hours, branches, now)
        total = sum(v[0] for v in days.values()) if days else None
        if not details:
            return TrafficReport(scope.code, scope.name, by, start, end, str(scope.tz), rows, total)
        cells = local_cells(hours, scope.tz)
        weekday = [days[d][0] for d in days if d.weekday() < 5]
        weekend = [days[d][0] for d in days if d.weekday() >= 5]
        loans = loans_in(session, scope, start, end)
        ratings = ratings_in(session, scope, start, end)
        return TrafficReport(
            scope.code, scope.name, by, start, end, str(scope.tz), rows, total,
            gaps=gaps_in(session, scope, start, end),
            heatmap=heatmap(cells),
            peak_hours=peak_hours(cells),
            weekday_mean=_mean(weekday), weekend_mean=_mean(weekend),
            year_over_year=year_over_year(session, scope, start, end, days),
            loans=loans, loans_per_visit=(loans / total) if total else None,
            ratings=ratings, satisfaction=satisfaction_rate(ratings),
        )

