"""Building door-counter events at local times for readable tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from devices.events import DoorCount

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC instant given as Asia/Shanghai wall time."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def count(at: datetime, total_in: int, total_out: int = 0, *, device: str = "door-1",
          flags: frozenset[str] = frozenset(), late_by_s: int = 5) -> DoorCount:
    return DoorCount(device, total_in, total_out, at, at + timedelta(seconds=late_by_s), flags)


def every(start: datetime, minutes: int, totals: list[tuple[int, int]], *, device: str = "door-1") -> list[DoorCount]:
    return [count(start + timedelta(minutes=minutes * i), a, b, device=device) for i, (a, b) in enumerate(totals)]
