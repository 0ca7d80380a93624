"""Social-security cards: the APDU sequence against a simulated card that answers byte for byte."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.cards.social_security import (
    CardSession,
    RecordRef,
    SocialSecurityLayout,
    SocialSecurityReader,
    pcsc_usable,
)
from devices.cards.social_security_sim import SimulatedSocialSecurityCard, forget_terminals, simulated_terminal
from devices.errors import DeviceError, FrameError
from devices.events import CardKind, CardPresented, CardRemoved, DeviceFault, HealthState
from devices.idcard.demo_cards import DEMO_CARDS
from devices.identity import person_key

from .conftest import EventLog, wait_until

HOLDER = DEMO_CARDS[1]


def holder_card(**kw: object) -> SimulatedSocialSecurityCard:
    return SimulatedSocialSecurityCard.holder(
        card_number="A12345678", social_security_number=HOLDER.id_number, name=HOLDER.name, **kw  # type: ignore[arg-type]
    )


@pytest.fixture(autouse=True)
def _fresh_terminals() -> Iterator[None]:
    yield
    forget_terminals()


def test_apdu_sequence_byte_for_byte() -> None:
    card = holder_card()
    result = CardSession(card.connection()).read()
    assert (result.card_number, result.social_security_number, result.name) == (
        "A12345678",
        HOLDER.id_number,
        HOLDER.name,
    )
    assert [c.hex().upper() for c in card.commands] == [
        "00A404000F7378312E73682EC9E7BBE1B1A3D5CF",
        "00A4020002EF05",
        "00B2070400",
        "00A4020002EF06",
        "00B2080400",
        "00B2090400",
    ]
    assert not any(c[1] == 0x20 for c in card.commands)  # never VERIFY
    assert HOLDER.id_number not in repr(result)


def test_get_response_chaining() -> None:
    card = holder_card(chain_responses=True)
    assert CardSession(card.connection()).read().name == HOLDER.name
    assert any(c.hex().upper().startswith("00C00000") for c in card.commands)


def test_record_numbers_are_configuration() -> None:
    layout = SocialSecurityLayout(
        card_number=RecordRef.parse("EF05:08"),
        social_security_number=RecordRef.parse("EF06:01"),
        name=RecordRef.parse("EF06:02"),
    )
    card = SimulatedSocialSecurityCard.holder(
        card_number="B7654321", social_security_number=HOLDER.id_number, name=HOLDER.name, layout=layout
    )
    assert CardSession(card.connection(), layout).read().card_number == "B7654321"
    with pytest.raises(FrameError):  # the default layout does not find them on this card
        CardSession(card.connection()).read()


def test_verify_is_refused() -> None:
    with pytest.raises(DeviceError, match="VERIFY"):
        CardSession(holder_card().connection()).transmit([0x00, 0x20, 0x00, 0x00, 0x03, 0x12, 0x34, 0x56])


class ScriptedConnection:
    """A card answering arbitrary bytes and status words (for the property test)."""

    def __init__(self, answers: list[tuple[bytes, int, int]]) -> None:
        self.answers = answers

    def transmit(self, apdu: list[int]) -> tuple[list[int], int, int]:
        if not self.answers:
            return [], 0x6F, 0x00
        data, sw1, sw2 = self.answers.pop(0)
        return list(data), sw1, sw2


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=40), st.sampled_from([0x90, 0x61, 0x6C, 0x6A, 0x00]),
                          st.integers(0, 255)), max_size=12))
def test_any_card_answer_raises_only_frame_error(answers: list[tuple[bytes, int, int]]) -> None:
    with contextlib.suppress(FrameError):
        CardSession(ScriptedConnection(answers)).read()


def test_driver_reads_once_per_insertion_with_the_id_card_key(events: EventLog, secret: bytes) -> None:
    terminal = simulated_terminal("slot")
    reader = SocialSecurityReader("sim:social-security?name=slot", events, secret=secret, poll_interval=0.01)
    reader.start()
    try:
        events.wait_health(HealthState.CONNECTED)
        terminal.insert(holder_card())
        [presented] = events.wait_count(CardPresented, 1)
        polled = terminal.connects
        wait_until(lambda: terminal.connects >= polled + 10, "10 more polls")
        assert len(events.of(CardPresented)) == 1
        assert presented.kind is CardKind.SOCIAL_SECURITY
        assert presented.key == person_key(secret, HOLDER.id_number)  # same patron as the ID card
        assert presented.masked_number == "3201**********1523" and presented.display_name == "王*"
        terminal.remove()
        events.wait_count(CardRemoved, 1)
        terminal.insert(SimulatedSocialSecurityCard.holder(card_number="X", social_security_number="123", name="某"))
        events.wait_count(DeviceFault, 1)
    finally:
        assert reader.stop()


def test_pcsc_without_pyscard_is_reported_not_crashing(events: EventLog, secret: bytes) -> None:
    usable, reason = pcsc_usable()
    reader = SocialSecurityReader("pcsc:", events, secret=secret)
    reader.start()
    try:
        if usable:
            events.wait_for(lambda: reader.health.state is not HealthState.CONNECTING, "a health state")
        else:
            failed = events.wait_health(HealthState.FAILED)
            assert "pyscard" in failed.reason and reason == failed.reason
    finally:
        assert reader.stop()
