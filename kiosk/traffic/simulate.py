"""A simulated month of door-counter data with the faults real counters have: a wrap, a reset and a gap.

Used by the demo (`kiosk traffic simulate-month`), the tests and the benchmark. Deterministic for a seed, and it
returns the true visits alongside the events so a test can check what the reports make of them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from devices.events import DoorCount
from kiosk.traffic.settings import POINT_SIX_MAX

HOURLY_PROFILE = (0.2, 0.1, 0.05, 0.05, 0.05, 0.2, 0.8, 2.0, 4.0, 6.0, 7.0, 6.0,
                  5.0, 6.0, 7.0, 7.5, 7.0, 6.0, 6.5, 7.5, 7.0, 5.0, 2.0, 0.8)
"""Mean arrivals per 5 minutes by local hour in a 24-hour room: quiet at night, peaks after school and evenings."""


@dataclass
class SimulatedMonth:
    events: list[DoorCount]
    true_in: dict[date, int] = field(default_factory=dict)
    """Visits per local day that happened while the counter was reporting (the gap's visits are not in here)."""
    gap_in: int = 0
    """Visits during the gap: counted by the device, reported after it, not placeable in time."""
    wrap_at: datetime | None = None
    reset_at: datetime | None = None
    gap: tuple[datetime, datetime] | None = None


def simulate_month(year: int, month: int, *, tz: str = "Asia/Shanghai", device: str = "door-1",
                   interval_min: int = 5, seed: int = 7, counter_max: int = POINT_SIX_MAX,
                   wrap_day: int = 3, reset_day: int = 12, gap_day: int = 20) -> SimulatedMonth:
    """Samples every `interval_min` minutes for the local month. The totals start close to `counter_max` so they
    wrap on `wrap_day`; the counter loses power on `reset_day` at 10:00 (restarts at 0 and flags `reset`); it is
    unplugged on `gap_day` from 08:00 to 14:00 local (no samples; it keeps counting)."""
    zone = ZoneInfo(tz)
    rng = random.Random(seed)
    first = date(year, month, 1)
    after = date(year + (month == 12), month % 12 + 1, 1)
    at = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    stop = datetime.combine(after, time(0), tzinfo=zone).astimezone(UTC)
    step = timedelta(minutes=interval_min)
    # Start so that the IN total wraps around the middle of wrap_day.
    expected_before_wrap = int(sum(HOURLY_PROFILE) * 12 * (wrap_day - 1 + 0.5))
    total_in = counter_max - expected_before_wrap
    total_out = counter_max - expected_before_wrap + 40
    reset_at = datetime.combine(date(year, month, reset_day), time(10), tzinfo=zone).astimezone(UTC)
    gap = (datetime.combine(date(year, month, gap_day), time(8), tzinfo=zone).astimezone(UTC),
           datetime.combine(date(year, month, gap_day), time(14), tzinfo=zone).astimezone(UTC))
    sim = SimulatedMonth(events=[], reset_at=reset_at, gap=gap)
    inside: list[int] = []
    while at < stop:
        local = at.astimezone(zone)
        # Visits during (at − step, at]; the sample at `at` reports them.
        arrivals = _poisson(rng, HOURLY_PROFILE[(local - step).hour] * interval_min / 5)
        inside.append(arrivals)
        leaving = inside.pop(0) if len(inside) > 60 // interval_min else 0
        prev_in = total_in
        total_in = (total_in + arrivals) % (counter_max + 1)
        total_out = (total_out + leaving) % (counter_max + 1)
        if total_in < prev_in and sim.wrap_at is None:
            sim.wrap_at = at
        flags: frozenset[str] = frozenset()
        if at == reset_at:
            # Power loss just before this sample: the counter starts over and counts only what came since.
            total_in, total_out, flags = arrivals, leaving, frozenset({"reset"})
        in_gap = gap[0] < at < gap[1]
        if in_gap:
            sim.gap_in += arrivals
        elif at > first_sample(first, zone):
            day = at.astimezone(zone).date()
            if at == gap[1]:
                sim.gap_in += arrivals
            else:
                sim.true_in[day] = sim.true_in.get(day, 0) + arrivals
        if not in_gap:
            received = at + timedelta(seconds=rng.randint(0, 20))
            sim.events.append(DoorCount(device, total_in, total_out, at, received, flags))
        at += step
    return sim


def first_sample(first: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means of a reading room."""
    limit, k, p = pow(2.718281828459045, -mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
