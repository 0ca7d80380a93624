"""Events that device threads post to the core. Plain frozen values: safe to hand across threads.

None of them carries a raw ID number or a full name, except `CardPresented.patron_identifier`, which exists only in
memory for a SIP2 backend (that holds the raw identifier as its patron id) and is excluded from repr and equality
so that it cannot slip into a log line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class CardKind(StrEnum):
    ID_CARD = "id_card"
    SOCIAL_SECURITY = "social_security"
    LIBRARY_CARD = "library_card"
    STAFF_CARD = "staff_card"


@dataclass(frozen=True)
class CardPresented:
    device: str
    kind: CardKind
    key: str
    masked_number: str
    display_name: str = ""
    valid_until: date | None = None
    expired: bool = False
    patron_identifier: str | None = field(default=None, repr=False, compare=False)
    at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class CardRemoved:
    device: str
    at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class BarcodeScanned:
    device: str
    code: str
    symbology: str = ""
    addon: str = ""
    at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class DoorCount:
    """Cumulative totals as the counter reported them; the core turns totals into deltas."""

    device: str
    total_in: int
    total_out: int
    device_time: datetime | None
    received_at: datetime
    flags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DoorSensorChanged:
    device: str
    is_open: bool
    at: float = field(default_factory=time.monotonic, compare=False)


class HealthState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class DeviceHealth:
    device: str
    state: HealthState
    reason: str = ""
    last_event_at: float | None = None
    at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class DeviceFault:
    """A recoverable problem worth a log line (bad checksum, garbage, SAM failure); never personal data."""

    device: str
    code: str
    detail: str = ""
    at: float = field(default_factory=time.monotonic, compare=False)


DeviceEvent = (
    CardPresented | CardRemoved | BarcodeScanned | DoorCount | DoorSensorChanged | DeviceHealth | DeviceFault
)
