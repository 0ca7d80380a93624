"""The entry station end to end: `sim:idcard` → ID-card driver → station → relay driver → `sim:relay-lcus`, on both
databases. Every wait is on a condition (the relay's coil, an outcome), never on the clock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from catalog.db import Database
from catalog.model import AuditEntry, Branch, Patron, PatronStatus
from devices.cards.readers import normalise_card_number
from devices.cards.simulator import Em4100Simulator, parse_tag
from devices.events import DoorCount
from devices.idcard.demo_cards import DEMO_CARDS, EXPIRED_CARD
from devices.idcard.simulator import IdCardSimulator
from devices.identity import card_key, mask_id_number, person_key
from devices.relay.codec import RelayCommand
from devices.relay.simulator import LcusRelaySimulator
from devices.simulators.registry import start_simulator
from kiosk.config import KioskSettings, Settings
from kiosk.entry.rules import Reason
from kiosk.entry.station import EntryOutcome, EntryStation, open_entry_station
from kiosk.entry.visits import card_entries
from kiosk.ops.alerts.model import AlertKind
from kiosk.traffic.ingest import ingest
from kiosk.traffic.occupancy import occupancy_now
from kiosk.traffic.settings import traffic_settings

WAIT_S = 10.0
TZ = ZoneInfo("Asia/Shanghai")
NIGHT = datetime(2026, 11, 22, 23, 30, tzinfo=TZ).astimezone(UTC)
DAY = datetime(2026, 11, 22, 12, 0, tzinfo=TZ).astimezone(UTC)
_names = iter(range(10_000))


def wait_until(condition: Callable[[], object], what: str) -> None:
    done = threading.Event()
    waited = 0.0
    while not condition():
        if waited >= WAIT_S:
            pytest.fail(f"timed out waiting for {what}")
        done.wait(0.005)
        waited += 0.005


@dataclass
class AlertLog:
    """An `AlertSink` that remembers what it was told (the dispatcher's delivery is tested by kiosk.ops)."""

    raised: list[tuple[AlertKind, str, dict[str, Any]]] = field(default_factory=list)
    resolved: list[tuple[AlertKind, str]] = field(default_factory=list)

    def raise_alert(self, kind: AlertKind, subject: str = "kiosk", /, **params: Any) -> bool:
        self.raised.append((kind, subject, params))
        return True

    def resolve(self, kind: AlertKind, subject: str = "kiosk", /) -> bool:
        self.resolved.append((kind, subject))
        return True

    def kinds(self) -> list[AlertKind]:
        return [k for k, _s, _p in self.raised]


@dataclass
class Door:
    station: EntryStation
    reader_sim: IdCardSimulator
    relay_sim: LcusRelaySimulator
    outcomes: list[EntryOutcome]
    alerts: AlertLog

    def present(self, index: int | None = None, card: Any = None) -> EntryOutcome:
        count = len(self.outcomes)
        self.reader_sim.place_card(card if card is not None else DEMO_CARDS[index or 0])
        wait_until(lambda: len(self.outcomes) > count, "an entry decision")
        self.reader_sim.lift_card()
        seen = self.reader_sim.requests_seen + 2  # let the reader see "no card", so the next placement is new
        wait_until(lambda: self.reader_sim.requests_seen >= seen, "the reader to see the card lifted")
        outcome = self.outcomes[count]
        if outcome.allowed:  # the pulse's bytes may still be on the wire: wait for the board to see on, then off
            wait_until(lambda: any(c.on for c in self.relay_sim.history) and not self.relay_sim.history[-1].on,
                       "the pulse to reach the board and end")
        return outcome

    def ons(self) -> list[RelayCommand]:
        return [c for c in self.relay_sim.history if c.on]


def add_branch(db: Database, capacity: int | None = 40) -> None:
    with db.unit_of_work() as s:
        s.add(Branch(code="NIGHT", name="夜间阅览室", timezone="Asia/Shanghai", capacity=capacity))


def add_patron(db: Database, secret: bytes, index: int, status: str = PatronStatus.ACTIVE) -> int:
    card = DEMO_CARDS[index]
    with db.unit_of_work() as s:
        patron = Patron(card_kind="id_card", card_key=person_key(secret, card.id_number),
                        masked_card=mask_id_number(card.id_number), display_name="", status=status)
        s.add(patron)
        s.flush()
        return int(patron.id)


def settings_for(tmp_path: Path, db: Database, **entry: Any) -> Settings:
    return Settings(config_file=None, data_dir=tmp_path, secret_file=tmp_path / "secret",
                    kiosk=KioskSettings(id="door-kiosk", branch="NIGHT"),
                    extra={"entry": {"enabled": True, "pulse_s": 0.2, "open_window_s": 2.0, **entry}})


@pytest.fixture
def make_door(tmp_path: Path, secret: bytes) -> Iterator[Callable[..., Door]]:
    stations: list[EntryStation] = []

    def make(db: Database, *, clock: datetime = NIGHT, relay_sensor: bool = False, relay_name: str | None = None,
             **entry: Any) -> Door:
        n = next(_names)
        relay_name = relay_name or f"entry-relay-{n}"
        reader_sim = start_simulator("idcard", f"entry-reader-{n}")
        relay_sim = start_simulator("relay-lcus", relay_name)
        assert isinstance(reader_sim, IdCardSimulator) and isinstance(relay_sim, LcusRelaySimulator)
        outcomes: list[EntryOutcome] = []
        alerts = AlertLog()
        entry = {"reader_url": f"sim:idcard?name=entry-reader-{n}", "relay_url": f"sim:relay-lcus?name={relay_name}",
                 **({"sensor": "relay"} if relay_sensor else {}), **entry}
        station = open_entry_station(settings_for(tmp_path, db, **entry), db, secret, alerts=alerts,
                                     on_outcome=outcomes.append, clock=lambda: clock,
                                     reader_options={"poll_interval": 0.01, "response_timeout": 0.3})
        stations.append(station)
        station.start()
        wait_until(lambda: station.relay is not None and relay_sim.history, "the relay's switch-off at start")
        return Door(station, reader_sim, relay_sim, outcomes, alerts)

    yield make
    for station in stations:
        station.stop()


def entries(db: Database) -> list[tuple[str, int | None, dict[str, Any]]]:
    with db.read() as s:
        return [(a.outcome, a.patron_id, a.detail) for a in
                s.scalars(select(AuditEntry).where(AuditEntry.action == "entry").order_by(AuditEntry.id))]


def test_registered_card_pulses_the_relay_and_counts_an_entry(
        database: Database, secret: bytes, make_door: Callable[..., Door]) -> None:
    add_branch(database)
    patron_id = add_patron(database, secret, 0)
    door = make_door(database)
    outcome = door.present(0)
    assert outcome.reason is Reason.OK and outcome.message_key == "entry.welcome"
    assert door.ons() == [RelayCommand(1, True)]
    assert door.relay_sim.history[-1] == RelayCommand(1, False)
    [(result, who, detail)] = entries(database)
    assert (result, who, detail["reason"], detail["card_kind"]) == ("ok", patron_id, "ok", "id_card")
    assert DEMO_CARDS[0].id_number not in str(detail)
    assert card_entries(database, start=NIGHT - timedelta(hours=1), end=NIGHT + timedelta(hours=1)) == 1
    assert card_entries(database, start=NIGHT - timedelta(hours=1), end=NIGHT + timedelta(hours=1),
                        branch="OTHER") == 0


@pytest.mark.parametrize(("status", "card", "reason"), [
    (PatronStatus.BARRED, 1, Reason.NOT_ACTIVE),
    (None, 2, Reason.UNKNOWN_CARD),
    (PatronStatus.ACTIVE, "expired", Reason.CARD_EXPIRED),
])
def test_refused_cards_never_energise_the_relay(database: Database, secret: bytes, make_door: Callable[..., Door],
                                                status: str | None, card: Any, reason: Reason) -> None:
    add_branch(database)
    if status is not None:
        add_patron(database, secret, 5 if card == "expired" else card, status)
    door = make_door(database)
    outcome = door.present(card=EXPIRED_CARD if card == "expired" else DEMO_CARDS[card])
    assert outcome.reason is reason and not outcome.allowed
    assert door.ons() == []
    assert [(o, d["reason"]) for o, _p, d in entries(database)] == [(reason.value, reason.value)]
    assert card_entries(database, start=NIGHT - timedelta(hours=1), end=NIGHT + timedelta(hours=1)) == 0


def test_full_room_is_refused(database: Database, secret: bytes, make_door: Callable[..., Door]) -> None:
    add_branch(database, capacity=3)
    add_patron(database, secret, 0)
    traffic = traffic_settings(None)
    ingest(database, "NIGHT", [DoorCount("counter", 0, 0, NIGHT - timedelta(minutes=5), NIGHT - timedelta(minutes=5)),
                               DoorCount("counter", 3, 0, NIGHT - timedelta(minutes=2), NIGHT - timedelta(minutes=2))],
           traffic)
    assert occupancy_now(database, "NIGHT", traffic, NIGHT).people == 3
    door = make_door(database)
    outcome = door.present(0)
    assert outcome.reason is Reason.ROOM_FULL and outcome.message_key == "entry.refused.room_full"
    assert door.ons() == []
    ingest(database, "NIGHT", [DoorCount("counter", 3, 1, NIGHT - timedelta(minutes=1), NIGHT - timedelta(minutes=1))],
           traffic)
    assert door.present(0).reason is Reason.OK


def test_day_mode_opens_for_any_card(database: Database, secret: bytes, make_door: Callable[..., Door]) -> None:
    add_branch(database)
    door = make_door(database, clock=DAY)
    assert door.present(3).reason is Reason.DAY_OPEN
    assert door.relay_sim.wait_for(1, False, WAIT_S) and door.ons() == [RelayCommand(1, True)]
    assert [o for o, _p, _d in entries(database)] == ["day_open"]


def test_first_entry_registers_when_enabled(database: Database, secret: bytes, make_door: Callable[..., Door]) -> None:
    add_branch(database)
    door = make_door(database, register_on_first_entry=True)
    assert door.present(2).reason is Reason.REGISTERED
    with database.read() as s:
        patron = s.scalars(select(Patron)).one()
    assert patron.card_key == person_key(secret, DEMO_CARDS[2].id_number) and patron.consent_at is not None
    assert [(o, p) for o, p, _d in entries(database)] == [("ok", patron.id)]
    assert door.ons() == [RelayCommand(1, True)]


def unreachable(database: Database, tmp_path: Path) -> Database:
    """The same kind of database, gone: a SQLite file in a directory that does not exist, a port nobody serves."""
    if database.is_sqlite:
        return Database.from_url(f"sqlite:///{tmp_path / 'gone' / 'kiosk.sqlite3'}")
    return Database.from_url("postgresql+psycopg://postgres@127.0.0.1:1/gone", connect_timeout_s=1)


@pytest.mark.parametrize(("policy", "card", "reason"), [
    ("stay_locked", 0, Reason.DB_UNREACHABLE),
    ("let_known_in", 0, Reason.OK_CACHED),
    ("let_known_in", 1, Reason.DB_UNREACHABLE),
    ("let_known_in", 2, Reason.DB_UNREACHABLE),
])
def test_database_outage_follows_the_policy(database: Database, secret: bytes, make_door: Callable[..., Door],
                                            tmp_path: Path, policy: str, card: int, reason: Reason) -> None:
    add_branch(database)
    add_patron(database, secret, 0)
    add_patron(database, secret, 1, PatronStatus.BARRED)
    online = make_door(database, db_outage=policy)  # its start() fills the cache from the live database
    assert len(online.station.cache) == 1
    online.station.stop()
    gone = unreachable(database, tmp_path)
    try:
        door = make_door(gone, db_outage=policy)
        outcome = door.present(card)
    finally:
        gone.dispose()
    assert outcome.reason is reason
    assert door.ons() == ([RelayCommand(1, True)] if reason.allowed else [])
    assert entries(database) == []  # nothing could be written during the outage


def test_forced_and_held_open_door_raise_alerts(database: Database, secret: bytes,
                                                 make_door: Callable[..., Door]) -> None:
    add_branch(database)
    add_patron(database, secret, 0)
    door = make_door(database, relay_sensor=True, held_open_s=0.3)
    door.relay_sim.door(True)
    wait_until(lambda: AlertKind.DOOR_FORCED in door.alerts.kinds(), "a forced-door alert")
    wait_until(lambda: AlertKind.DOOR_HELD_OPEN in door.alerts.kinds(), "a held-open alert")
    door.relay_sim.door(False)
    wait_until(lambda: door.alerts.resolved, "the held-open alert resolved")
    assert door.alerts.resolved == [(AlertKind.DOOR_HELD_OPEN, "entry-door")]
    assert door.present(0).allowed
    door.relay_sim.door(True)
    door.relay_sim.door(False)
    wait_until(lambda: door.station.relay is not None and door.station.relay.door_open is False, "door closed")
    assert door.alerts.kinds().count(AlertKind.DOOR_FORCED) == 1  # the opening after an allowed card is not forced


def test_relay_left_on_by_a_crash_is_switched_off_and_stop_leaves_it_off(
        database: Database, secret: bytes, make_door: Callable[..., Door]) -> None:
    add_branch(database)
    add_patron(database, secret, 0)
    n = next(_names)
    relay_sim = start_simulator("relay-lcus", f"crashed-{n}")
    assert isinstance(relay_sim, LcusRelaySimulator)
    relay_sim.set_state(1, True)  # a kiosk died between "on" and "off"
    door = make_door(database, relay_name=f"crashed-{n}", pulse_s=5.0, open_window_s=6.0)
    assert door.relay_sim is relay_sim
    assert relay_sim.wait_for(1, False, WAIT_S)
    assert relay_sim.history[:2] == [RelayCommand(1, True), RelayCommand(1, False)]
    count = len(relay_sim.history)
    door.reader_sim.place_card(DEMO_CARDS[0])
    wait_until(lambda: len(relay_sim.history) > count, "the pulse")
    assert relay_sim.history[-1] == RelayCommand(1, True)
    door.station.stop()  # long pulse still running: stop must switch it off
    assert relay_sim.wait_for(1, False, WAIT_S)
    assert relay_sim.history[-1] == RelayCommand(1, False)


@pytest.mark.parametrize(("kinds", "reason"), [(["library_card"], Reason.OK), (["id_card"], Reason.CARD_KIND)])
def test_library_card_on_an_em4100_reader(database: Database, secret: bytes, tmp_path: Path,
                                          kinds: list[str], reason: Reason) -> None:
    add_branch(database)
    number = normalise_card_number(parse_tag("0012345678").number)
    with database.unit_of_work() as s:
        s.add(Patron(card_kind="library_card", card_key=card_key(secret, "card", number), masked_card="****5678"))
    n = next(_names)
    tag_sim = start_simulator("em4100", f"entry-tag-{n}")
    relay_sim = start_simulator("relay-lcus", f"entry-lib-relay-{n}")
    assert isinstance(tag_sim, Em4100Simulator) and isinstance(relay_sim, LcusRelaySimulator)
    outcomes: list[EntryOutcome] = []
    settings = settings_for(tmp_path, database, reader_kind="em4100", reader_url=f"sim:em4100?name=entry-tag-{n}",
                            relay_url=f"sim:relay-lcus?name=entry-lib-relay-{n}", card_kinds=kinds)
    station = open_entry_station(settings, database, secret, on_outcome=outcomes.append, clock=lambda: NIGHT)
    station.start()
    try:
        wait_until(lambda: relay_sim.history, "the relay's switch-off at start")
        tag_sim.present("0012345678")
        wait_until(lambda: outcomes, "an entry decision")
        assert outcomes[0].reason is reason and outcomes[0].card_kind == "library_card"
        if reason.allowed:
            wait_until(lambda: any(c.on for c in relay_sim.history), "the pulse")
    finally:
        station.stop()
    assert [c.on for c in relay_sim.history].count(True) == (1 if reason.allowed else 0)
    assert relay_sim.wait_for(1, False, WAIT_S)  # stop leaves it off
