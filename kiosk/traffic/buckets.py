"""Bucket boundaries in the branch's local time, stored as UTC instants.

A day is the branch's calendar day (00:00–24:00 Asia/Shanghai is 16:00–16:00 UTC), so "Monday's visits" means what
the librarian means; hour and 15-minute buckets are floored in local time too, which matters for zones with
half-hour offsets.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SLOT = timedelta(minutes=15)


def local_floor(at: datetime, tz: ZoneInfo, grain: str) -> datetime:
    """Start of the `grain` bucket containing `at`, as an aware UTC datetime."""
    local = at.astimezone(tz)
    if grain == "15m":
        start = local.replace(minute=local.minute // 15 * 15, second=0, microsecond=0)
    elif grain == "hour":
        start = local.replace(minute=0, second=0, microsecond=0)
    elif grain == "day":
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        raise ValueError(f"unknown grain {grain!r}")
    return start.astimezone(UTC)


def local_date(at: datetime, tz: ZoneInfo) -> date:
    return at.astimezone(tz).date()


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """UTC instant of local midnight starting `day`."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def slots_between(start: datetime, end: datetime, tz: ZoneInfo) -> Iterator[datetime]:
    """Every 15-minute slot start (UTC) from the slot containing `start` through the one containing `end`."""
    slot = local_floor(start, tz, "15m")
    last = local_floor(end, tz, "15m")
    while slot <= last:
        yield slot
        slot += SLOT
