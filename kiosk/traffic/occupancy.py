"""People inside now: in − out from bidirectional counters, never below zero, recalibrated to zero when the room is
known to be empty.

In − out drifts (a group passes as one, someone leaves beside the beam), and the error never corrects itself. A
24-hour room has no closing time to reset at, so it recalibrates at a configured quiet hour (e.g. 04:00 local) or
after a long stretch with no movement at all. Single-direction counters cannot tell in from out and do not feed
occupancy.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.db import Database
from catalog.model import Branch
from catalog.traffic_model import TrafficOccupancy
from kiosk.browse_view import OccupancyView
from kiosk.traffic.settings import TrafficSettings


def next_quiet_instant(after: datetime, tz: ZoneInfo, hour: int) -> datetime:
    """First instant strictly after `after` at which the local clock shows `hour`:00."""
    local = after.astimezone(tz)
    candidate = datetime.combine(local.date(), time(hour), tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), time(hour), tzinfo=tz)
    return candidate.astimezone(UTC)


def _recalibration(state: TrafficOccupancy, at: datetime, tz: ZoneInfo, settings: TrafficSettings) -> datetime | None:
    """When, between the last update and `at`, the room is known to have been empty (None: not known)."""
    idle_until = state.last_movement_at + timedelta(seconds=settings.empty_after_s)
    if at >= idle_until and state.people > 0:
        return idle_until
    if settings.quiet_hour is not None:
        quiet = next_quiet_instant(state.updated_at, tz, settings.quiet_hour)
        if quiet <= at:
            return quiet
    return None


def record(session: Session, branch: Branch, movements: Sequence[tuple[datetime, float, float]],
           settings: TrafficSettings) -> None:
    """Apply one batch's movements (bidirectional counters only) to the branch's occupancy row."""
    if not movements:
        return
    tz = ZoneInfo(branch.timezone)
    state = session.scalar(
        select(TrafficOccupancy).where(TrafficOccupancy.branch_id == branch.id).with_for_update()
    )
    if state is None:
        first = min(m[0] for m in movements)
        state = TrafficOccupancy(branch_id=branch.id, people=0, updated_at=first, last_movement_at=first)
        session.add(state)
    # Stable sort on time only: counters report whole seconds, and within a second the arrival order is the order.
    for at, v_in, v_out in sorted(movements, key=lambda m: m[0]):
        if at >= state.updated_at:
            when = _recalibration(state, at, tz, settings)
            if when is not None:
                state.people = 0
                state.recalibrated_at = when
            state.updated_at = at
        state.people = max(0, state.people + round(v_in) - round(v_out))
        if v_in or v_out:
            state.last_movement_at = max(state.last_movement_at, at)


def crowding_level(people: int, capacity: int | None, settings: TrafficSettings) -> str:
    """comfortable / busy / full against the branch capacity; empty text when the capacity is unknown."""
    if not capacity:
        return ""
    ratio = people / capacity
    if ratio >= settings.full_ratio:
        return "full"
    if ratio >= settings.busy_ratio:
        return "busy"
    return "comfortable"


def occupancy_now(db: Database, branch_code: str, settings: TrafficSettings, now: datetime | None = None
                  ) -> OccupancyView:
    """What the attract screen shows: people inside (None until the counter has reported) and a crowding level."""
    now = now or datetime.now(UTC)
    with db.read() as session:
        branch = session.scalar(select(Branch).where(Branch.code == branch_code))
        if branch is None:
            return OccupancyView(people=None)
        state = session.scalar(select(TrafficOccupancy).where(TrafficOccupancy.branch_id == branch.id))
        if state is None:
            return OccupancyView(people=None)
        people = state.people
        if _recalibration(state, now, ZoneInfo(branch.timezone), settings) is not None:
            people = 0
        extra = {"capacity": branch.capacity} if branch.capacity else {}
        return OccupancyView(people=people, level=crowding_level(people, branch.capacity, settings),
                             updated_at=state.updated_at, extra=extra)
