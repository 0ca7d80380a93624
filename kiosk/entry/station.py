"""The entry station: a card at the reader outside → a decision → a relay pulse → an audit line; plus door alarms.

Runs on the device threads that deliver the events (the reader's for cards, the relay's or sensor's for the door),
serialised by one lock: one door, one decision at a time. The door opens first and is recorded after, so a slow
database write never keeps a resident waiting outside; a failed audit write is logged and never affects the door.

Safety is the driver's (`devices.relay.driver`): off at start, off after the pulse, off on stop. The station never
holds the relay: by day it does not energise anything unless a card is shown (then one pulse, harmless on a free
door), and it never opens the door on anything but an allowed card.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from catalog.db import Database
from catalog.model import AuditEntry, Branch, Patron, PatronStatus
from devices.drivers import Driver, driver_kind
from devices.events import CardPresented, DeviceEvent, DeviceFault, DoorSensorChanged
from devices.relay.driver import DoorRelay, DoorSensor, RelayNotConnected
from kiosk.config import Settings
from kiosk.entry.cache import KnownCardCache
from kiosk.entry.rules import Decision, EntryFacts, PatronFacts, Reason, decide, is_night
from kiosk.entry.settings import EntrySettings, entry_settings
from kiosk.ops.alerts.model import AlertKind, AlertSink
from kiosk.traffic.occupancy import occupancy_now
from kiosk.traffic.settings import TrafficSettings, traffic_settings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class EntryOutcome:
    """What the entry display shows (`message_key`, zh/en) and the log records: no personal data."""

    reason: Reason
    patron_id: int | None = None
    card_kind: str = ""

    @property
    def allowed(self) -> bool:
        return self.reason.allowed

    @property
    def message_key(self) -> str:
        return self.reason.message_key


@dataclass(frozen=True)
class _Lookup:
    reachable: bool
    branch_id: int | None = None
    patron: PatronFacts | None = None
    people_inside: int | None = None
    capacity: int | None = None


class EntryStation:
    def __init__(
        self,
        db: Database,
        cfg: EntrySettings,
        *,
        branch_code: str,
        kiosk_id: str,
        tz: ZoneInfo,
        traffic: TrafficSettings,
        cache: KnownCardCache,
        relay: DoorRelay | None = None,
        alerts: AlertSink | None = None,
        on_outcome: Callable[[EntryOutcome], None] | None = None,
        clock: Clock = _utcnow,
        subject: str = "entry-door",
    ) -> None:
        self.db = db
        self.cfg = cfg
        self.branch_code = branch_code
        self.kiosk_id = kiosk_id
        self.tz = tz
        self.traffic = traffic
        self.cache = cache
        self.relay = relay
        """Set after construction when the relay's `on_event` is this station's (see `open_entry_station`)."""
        self.alerts = alerts
        self.on_outcome = on_outcome
        self.clock = clock
        self.subject = subject
        self.drivers: list[Driver] = []
        """Drivers this station started and stops (reader, relay, sensor)."""
        self._lock = threading.RLock()
        self._last_allowed_pulse: float | None = None
        self._door_generation = 0
        self._held_timer: threading.Timer | None = None
        self._held_raised = False

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        try:
            count = self.cache.refresh(self.db)
            log.info("entry: %d known card keys cached", count)
        except SQLAlchemyError as exc:
            log.warning("entry: card cache not refreshed (database unreachable: %s)", type(exc).__name__)
        for driver in self.drivers:
            driver.start()

    def stop(self) -> None:
        with self._lock:
            if self._held_timer is not None:
                self._held_timer.cancel()
                self._held_timer = None
        for driver in reversed(self.drivers):
            driver.stop()

    # ------------------------------------------------------------------ events
    def on_event(self, event: DeviceEvent) -> None:
        """The `on_event` of the entry reader, relay and sensor drivers."""
        if isinstance(event, CardPresented):
            self.present(event)
        elif isinstance(event, DoorSensorChanged):
            self.door_changed(event.is_open)
        elif isinstance(event, DeviceFault):
            log.info("entry device %s: %s", event.device, event.code)

    def present(self, card: CardPresented) -> EntryOutcome:
        with self._lock:
            now = self.clock()
            local = now.astimezone(self.tz)
            if not is_night(self.cfg, local.time()):
                decision = Decision(Reason.DAY_OPEN)
                lookup = _Lookup(reachable=True)
            else:
                lookup = self._lookup(card.key, now)
                decision = decide(self.cfg, EntryFacts(
                    local_time=local.time(), today=local.date(), card_kind=str(card.kind),
                    card_expired=card.expired, db_reachable=lookup.reachable, patron=lookup.patron,
                    known_in_cache=card.key in self.cache, people_inside=lookup.people_inside,
                    capacity=lookup.capacity))
            reason = decision.reason
            patron_id = lookup.patron.id if lookup.patron else None
            if decision.register:
                try:
                    patron_id = self._register(card, lookup.branch_id, now)
                except SQLAlchemyError as exc:
                    log.warning("entry: registration failed (%s)", type(exc).__name__)
                    reason = Reason.DB_UNREACHABLE
            if reason.allowed:
                reason = self._open(reason)
            outcome = EntryOutcome(reason, patron_id, str(card.kind))
            log.info("entry %s: %s (patron %s, %s)", "allowed" if outcome.allowed else "refused", reason.value,
                     patron_id if patron_id is not None else "-", card.kind)
            if lookup.reachable:
                self._audit(outcome, lookup.branch_id, now, device=card.device)
            if lookup.reachable and reason.allowed and self._cache_due(now):
                self._refresh_cache_quietly()
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        return outcome

    def _open(self, reason: Reason) -> Reason:
        if self.relay is None:
            return Reason.DOOR_UNAVAILABLE
        try:
            self.relay.pulse(self.cfg.pulse_s)
        except RelayNotConnected:
            log.warning("entry: relay not connected, door not opened")
            return Reason.DOOR_UNAVAILABLE
        self._last_allowed_pulse = time.monotonic()
        return reason

    def _lookup(self, key: str, now: datetime) -> _Lookup:
        try:
            with self.db.read() as s:
                branch = s.execute(select(Branch.id, Branch.capacity).where(Branch.code == self.branch_code)).first()
                row = s.execute(select(Patron.id, Patron.status, Patron.card_valid_until)
                                .where(Patron.card_key == key)).first()
            patron = PatronFacts(row[0], row[1], row[2]) if row is not None else None
            people = occupancy_now(self.db, self.branch_code, self.traffic, now).people if branch is not None else None
        except SQLAlchemyError as exc:
            log.warning("entry: database unreachable (%s)", type(exc).__name__)
            return _Lookup(reachable=False)
        return _Lookup(True, branch[0] if branch else None, patron, people, branch[1] if branch else None)

    def _register(self, card: CardPresented, branch_id: int | None, now: datetime) -> int:
        """First-entry registration (off by default): consent was given by the branch's signage, see docs."""
        with self.db.unit_of_work() as s:
            existing = s.scalar(select(Patron.id).where(Patron.card_key == card.key))
            if existing is not None:
                return int(existing)
            patron = Patron(card_kind=str(card.kind), card_key=card.key, masked_card=card.masked_number,
                            display_name=card.display_name, card_valid_until=card.valid_until,
                            status=PatronStatus.ACTIVE, home_branch_id=branch_id, consent_at=now,
                            registered_at=now, last_seen_at=now, note="registered at the entry door")
            s.add(patron)
            s.flush()
            s.add(AuditEntry(at=now, kiosk_id=self.kiosk_id, branch_id=branch_id, action="register",
                             outcome=PatronStatus.ACTIVE, patron_id=patron.id, detail={"via": "entry"}))
            return int(patron.id)

    def _audit(self, outcome: EntryOutcome, branch_id: int | None, now: datetime, **detail: Any) -> None:
        try:
            with self.db.unit_of_work() as s:
                s.add(AuditEntry(at=now, kiosk_id=self.kiosk_id, branch_id=branch_id, action="entry",
                                 outcome="ok" if outcome.reason in (Reason.OK, Reason.REGISTERED)
                                 else outcome.reason.value,
                                 patron_id=outcome.patron_id,
                                 detail={"reason": outcome.reason.value, "card_kind": outcome.card_kind, **detail}))
        except SQLAlchemyError as exc:
            log.warning("entry: audit not written (%s)", type(exc).__name__)

    def _cache_due(self, now: datetime) -> bool:
        refreshed = self.cache.refreshed_at
        return refreshed is None or (now - refreshed).total_seconds() >= self.cfg.cache_refresh_s

    def _refresh_cache_quietly(self) -> None:
        try:
            self.cache.refresh(self.db)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("entry: card cache not refreshed (%s)", type(exc).__name__)

    # ------------------------------------------------------------------ door sensor
    def door_changed(self, is_open: bool) -> None:
        """Forced: opened at night with no allowed pulse in the last `open_window_s`. Held: open > `held_open_s`."""
        with self._lock:
            self._door_generation += 1
            if self._held_timer is not None:
                self._held_timer.cancel()
                self._held_timer = None
            if not is_open:
                if self._held_raised:
                    self._held_raised = False
                    self._alert(resolve=AlertKind.DOOR_HELD_OPEN)
                return
            if not is_night(self.cfg, self.clock().astimezone(self.tz).time()):
                return
            pulse = self._last_allowed_pulse
            if pulse is None or time.monotonic() - pulse > self.cfg.open_window_s:
                log.warning("entry: door opened without an allowed card")
                self._alert(AlertKind.DOOR_FORCED)
            timer = threading.Timer(self.cfg.held_open_s, self._held_open, args=(self._door_generation,))
            timer.daemon = True
            self._held_timer = timer
            timer.start()

    def _held_open(self, generation: int) -> None:
        with self._lock:
            if generation != self._door_generation or self._held_raised:
                return
            self._held_raised = True
            log.warning("entry: door held open for more than %.0f s", self.cfg.held_open_s)
            self._alert(AlertKind.DOOR_HELD_OPEN, seconds=int(self.cfg.held_open_s))

    def _alert(self, kind: AlertKind | None = None, *, resolve: AlertKind | None = None, **params: Any) -> None:
        if self.alerts is None:
            return
        try:
            if kind is not None:
                self.alerts.raise_alert(kind, self.subject, **params)
            if resolve is not None:
                self.alerts.resolve(resolve, self.subject)
        except Exception:  # an alert channel must never break the door
            log.exception("entry: alert not delivered")


def open_entry_station(
    settings: Settings,
    db: Database,
    secret: bytes,
    *,
    alerts: AlertSink | None = None,
    on_outcome: Callable[[EntryOutcome], None] | None = None,
    cfg: EntrySettings | None = None,
    reader_options: dict[str, Any] | None = None,
    clock: Clock = _utcnow,
) -> EntryStation:
    """Build the station with its drivers from `[entry]` (not started: call `start()`, and `stop()` on shutdown)."""
    cfg = cfg or entry_settings(settings)
    station = EntryStation(db, cfg, branch_code=settings.kiosk.branch, kiosk_id=settings.kiosk.id, tz=settings.tz,
                           traffic=traffic_settings(settings), cache=KnownCardCache(cfg.cache_path(settings.data_dir)),
                           alerts=alerts, on_outcome=on_outcome, clock=clock)
    relay_url = cfg.relay_url or settings.devices.door_relay
    if relay_url:
        station.relay = DoorRelay(relay_url, station.on_event, name="entry-relay", protocol=cfg.relay_protocol,
                                  channel=cfg.relay_channel, pulse_s=cfg.pulse_s, sensor=cfg.sensor == "relay")
        station.drivers.append(station.relay)
    if cfg.sensor and cfg.sensor != "relay":
        station.drivers.append(DoorSensor(cfg.sensor, station.on_event, name="entry-sensor"))
    if cfg.reader_url:
        reader = driver_kind(cfg.reader_kind).create(cfg.reader_url, station.on_event, name="entry-reader",
                                                     secret=secret, **(reader_options or {}))
        station.drivers.append(reader)
    return station
