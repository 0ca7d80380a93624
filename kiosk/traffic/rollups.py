"""Incremental rollups: each ingested batch adds its deltas and coverage to the 15-minute, hourly and daily rows.

Coverage is counted in 15-minute slots: a slot is covered when a counter reported within it or bridged it (two
samples no further apart than `gap_after_s`). The hour and day rows carry how many of their slots are covered, so a
report can tell a quiet night (covered, zero) from a dead counter (no row: a gap).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from catalog.traffic_model import TrafficRollup
from kiosk.traffic.buckets import local_date, local_floor


@dataclass
class _Bucket:
    visits_in: float = 0.0
    visits_out: float = 0.0
    samples: int = 0
    new_slots: int = 0


@dataclass
class RollupBatch:
    """Deltas and covered slots of one batch for one branch, before they are written."""

    tz: ZoneInfo
    deltas: dict[datetime, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0.0, 0.0]))
    covered: set[datetime] = field(default_factory=set)

    def add(self, at: datetime, visits_in: float, visits_out: float, sample: bool = True) -> None:
        slot = local_floor(at, self.tz, "15m")
        cell = self.deltas[slot]
        cell[0] += visits_in
        cell[1] += visits_out
        cell[2] += 1 if sample else 0
        self.covered.add(slot)

    def cover(self, slots: Iterable[datetime]) -> None:
        self.covered.update(slots)

    def __bool__(self) -> bool:
        return bool(self.covered)


def _existing_slots(session: Session, branch_id: int, slots: list[datetime]) -> set[datetime]:
    found: set[datetime] = set()
    for i in range(0, len(slots), 500):
        chunk = slots[i : i + 500]
        rows = session.scalars(
            select(TrafficRollup.bucket_start).where(
                TrafficRollup.branch_id == branch_id,
                TrafficRollup.grain == "15m",
                TrafficRollup.bucket_start.in_(chunk),
            )
        )
        found.update(rows)
    return found


def apply(session: Session, branch_id: int, batch: RollupBatch) -> None:
    """Add one batch to the rollup rows (upsert: insert or add to what is there), in the caller's transaction."""
    if not batch:
        return
    slots = sorted(batch.covered)
    new = set(slots) - _existing_slots(session, branch_id, slots)
    buckets: dict[tuple[str, datetime], _Bucket] = defaultdict(_Bucket)
    for slot in slots:
        vin, vout, samples = batch.deltas.get(slot, (0.0, 0.0, 0.0))
        for grain in ("15m", "hour", "day"):
            start = slot if grain == "15m" else local_floor(slot, batch.tz, grain)
            b = buckets[(grain, start)]
            b.visits_in += vin
            b.visits_out += vout
            b.samples += int(samples)
            b.new_slots += 1 if slot in new else 0
    rows = [
        {
            "branch_id": branch_id,
            "grain": grain,
            "bucket_start": start,
            "local_date": local_date(start, batch.tz),
            "visits_in": b.visits_in,
            "visits_out": b.visits_out,
            "covered_slots": b.new_slots,
            "samples": b.samples,
        }
        for (grain, start), b in buckets.items()
    ]
    upsert(session, rows)


def upsert(session: Session, rows: list[dict[str, object]]) -> None:
    """Insert rollup rows, adding to any row already there (SQLite and PostgreSQL both speak ON CONFLICT)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, TrafficRollup.__table__)
    stmt = insert(table)
    excluded = stmt.excluded
    # One cached statement executed with a parameter list: compiled once per process, not once per batch.
    stmt = stmt.on_conflict_do_update(
        index_elements=["branch_id", "grain", "bucket_start"],
        set_={
            "visits_in": table.c.visits_in + excluded.visits_in,
            "visits_out": table.c.visits_out + excluded.visits_out,
            "covered_slots": table.c.covered_slots + excluded.covered_slots,
            "samples": table.c.samples + excluded.samples,
        },
    )
    session.execute(stmt, rows)


def delete_from(session: Session, branch_id: int, since: datetime, tz: ZoneInfo) -> None:
    """Drop the rollups of one branch from the local day containing `since` on (before a rebuild)."""
    start = local_floor(since, tz, "day")
    session.execute(delete(TrafficRollup).where(TrafficRollup.branch_id == branch_id,
                                                TrafficRollup.bucket_start >= start))

