"""Retention and repair: purge raw samples past their retention, rebuild rollups from the raw samples still kept.

Rollups are kept forever, so a rebuild only replaces rollups from the first local day that raw samples fully cover
onwards; older rollups (whose raw samples are purged) stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from catalog.db import Database
from catalog.model import Branch
from catalog.traffic_model import TrafficDeviceState, TrafficGap, TrafficSample
from kiosk.traffic import rollups
from kiosk.traffic.buckets import local_floor
from kiosk.traffic.ingest import Reading, branch_by_code, process
from kiosk.traffic.settings import TrafficSettings

REPLAY_CHUNK = 5000


def purge(db: Database, settings: TrafficSettings, now: datetime | None = None) -> int:
    """Delete raw samples older than the retention; returns how many went."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=settings.retention_days)
    with db.unit_of_work() as session:
        result = session.execute(delete(TrafficSample).where(TrafficSample.at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class RebuildResult:
    branch: str
    since: datetime | None
    samples: int


def rebuild(db: Database, branch_code: str, settings: TrafficSettings) -> RebuildResult:
    """Recompute one branch's rollups and gaps from its raw samples, in one transaction.

    The replay starts at the first local midnight strictly after the oldest kept sample, primed with the last
    sample before it, so the first replayed delta is as correct as it was live.
    """
    with db.unit_of_work() as session:
        branch = branch_by_code(session, branch_code)
        tz = ZoneInfo(branch.timezone)
        oldest = session.scalar(select(func.min(TrafficSample.at)).where(TrafficSample.branch_id == branch.id))
        if oldest is None:
            return RebuildResult(branch_code, None, 0)
        # The oldest kept sample only primes the counter state: its own delta came from a purged sample.
        since = local_floor(oldest + timedelta(days=1), tz, "day")
        rollups.delete_from(session, branch.id, since, tz)
        session.execute(delete(TrafficGap).where(TrafficGap.branch_id == branch.id, TrafficGap.ended_at >= since))
        session.execute(delete(TrafficDeviceState).where(TrafficDeviceState.branch_id == branch.id))
        _prime(session, branch, since)
        count = 0
        stmt = (select(TrafficSample).where(TrafficSample.branch_id == branch.id, TrafficSample.at >= since)
                .order_by(TrafficSample.at, TrafficSample.id).execution_options(yield_per=REPLAY_CHUNK))
        chunk: list[Reading] = []
        for sample in session.scalars(stmt):
            chunk.append(_reading(sample))
            if len(chunk) >= REPLAY_CHUNK:
                process(session, branch, chunk, settings, store_raw=False, track_occupancy=False)
                count += len(chunk)
                chunk = []
        if chunk:
            process(session, branch, chunk, settings, store_raw=False, track_occupancy=False)
            count += len(chunk)
        return RebuildResult(branch_code, since, count)


def _reading(s: TrafficSample) -> Reading:
    flags = frozenset(f for f in s.flags.split(",") if f)
    return Reading(s.device, s.at, s.device_time, s.received_at, s.total_in, s.total_out, flags)


def _prime(session: Session, branch: Branch, since: datetime) -> None:
    """Device state as of just before `since`: the last kept sample of each device."""
    devices = session.scalars(select(TrafficSample.device).where(TrafficSample.branch_id == branch.id).distinct())
    for device in list(devices):
        last = session.scalars(
            select(TrafficSample).where(TrafficSample.branch_id == branch.id, TrafficSample.device == device,
                                        TrafficSample.at < since).order_by(TrafficSample.at.desc()).limit(1)
        ).first()
        if last is not None:
            session.add(TrafficDeviceState(branch_id=branch.id, device=device, last_at=last.at,
                                           last_in=last.total_in, last_out=last.total_out))
    session.flush()
