"""Foot-traffic storage: raw door-counter samples, per-device counter state, rollups, gaps and occupancy.

Raw samples are kept for a configurable retention only; rollups (15-minute, hourly, daily buckets in the branch's
time zone) are kept forever and are what every report reads, so a report never rescans raw samples. A bucket that
has no rollup row was never covered by counter data: reports show it as a gap (None), not as zero traffic.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from catalog.model import Base

GRAINS = ("15m", "hour", "day")
"""Rollup grains; `covered_slots` counts the 15-minute slots with counter coverage inside a bucket."""


class TrafficSample(Base):
    """One `DoorCount` as received: cumulative totals, the deltas computed from them and what was detected."""

    __tablename__ = "traffic_samples"
    __table_args__ = (Index("ix_traffic_samples_branch_at", "branch_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    device: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column()
    """Device time when the counter sent one, else receive time: samples are ordered by this."""
    device_time: Mapped[datetime | None] = mapped_column()
    received_at: Mapped[datetime] = mapped_column()
    total_in: Mapped[int] = mapped_column(BigInteger)
    total_out: Mapped[int] = mapped_column(BigInteger)
    delta_in: Mapped[int] = mapped_column(Integer)
    delta_out: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    """Comma-separated findings: first, normal, wrap, reset, gap, late."""
    flags: Mapped[str] = mapped_column(String(200), default="")


class TrafficDeviceState(Base):
    """Last totals per counter, so deltas survive the purge of old raw samples."""

    __tablename__ = "traffic_device_state"

    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), primary_key=True)
    device: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_at: Mapped[datetime] = mapped_column()
    last_in: Mapped[int] = mapped_column(BigInteger)
    last_out: Mapped[int] = mapped_column(BigInteger)


class TrafficRollup(Base):
    """Visits per bucket. `visits_in/out` are floats because single-direction counters are halved."""

    __tablename__ = "traffic_rollups"
    __table_args__ = (Index("ix_traffic_rollups_grain_date", "grain", "local_date", "branch_id"),)

    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), primary_key=True)
    grain: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(primary_key=True)
    """Start of the bucket in the branch's local time, stored in UTC."""
    local_date: Mapped[date] = mapped_column(Date)
    visits_in: Mapped[float] = mapped_column(Float, default=0.0)
    visits_out: Mapped[float] = mapped_column(Float, default=0.0)
    covered_slots: Mapped[int] = mapped_column(Integer, default=0)
    samples: Mapped[int] = mapped_column(Integer, default=0)


class TrafficGap(Base):
    """A stretch with no counter data. What the counter counted across it cannot be placed in time, so it is kept
    here (reported as unattributed) rather than piled into the bucket where the counter came back."""

    __tablename__ = "traffic_gaps"
    __table_args__ = (Index("ix_traffic_gaps_branch_end", "branch_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    device: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime] = mapped_column()
    delta_in: Mapped[float] = mapped_column(Float, default=0.0)
    delta_out: Mapped[float] = mapped_column(Float, default=0.0)


class TrafficOccupancy(Base):
    """People inside now (in − out, clamped at zero), with what is needed to recalibrate it."""

    __tablename__ = "traffic_occupancy"

    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), primary_key=True)
    people: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column()
    last_movement_at: Mapped[datetime] = mapped_column()
    recalibrated_at: Mapped[datetime | None] = mapped_column()
