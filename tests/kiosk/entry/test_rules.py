"""Entry rules and `[entry]` settings: pure, table-driven."""

from __future__ import annotations

import tempfile
from datetime import date, time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.entry.cache import KnownCardCache
from kiosk.entry.rules import EntryFacts, PatronFacts, Reason, decide, is_night
from kiosk.entry.settings import EntrySettings, entry_settings
from kiosk.errors import ConfigError

NIGHT = time(23, 30)
TODAY = date(2026, 11, 22)
ACTIVE = PatronFacts(1, "active", date(2030, 1, 1))


def facts(**changes: object) -> EntryFacts:
    base: dict[str, object] = {"local_time": NIGHT, "today": TODAY, "card_kind": "id_card", "card_expired": False,
                               "patron": ACTIVE, "people_inside": 3, "capacity": 40}
    base.update(changes)
    return EntryFacts(**base)  # type: ignore[arg-type]


DEFAULT = EntrySettings()
LET_IN = EntrySettings(db_outage="let_known_in")
REGISTER = EntrySettings(register_on_first_entry=True)
NO_CAPACITY = EntrySettings(enforce_capacity=False)
ID_ONLY = EntrySettings(card_kinds=("id_card",))

CASES = [
    ("registered at night", DEFAULT, facts(), Reason.OK),
    ("daytime: door free, nobody checked", DEFAULT, facts(local_time=time(12, 0), patron=None), Reason.DAY_OPEN),
    ("night starts at night_from", DEFAULT, facts(local_time=time(21, 0), patron=None), Reason.UNKNOWN_CARD),
    ("night ends at night_to", DEFAULT, facts(local_time=time(8, 0), patron=None), Reason.DAY_OPEN),
    ("just after midnight", DEFAULT, facts(local_time=time(0, 5), patron=None), Reason.UNKNOWN_CARD),
    ("unknown card", DEFAULT, facts(patron=None), Reason.UNKNOWN_CARD),
    ("barred", DEFAULT, facts(patron=PatronFacts(1, "barred")), Reason.NOT_ACTIVE),
    ("card lost", DEFAULT, facts(patron=PatronFacts(1, "card_lost")), Reason.NOT_ACTIVE),
    ("pending approval", DEFAULT, facts(patron=PatronFacts(1, "pending_approval")), Reason.NOT_ACTIVE),
    ("expired card read", DEFAULT, facts(card_expired=True), Reason.CARD_EXPIRED),
    ("expired on file", DEFAULT, facts(patron=PatronFacts(1, "active", date(2020, 1, 1))), Reason.CARD_EXPIRED),
    ("barred beats full", DEFAULT, facts(patron=PatronFacts(1, "barred"), people_inside=40), Reason.NOT_ACTIVE),
    ("full room", DEFAULT, facts(people_inside=40), Reason.ROOM_FULL),
    ("over full", DEFAULT, facts(people_inside=55), Reason.ROOM_FULL),
    ("one place left", DEFAULT, facts(people_inside=39), Reason.OK),
    ("capacity not enforced", NO_CAPACITY, facts(people_inside=99), Reason.OK),
    ("no counter report", DEFAULT, facts(people_inside=None), Reason.OK),
    ("no capacity set", DEFAULT, facts(capacity=None, people_inside=500), Reason.OK),
    ("card kind not accepted", ID_ONLY, facts(card_kind="library_card"), Reason.CARD_KIND),
    ("outage, stay locked", DEFAULT, facts(db_reachable=False, known_in_cache=True), Reason.DB_UNREACHABLE),
    ("outage, known card", LET_IN, facts(db_reachable=False, known_in_cache=True), Reason.OK_CACHED),
    ("outage, unknown card", LET_IN, facts(db_reachable=False, known_in_cache=False), Reason.DB_UNREACHABLE),
    ("outage, expired card", LET_IN, facts(db_reachable=False, known_in_cache=True, card_expired=True),
     Reason.CARD_EXPIRED),
    ("first entry registers", REGISTER, facts(patron=None), Reason.REGISTERED),
    ("library card cannot self-register", REGISTER, facts(patron=None, card_kind="library_card"),
     Reason.UNKNOWN_CARD),
    ("first entry into a full room", REGISTER, facts(patron=None, people_inside=40), Reason.ROOM_FULL),
    ("always card by day", EntrySettings(schedule="always_card"), facts(local_time=time(12, 0)), Reason.OK),
    ("always free at night", EntrySettings(schedule="always_free"), facts(patron=None), Reason.DAY_OPEN),
]


@pytest.mark.parametrize(("cfg", "given", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decision_table(cfg: EntrySettings, given: EntryFacts, expected: Reason) -> None:
    decision = decide(cfg, given)
    assert decision.reason is expected
    assert decision.allowed is expected.allowed
    assert decision.register is (expected is Reason.REGISTERED)


@pytest.mark.parametrize(("start", "end", "at", "night"), [
    (time(21), time(8), time(20, 59), False),
    (time(21), time(8), time(21), True),
    (time(21), time(8), time(7, 59), True),
    (time(1), time(5), time(0, 30), False),
    (time(1), time(5), time(3), True),
    (time(1), time(5), time(5), False),
])
def test_night_window(start: time, end: time, at: time, night: bool) -> None:
    assert is_night(EntrySettings(night_from=start, night_to=end), at) is night


def test_message_keys_carry_no_personal_data() -> None:
    assert Reason.OK.message_key == "entry.welcome"
    assert Reason.ROOM_FULL.message_key == "entry.refused.room_full"
    from kiosk.i18n import translate

    for reason in Reason:
        for language in ("zh_CN", "en"):
            assert translate(reason.message_key, language) != reason.message_key


def test_settings_defaults_and_branch_override() -> None:
    assert entry_settings({}) == EntrySettings()
    extra = {"entry": {"enabled": True, "night_from": "22:00", "db_outage": "let_known_in",
                       "branch": {"XW": {"night_from": "20:30", "pulse_s": 5}}}}
    assert entry_settings(extra).night_from == time(22, 0)
    xw = entry_settings(extra, branch="XW")
    assert (xw.night_from, xw.pulse_s, xw.db_outage, xw.enabled) == (time(20, 30), 5.0, "let_known_in", True)


@pytest.mark.parametrize(("table", "key"), [
    ({"night_from": "25:00"}, "entry.night_from"),
    ({"night_to": "8h"}, "entry.night_to"),
    ({"night_from": "08:00", "night_to": "08:00"}, "entry.night_to"),
    ({"db_outage": "open"}, "entry.db_outage"),
    ({"schedule": "sometimes"}, "entry.schedule"),
    ({"pulse_s": 0}, "entry.pulse_s"),
    ({"pulse_s": "x"}, "entry.pulse_s"),
    ({"pulse_s": 12}, "entry.open_window_s"),
    ({"card_kinds": ["passport"]}, "entry.card_kinds"),
    ({"card_kinds": []}, "entry.card_kinds"),
    ({"enabled": "maybe"}, "entry.enabled"),
    ({"relay_protocol": "modbus"}, "entry.relay_protocol"),
    ({"relay_chanel": 1}, "entry.relay_chanel"),
    ({"branch": {"XW": {"held_open_s": -1}}}, "entry.branch.XW.held_open_s"),
    ({"branch": {"XW": 3}}, "entry.branch.XW"),
])
def test_settings_errors_name_the_key(table: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        entry_settings({"entry": table})
    assert caught.value.setting == key


def test_settings_table_must_be_a_table() -> None:
    with pytest.raises(ConfigError):
        entry_settings({"entry": "on"})


@pytest.mark.parametrize("content", ["", "{", "[]", '{"keys": "abc"}', '{"keys": [1]}', '{"keys": []}',
                                     "\udcff"])
def test_unreadable_cache_is_empty(tmp_path: Path, content: str) -> None:
    path = tmp_path / "entry-cards.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    cache = KnownCardCache(path)
    assert len(cache) == 0
    assert "anything" not in cache


def test_missing_cache_is_empty(tmp_path: Path) -> None:
    assert len(KnownCardCache(tmp_path / "none.json")) == 0


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_cache_file_of_any_bytes_loads_or_is_empty(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "entry-cards.json"
        path.write_bytes(data)
        cache = KnownCardCache(path)
        assert len(cache) >= 0
