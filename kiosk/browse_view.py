"""What visitors browse on the touch screen, as plain values: catalog, branch information, audio books.

Contract between `kiosk.browse` (which queries the catalog) and the UI (which renders). Nothing here identifies a
person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class CategoryCount:
    code: str
    """Display category key, e.g. "party" (党建); translated by the UI as `category.<code>`."""
    name: str
    """Chinese name as stored (党建, 经济, …)."""
    titles: int
    available: int


@dataclass(frozen=True)
class TitleHit:
    title_id: int
    title: str
    authors: str
    publisher: str
    pub_year: int | None
    isbn13: str | None
    category: str
    call_number: str
    copies: int
    available: int
    shelf_locations: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchPage:
    query: str
    hits: tuple[TitleHit, ...]
    total: int
    offset: int = 0


@dataclass(frozen=True)
class CopyView:
    barcode: str
    status: str
    """ItemStatus value; the UI shows `item_status.<status>`."""
    branch_name: str
    shelf_location: str
    due_at: datetime | None = None


@dataclass(frozen=True)
class TitleDetail:
    hit: TitleHit
    summary: str
    clc_class: str
    copies: tuple[CopyView, ...]
    summary_en: str = ""
    """Empty: the Chinese summary is shown in English too."""

    def summary_in(self, lang: str) -> str:
        return self.summary_en if lang == "en" and self.summary_en else self.summary


@dataclass(frozen=True)
class OpeningHours:
    weekday: int
    """0 = Monday."""
    spans: tuple[tuple[str, str], ...]
    """("08:30", "21:00"), …; empty means closed; ("00:00", "24:00") is open all day."""


@dataclass(frozen=True)
class EventView:
    title: str
    title_en: str
    room: str
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    room_en: str = ""
    """English name of the room, taken from the branch's room list when the event's room is one of them."""


@dataclass(frozen=True)
class NearbyCenter:
    name: str
    address: str
    distance_km: float | None = None
    hours: str = ""
    phone: str = ""
    name_en: str = ""
    address_en: str = ""
    hours_en: str = ""


@dataclass(frozen=True)
class BranchInfo:
    code: str
    name: str
    name_en: str
    address: str
    address_en: str
    phone: str
    timezone: str
    hours: tuple[OpeningHours, ...]
    hours_note: str
    rooms: tuple[tuple[str, str], ...]
    """(name, description) pairs, as configured by librarians."""
    services: tuple[tuple[str, str], ...]
    contact: str
    map_image: str
    """Path of a map image, or empty."""
    nearby: tuple[NearbyCenter, ...] = ()
    events: tuple[EventView, ...] = ()
    announcements: tuple[tuple[str, str], ...] = ()
    """(zh, en) texts currently in force."""
    capacity: int | None = None
    rooms_en: tuple[tuple[str, str], ...] = ()
    """English (name, description) of each room, in the order of `rooms`; ("", "") where a librarian gave none."""
    services_en: tuple[tuple[str, str], ...] = ()
    """English (name, description) of each service, in the order of `services`."""
    hours_note_en: str = ""
    contact_en: str = ""
    map_image_en: str = ""
    """A map labelled in English, shown on the English screen; the Chinese `map_image` where there is none."""


@dataclass(frozen=True)
class AudioBookView:
    id: int
    title: str
    author: str
    narrator: str
    category: str
    url: str
    duration_min: int | None = None
    title_en: str = ""
    """Empty: the Chinese title is shown in English too."""

    def title_in(self, lang: str) -> str:
        return self.title_en if lang == "en" and self.title_en else self.title


@dataclass(frozen=True)
class OccupancyView:
    """From the door counter; `None` in `people` until any traffic has been recorded (never a made-up number)."""

    people: int | None
    level: str = ""
    """comfortable / busy / full; the UI shows `occupancy.<level>`."""
    updated_at: datetime | None = None
    extra: dict[str, int] = field(default_factory=dict)
