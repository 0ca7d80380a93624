"""The ID-card driver against `sim:idcard` over real ptys: placement logic, faults, replug, clean stop."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from devices.events import CardKind, CardPresented, CardRemoved, DeviceFault, HealthState
from devices.idcard.demo_cards import DEMO_CARDS, EXPIRED_CARD, LONG_TERM_CARD
from devices.idcard.reader import IdCardReader
from devices.idcard.record import IdCardText
from devices.idcard.simulator import IdCardSimulator
from devices.identity import person_key
from devices.simulators.registry import start_simulator

from .conftest import EventLog, wait_until

FAST: dict[str, Any] = {"poll_interval": 0.01, "response_timeout": 0.3}


@pytest.fixture
def reader_factory(events: EventLog, secret: bytes) -> Iterator[Any]:
    readers: list[IdCardReader] = []

    def make(url: str, **options: Any) -> IdCardReader:
        reader = IdCardReader(url, events, name="idcard", secret=secret, **{**FAST, **options})
        readers.append(reader)
        reader.start()
        return reader

    yield make
    for reader in readers:
        assert reader.stop()


def sim(name: str, **options: Any) -> IdCardSimulator:
    simulator = start_simulator("idcard", name, **options)
    assert isinstance(simulator, IdCardSimulator)
    return simulator


def polls(simulator: IdCardSimulator, count: int) -> None:
    """Let the driver poll `count` more times (counted on the wire, not by the clock)."""
    target = simulator.requests_seen + count
    wait_until(lambda: simulator.requests_seen >= target, f"{count} more requests")


def test_one_placement_gives_exactly_one_event(events: EventLog, reader_factory: Any, secret: bytes) -> None:
    simulator = sim("one")
    reader_factory("sim:idcard?name=one")
    events.wait_health(HealthState.CONNECTED)
    card = DEMO_CARDS[0]
    simulator.place_card(card)
    [presented] = events.wait_count(CardPresented, 1)
    polls(simulator, 20)  # the card lies there, already read: the reader answers "no card"
    assert events.of(CardPresented) == [presented]
    assert presented.kind is CardKind.ID_CARD
    assert presented.key == person_key(secret, card.id_number)
    assert presented.masked_number == "3201**********0629"
    assert presented.display_name == "李**"
    assert presented.valid_until == date(2035, 6, 1) and not presented.expired
    assert presented.patron_identifier == card.id_number
    assert card.id_number not in repr(presented) and card.name not in repr(presented)
    assert not events.of(CardRemoved)  # this reader family cannot see a lift
    assert simulator.reads_served == 1


def test_lift_and_place_again_is_a_new_placement(events: EventLog, reader_factory: Any) -> None:
    simulator = sim("again")
    reader_factory("sim:idcard?name=again")
    simulator.place_card(DEMO_CARDS[1])
    events.wait_count(CardPresented, 1)
    polls(simulator, 5)
    simulator.lift_card()
    polls(simulator, 5)
    simulator.place_card(DEMO_CARDS[1])
    events.wait_count(CardPresented, 2)
    simulator.lift_card()
    simulator.place_card(DEMO_CARDS[2])
    presented = events.wait_count(CardPresented, 3)
    polls(simulator, 10)
    assert len(events.of(CardPresented)) == 3
    assert [p.masked_number[-4:] for p in presented] == ["1523", "1523", "0034"]


def test_a_reader_that_refinds_lying_cards_reports_one_event_and_the_lift(
    events: EventLog, reader_factory: Any
) -> None:
    simulator = sim("refinds", refinds=True)
    reader_factory("sim:idcard?name=refinds")
    simulator.place_card(DEMO_CARDS[3])
    events.wait_count(CardPresented, 1)
    polls(simulator, 30)  # read again and again while lying there
    assert simulator.reads_served > 3
    assert len(events.of(CardPresented)) == 1
    simulator.lift_card()
    events.wait_count(CardRemoved, 1)
    simulator.place_card(DEMO_CARDS[3])
    events.wait_count(CardPresented, 2)
    polls(simulator, 10)
    assert len(events.of(CardPresented)) == 2 and len(events.of(CardRemoved)) == 1


def test_expired_and_long_term_cards(events: EventLog, reader_factory: Any) -> None:
    simulator = sim("validity")
    reader_factory("sim:idcard?name=validity", today=lambda: date(2026, 11, 22))
    simulator.place_card(EXPIRED_CARD)
    [expired] = events.wait_count(CardPresented, 1)
    simulator.lift_card()
    simulator.place_card(LONG_TERM_CARD)
    long_term = events.wait_count(CardPresented, 2)[1]
    assert expired.expired and expired.valid_until == date(2019, 8, 1)
    assert not long_term.expired and long_term.valid_until is None


def test_card_with_bad_check_digit_gives_a_fault_not_a_patron(events: EventLog, reader_factory: Any) -> None:
    simulator = sim("badnumber")
    reader_factory("sim:idcard?name=badnumber")
    card = DEMO_CARDS[0]
    simulator.place_card(IdCardText(**{**card.__dict__, "id_number": card.id_number[:17] + "1"}))
    events.wait_for(lambda: any(f.code == "bad_record" for f in events.of(DeviceFault)), "bad_record fault")
    assert not events.of(CardPresented)
    assert all(card.id_number[:17] not in f.detail for f in events.of(DeviceFault))


@pytest.mark.parametrize("fault", ["bad_checksum", "truncated", "garbage_before", "no_reply", "select_failed"])
def test_faults_are_reported_and_the_next_placement_still_reads(
    events: EventLog, reader_factory: Any, fault: str
) -> None:
    simulator = sim(f"fault-{fault}")
    reader = reader_factory(f"sim:idcard?name=fault-{fault}")
    events.wait_health(HealthState.CONNECTED)
    simulator.place_card(DEMO_CARDS[2])
    simulator.arm_fault(fault)
    events.wait_count(DeviceFault, 1)
    events.wait_count(CardPresented, 1)
    polls(simulator, 10)
    assert len(events.of(CardPresented)) == 1
    assert reader.health.state is HealthState.CONNECTED


def test_garbage_between_polls_is_skipped(events: EventLog, reader_factory: Any) -> None:
    simulator = sim("noise")
    reader_factory("sim:idcard?name=noise")
    events.wait_health(HealthState.CONNECTED)
    for seed in range(5):
        simulator.send_garbage(64, seed=seed)
    simulator.place_card(DEMO_CARDS[0])
    events.wait_count(CardPresented, 1)


def test_sam_failure_is_health_failed_then_recovers(events: EventLog, reader_factory: Any) -> None:
    simulator = sim("sam", sam_failure=True)
    reader = reader_factory("sim:idcard?name=sam")
    failed = events.wait_health(HealthState.FAILED)
    assert "sam_failure" in failed.reason
    assert any(f.code == "sam_failure" for f in events.of(DeviceFault))
    mark = len(events.events)
    simulator.set_sam_failure(False)
    events.wait_health(HealthState.CONNECTED, after=mark)
    simulator.place_card(DEMO_CARDS[0])
    events.wait_count(CardPresented, 1)
    assert reader.health.state is HealthState.CONNECTED


def test_a_silent_reader_is_reopened(events: EventLog, reader_factory: Any) -> None:
    simulator = sim("mute")
    reader_factory("sim:idcard?name=mute", response_timeout=0.05)
    events.wait_health(HealthState.CONNECTED)
    mark = len(events.events)
    simulator.silence()
    reconnecting = events.wait_health(HealthState.RECONNECTING, after=mark)
    assert "reply" in reconnecting.reason
    simulator.silence(False)
    events.wait_health(HealthState.CONNECTED, after=mark)
    simulator.place_card(DEMO_CARDS[0])
    events.wait_count(CardPresented, 1)


@pytest.mark.usefixtures("leak_check")
def test_unplug_and_replug_lose_and_duplicate_nothing(
    events: EventLog, reader_factory: Any, tmp_path: Path
) -> None:
    link = tmp_path / "idcard"
    simulator = sim("replug", link=str(link))
    reader = reader_factory(str(link))  # a plain device path, like /dev/idcard from a udev rule
    events.wait_health(HealthState.CONNECTED)
    simulator.place_card(DEMO_CARDS[0])
    events.wait_count(CardPresented, 1)

    # Unplugged with the card lying there: the power-cycled reader finds it afresh, but it is the same placement.
    mark = len(events.events)
    simulator.unplug()
    events.wait_health(HealthState.RECONNECTING, after=mark)
    simulator.replug()
    events.wait_health(HealthState.CONNECTED, after=mark)
    wait_until(lambda: simulator.reads_served >= 2, "the lying card to be read again after replug")
    polls(simulator, 10)
    assert len(events.of(CardPresented)) == 1

    # A card placed while the reader is unplugged is read once it is back.
    mark = len(events.events)
    simulator.unplug()
    events.wait_health(HealthState.RECONNECTING, after=mark)
    simulator.lift_card()
    simulator.place_card(DEMO_CARDS[4])
    simulator.replug()
    presented = events.wait_count(CardPresented, 2)
    polls(simulator, 10)
    assert len(events.of(CardPresented)) == 2
    assert presented[1].masked_number.endswith("3310")
    assert reader.connections == 3


@pytest.mark.usefixtures("leak_check")
def test_stop_leaves_no_threads_or_descriptors(events: EventLog, secret: bytes) -> None:
    simulator = sim("clean")
    reader = IdCardReader("sim:idcard?name=clean", events, name="idcard", secret=secret, **FAST)
    reader.start()
    simulator.place_card(DEMO_CARDS[0])
    events.wait_count(CardPresented, 1)
    assert reader.stop()
    assert not reader.running
    assert events.events[-1].state is HealthState.STOPPED  # type: ignore[union-attr]


def test_wrong_url_is_failed_for_good(events: EventLog, reader_factory: Any) -> None:
    reader = reader_factory("sim:teapot")
    failed = events.wait_health(HealthState.FAILED)
    assert "teapot" in failed.reason
    wait_until(lambda: not reader.running, "the reader thread to end")


def test_secret_is_required(events: EventLog) -> None:
    with pytest.raises(ValueError):
        IdCardReader("sim:idcard", events, secret=b"")
