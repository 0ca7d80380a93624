"""Storing door-counter events: one transaction per batch, raw sample + deltas + rollups + occupancy together.

Samples are ordered by device time (counters drift and deliver late, but their own clock orders their totals). A
sample older than the last one seen from that counter is stored as `late` with zero delta: its totals are already
inside the newer sample's delta, so counting it again would double count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from catalog.db import Database
from catalog.model import Branch
from catalog.traffic_model import TrafficDeviceState, TrafficGap, TrafficSample
from devices.events import DoorCount
from kiosk.errors import KioskError
from kiosk.traffic import occupancy, rollups
from kiosk.traffic.buckets import slots_between
from kiosk.traffic.deltas import StepKind, counter_step
from kiosk.traffic.settings import TrafficSettings


class UnknownBranch(KioskError):
    key = "traffic.unknown_branch"


@dataclass(frozen=True)
class Reading:
    """What the ingest needs of one sample; built from a `DoorCount` or from a stored raw row (rebuild)."""

    device: str
    at: datetime
    device_time: datetime | None
    received_at: datetime
    total_in: int
    total_out: int
    flags: frozenset[str] = frozenset()

    @classmethod
    def from_event(cls, event: DoorCount) -> Reading:
        received = _aware(event.received_at)
        device_time = _aware(event.device_time) if event.device_time is not None else None
        return cls(event.device, device_time or received, device_time, received, event.total_in, event.total_out,
                   event.flags)


@dataclass
class IngestResult:
    stored: int = 0
    wraps: int = 0
    resets: int = 0
    gaps: int = 0
    late: int = 0
    visits_in: float = 0.0
    visits_out: float = 0.0
    kinds: list[str] = field(default_factory=list)


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def branch_by_code(session: Session, code: str) -> Branch:
    branch = session.scalar(select(Branch).where(Branch.code == code))
    if branch is None:
        raise UnknownBranch(branch=code)
    return branch


def ingest(db: Database, branch_code: str, events: Iterable[DoorCount], settings: TrafficSettings) -> IngestResult:
    """Store one batch of counter events for a branch in one transaction; returns what was found in it."""
    readings = [Reading.from_event(e) for e in events]
    with db.unit_of_work() as session:
        branch = branch_by_code(session, branch_code)
        return process(session, branch, readings, settings, store_raw=True)


def process(session: Session, branch: Branch, readings: Sequence[Reading], settings: TrafficSettings, *,
            store_raw: bool, track_occupancy: bool = True) -> IngestResult:
    """The ingest core, shared by live ingest and `rebuild-rollups` (which replays stored samples)."""
    tz = ZoneInfo(branch.timezone)
    result = IngestResult()
    if not readings:
        return result
    ordered = sorted(readings, key=lambda r: (r.device, r.at, r.received_at))
    devices = sorted({r.device for r in ordered})
    states = {
        s.device: s
        for s in session.scalars(
            select(TrafficDeviceState)
            .where(TrafficDeviceState.branch_id == branch.id, TrafficDeviceState.device.in_(devices))
            .with_for_update()
        )
    }
    batch = rollups.RollupBatch(tz)
    raw: list[dict[str, object]] = []
    movements: list[tuple[datetime, float, float]] = []
    single = set(settings.single_direction_devices)
    for r in ordered:
        state = states.get(r.device)
        kinds: list[str] = []
        d_in = d_out = 0
        if state is None:
            kinds.append("first")
            state = TrafficDeviceState(branch_id=branch.id, device=r.device, last_at=r.at, last_in=r.total_in,
                                       last_out=r.total_out)
            session.add(state)
            states[r.device] = state
            batch.add(r.at, 0.0, 0.0)
        elif r.at < state.last_at:
            kinds.append("late")
            result.late += 1
        else:
            step = counter_step(
                (state.last_in, state.last_out), (r.total_in, r.total_out),
                maximum=settings.counter_max, max_plausible_delta=settings.max_plausible_delta,
                reset_flag="reset" in r.flags,
            )
            d_in, d_out = step.delta_in, step.delta_out
            kinds.append(step.kind.value)
            result.wraps += step.kind is StepKind.WRAP
            result.resets += step.kind is StepKind.RESET
            v_in, v_out = (d_in / 2, d_in / 2) if r.device in single else (float(d_in), float(d_out))
            if (r.at - state.last_at).total_seconds() > settings.gap_after_s:
                kinds.append("gap")
                result.gaps += 1
                session.add(TrafficGap(branch_id=branch.id, device=r.device, started_at=state.last_at,
                                       ended_at=r.at, delta_in=v_in, delta_out=v_out))
                batch.add(r.at, 0.0, 0.0)
            else:
                batch.cover(slots_between(state.last_at, r.at, tz))
                batch.add(r.at, v_in, v_out)
                result.visits_in += v_in
                result.visits_out += v_out
            if r.device not in single:
                # Movements across a gap cannot be placed in a bucket, but they did change who is inside.
                movements.append((r.at, v_in, v_out))
            state.last_at, state.last_in, state.last_out = r.at, r.total_in, r.total_out
        result.kinds.append(",".join(kinds))
        if store_raw:
            raw.append({
                "branch_id": branch.id, "device": r.device, "at": r.at, "device_time": r.device_time,
                "received_at": r.received_at, "total_in": r.total_in, "total_out": r.total_out,
                "delta_in": d_in, "delta_out": d_out, "kind": ",".join(kinds), "flags": ",".join(sorted(r.flags)),
            })
    if raw:
        session.execute(insert(TrafficSample), raw)
    result.stored = len(raw)
    rollups.apply(session, branch.id, batch)
    if track_occupancy:
        occupancy.record(session, branch, movements, settings)
    session.flush()
    return result
