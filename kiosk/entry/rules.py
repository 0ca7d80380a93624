"""Who may enter now: a pure function of the settings and the facts the station gathered (table-tested).

Order of the checks matters and is deliberate: the schedule first (by day the kiosk does not hold the door, so it
never refuses), then the card itself (kind, expiry: no database needed), then the database outage policy, then the
person (unknown, not active), and capacity last, so a barred resident is told "barred", not "room full".
Messages are keys with no personal data: the screen outside the door is seen by passers-by.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum

from catalog.model import PatronStatus
from devices.events import CardKind
from kiosk.entry.settings import EntrySettings


class Reason(StrEnum):
    DAY_OPEN = "day_open"
    OK = "ok"
    OK_CACHED = "ok_cached"
    REGISTERED = "registered"
    CARD_KIND = "card_kind"
    CARD_EXPIRED = "card_expired"
    UNKNOWN_CARD = "unknown_card"
    NOT_ACTIVE = "not_active"
    ROOM_FULL = "room_full"
    DB_UNREACHABLE = "db_unreachable"
    DOOR_UNAVAILABLE = "door_unavailable"
    """Decided "allow" but the relay's port is not open: the station turns the decision into this refusal."""

    @property
    def allowed(self) -> bool:
        return self in (Reason.DAY_OPEN, Reason.OK, Reason.OK_CACHED, Reason.REGISTERED)

    @property
    def message_key(self) -> str:
        if self is Reason.DAY_OPEN:
            return "entry.day_open"
        if self is Reason.REGISTERED:
            return "entry.welcome_registered"
        if self.allowed:
            return "entry.welcome"
        return f"entry.refused.{self.value}"


RESIDENT_CARDS = (CardKind.ID_CARD.value, CardKind.SOCIAL_SECURITY.value)
"""Only these prove residence: a library card cannot register itself on first entry."""


@dataclass(frozen=True)
class PatronFacts:
    id: int
    status: str
    card_valid_until: date | None = None


@dataclass(frozen=True)
class EntryFacts:
    local_time: time
    today: date
    card_kind: str
    card_expired: bool
    db_reachable: bool = True
    patron: PatronFacts | None = None
    known_in_cache: bool = False
    people_inside: int | None = None
    capacity: int | None = None


@dataclass(frozen=True)
class Decision:
    reason: Reason
    register: bool = False
    """Allowed on condition that the station registers the card (register_on_first_entry)."""

    @property
    def allowed(self) -> bool:
        return self.reason.allowed

    @property
    def message_key(self) -> str:
        return self.reason.message_key


def is_night(cfg: EntrySettings, at: time) -> bool:
    """Card required at local time `at`? night_from is inclusive, night_to exclusive; spans midnight if needed."""
    if cfg.schedule == "always_card":
        return True
    if cfg.schedule == "always_free":
        return False
    start, end = cfg.night_from, cfg.night_to
    if start < end:
        return start <= at < end
    return at >= start or at < end


def decide(cfg: EntrySettings, facts: EntryFacts) -> Decision:
    if not is_night(cfg, facts.local_time):
        return Decision(Reason.DAY_OPEN)
    if facts.card_kind not in cfg.card_kinds:
        return Decision(Reason.CARD_KIND)
    if facts.card_expired:
        return Decision(Reason.CARD_EXPIRED)
    if not facts.db_reachable:
        if cfg.db_outage == "let_known_in" and facts.known_in_cache:
            return Decision(Reason.OK_CACHED)
        return Decision(Reason.DB_UNREACHABLE)
    full = (cfg.enforce_capacity and facts.capacity is not None and facts.capacity > 0
            and facts.people_inside is not None and facts.people_inside >= facts.capacity)
    patron = facts.patron
    if patron is None:
        if cfg.register_on_first_entry and facts.card_kind in RESIDENT_CARDS:
            return Decision(Reason.ROOM_FULL) if full else Decision(Reason.REGISTERED, register=True)
        return Decision(Reason.UNKNOWN_CARD)
    if patron.status != PatronStatus.ACTIVE:
        return Decision(Reason.NOT_ACTIVE)
    if patron.card_valid_until is not None and patron.card_valid_until < facts.today:
        return Decision(Reason.CARD_EXPIRED)
    if full:
        return Decision(Reason.ROOM_FULL)
    return Decision(Reason.OK)
