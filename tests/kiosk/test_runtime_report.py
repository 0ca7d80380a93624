"""The staff screen's report comes from the runtime: today's numbers and device health, staff only."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from catalog.model import Branch, Item, Patron, Title
from kiosk.config import DatabaseSettings, DeviceSettings, load_settings
from kiosk.runtime import KioskRuntime
from kiosk.secret import load_or_create_secret


def test_staff_report_counts_todays_loans_and_names_devices(kiosk_env: Path, database_url: str) -> None:
    settings = replace(load_settings(), database=DatabaseSettings(url=database_url),
                       devices=DeviceSettings(scanner="sim:scanner?name=report-scan"))
    load_or_create_secret(settings.secret_file, may_create=True)
    runtime = KioskRuntime(settings)
    with runtime.db.unit_of_work() as s:
        branch = Branch(code=settings.kiosk.branch, name="测试书房")
        title = Title(title="围城")
        s.add_all([branch, title])
        s.flush()
        s.add(Item(barcode="R0001", title_id=title.id, home_branch_id=branch.id, current_branch_id=branch.id))
        patron = Patron(card_kind="id_card", card_key="9" * 64, masked_card="x", display_name="钱*")
        s.add(patron)
        s.flush()
        patron_id = patron.id
    runtime.start()
    try:
        runtime.circulation.checkout(patron_id, "R0001")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "设备 scanner" not in runtime.staff_report():
            time.sleep(0.05)
        report = runtime.staff_report()
        assert report["今日借出 Loans today"] == 1
        assert report["今日归还 Returns today"] == 0
        assert report["设备 scanner"].startswith("connected")
        assert "今日到访 Visits today" not in report  # no door counter: no visit count, never a made-up zero
        # Through the session, the report is only for a signed-in librarian.
        assert runtime.session.staff_report() == {}
    finally:
        runtime.stop()


class RecordingAlerts:
    """Stands in for the webhook/MQTT dispatcher (tested on its own in tests/kiosk/ops): records what was raised."""

    def __init__(self) -> None:
        self.raised: list[tuple[str, str]] = []
        self.resolved: list[tuple[str, str]] = []

    def raise_alert(self, kind: object, subject: str = "kiosk", /, **params: object) -> bool:
        self.raised.append((str(kind), subject))
        return True

    def resolve(self, kind: object, subject: str = "kiosk", /) -> bool:
        self.resolved.append((str(kind), subject))
        return True


def test_help_button_and_a_failed_device_reach_the_librarian(kiosk_env: Path, database_url: str) -> None:
    from devices.events import DeviceHealth, HealthState

    settings = replace(load_settings(), database=DatabaseSettings(url=database_url), devices=DeviceSettings())
    load_or_create_secret(settings.secret_file, may_create=True)
    alerts = RecordingAlerts()
    runtime = KioskRuntime(settings, alerts=alerts)
    try:
        runtime.help_requested()
        runtime._route(DeviceHealth("idcard", HealthState.FAILED, "port vanished"))
        runtime._route(DeviceHealth("idcard", HealthState.CONNECTED))
        assert alerts.raised == [("help_button", settings.kiosk.id), ("device_failure", "idcard")]
        assert alerts.resolved == [("device_failure", "idcard")]
    finally:
        runtime.stop()


def test_the_runtime_runs_the_night_door_and_greets_on_the_attract_screen(kiosk_env: Path, database_url: str) -> None:
    """`[entry] enabled`: the kiosk starts the door station, a registered card pulses the relay, and the welcome
    appears on the attract screen (never on top of a resident's visit)."""
    from devices.idcard.demo_cards import DEMO_CARDS
    from devices.identity import person_key
    from devices.simulators.registry import get_simulator, stop_all

    base = load_settings()
    settings = replace(base, database=DatabaseSettings(url=database_url), devices=DeviceSettings(),
                       extra={"entry": {"enabled": True, "schedule": "always_card",
                                        "reader_url": "sim:idcard?name=rt-entry",
                                        "relay_url": "sim:relay-lcus?name=rt-door", "pulse_s": 0.2}})
    secret = load_or_create_secret(settings.secret_file, may_create=True)
    runtime = KioskRuntime(settings)
    with runtime.db.unit_of_work() as s:
        s.add(Branch(code=settings.kiosk.branch, name="测试书房"))
        s.add(Patron(card_kind="id_card", card_key=person_key(secret, DEMO_CARDS[0].id_number), masked_card="x",
                     display_name="李*"))
    runtime.start()
    try:
        assert runtime.entry is not None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and get_simulator("rt-entry") is None:
            time.sleep(0.05)
        get_simulator("rt-entry").place_card(DEMO_CARDS[0])  # type: ignore[union-attr]
        while time.monotonic() < deadline:
            last = runtime.session.current().last
            if last is not None and last.key.startswith("entry."):
                break
            time.sleep(0.05)
        last = runtime.session.current().last
        assert last is not None and last.key == "entry.welcome"
        relay = get_simulator("rt-door")
        assert relay is not None and any(cmd.on for cmd in relay.history)  # type: ignore[attr-defined]
    finally:
        runtime.stop()
        stop_all()
    assert relay.history[-1].on is False  # type: ignore[attr-defined]  (never left energised)


def test_a_full_room_counted_by_the_door_counter_refuses_the_next_card(kiosk_env: Path, database_url: str) -> None:
    """Door-counter simulator → driver → ingest → occupancy → the entry station says the room is full."""
    from devices.events import HealthState
    from devices.idcard.demo_cards import DEMO_CARDS
    from devices.identity import person_key
    from devices.simulators.registry import get_simulator, stop_all

    settings = replace(load_settings(), database=DatabaseSettings(url=database_url),
                       devices=DeviceSettings(door_counter="sim:door-counter?name=full-counter"),
                       extra={"entry": {"enabled": True, "schedule": "always_card",
                                        "reader_url": "sim:idcard?name=full-entry",
                                        "relay_url": "sim:relay-lcus?name=full-door", "pulse_s": 0.2}})
    secret = load_or_create_secret(settings.secret_file, may_create=True)
    runtime = KioskRuntime(settings)
    with runtime.db.unit_of_work() as s:
        s.add(Branch(code=settings.kiosk.branch, name="测试书房", capacity=2))
        s.add(Patron(card_kind="id_card", card_key=person_key(secret, DEMO_CARDS[0].id_number), masked_card="x",
                     display_name="李*"))
    runtime.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (get_simulator("full-counter") is None
                                               or get_simulator("full-entry") is None):
            time.sleep(0.05)
        while time.monotonic() < deadline and (
                "door_counter" not in runtime.devices.health()
                or runtime.devices.health()["door_counter"].state is not HealthState.CONNECTED):
            time.sleep(0.05)
        counter = get_simulator("full-counter")
        # The first report only sets the baseline totals (a counter's totals say nothing about who is inside).
        counter.walk_in(0)  # type: ignore[union-attr]
        while time.monotonic() < deadline and _samples(runtime) == 0:
            time.sleep(0.05)
        counter.walk_in(2)  # type: ignore[union-attr]
        while time.monotonic() < deadline:
            occupancy = runtime.occupancy()
            if occupancy is not None and occupancy.people == 2:
                break
            time.sleep(0.05)
        occupancy = runtime.occupancy()
        assert occupancy is not None and occupancy.people == 2
        assert runtime.staff_report()["今日到访 Visits today"] == 2  # the librarian's screen counts today's visits
        get_simulator("full-entry").place_card(DEMO_CARDS[0])  # type: ignore[union-attr]
        while time.monotonic() < deadline:
            last = runtime.session.current().last
            if last is not None and last.key.startswith("entry."):
                break
            time.sleep(0.05)
        last = runtime.session.current().last
        assert last is not None and last.key == "entry.refused.room_full"
        relay = get_simulator("full-door")
        assert relay is not None and not any(cmd.on for cmd in relay.history)  # type: ignore[attr-defined]
    finally:
        runtime.stop()
        stop_all()


def _samples(runtime: KioskRuntime) -> int:
    from sqlalchemy import func, select

    from catalog.traffic_model import TrafficSample

    with runtime.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(TrafficSample)) or 0)
