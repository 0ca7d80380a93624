from __future__ import annotations

import contextlib
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.errors import FrameError
from devices.idcard.demo_cards import DEMO_CARDS, EXPIRED_CARD, LONG_TERM_CARD
from devices.idcard.record import LONG_TERM, TEXT_LENGTH, IdCardText, RecordError, parse_text
from devices.identity import gb11643_check_char, is_valid_id_number


def test_demo_cards_round_trip_and_hide_personal_fields() -> None:
    for card in DEMO_CARDS:
        raw = card.encode()
        assert len(raw) == TEXT_LENGTH
        assert parse_text(raw) == card
        assert card.name not in repr(card) and card.id_number not in repr(card)


def test_demo_cards_are_plausible_fictional_residents() -> None:
    assert len(DEMO_CARDS) >= 6
    for card in DEMO_CARDS:
        assert is_valid_id_number(card.id_number)
        assert card.id_number[:2] in {"32", "31"}  # Jiangsu (Nanjing) or Shanghai
        assert card.id_number[6:14] == card.birth_date.strftime("%Y%m%d")
        assert int(card.id_number[16]) % 2 == (1 if card.sex == "1" else 0)
    assert LONG_TERM_CARD.valid_to is None
    assert EXPIRED_CARD.is_expired(date(2026, 1, 1))
    assert sum(card.is_expired(date(2026, 1, 1)) for card in DEMO_CARDS) == 1


def test_long_term_card_encodes_the_chinese_word() -> None:
    raw = LONG_TERM_CARD.encode()
    assert raw[204:208].decode("utf-16-le") == LONG_TERM
    assert parse_text(raw).valid_to is None
    assert not LONG_TERM_CARD.is_expired(date(2099, 1, 1))


def test_a_card_is_valid_through_its_last_day() -> None:
    card = DEMO_CARDS[0]
    assert card.valid_to is not None
    assert not card.is_expired(card.valid_to)
    assert card.is_expired(date.fromordinal(card.valid_to.toordinal() + 1))


def test_field_offsets_follow_the_layout() -> None:
    raw = DEMO_CARDS[0].encode()
    assert raw[0:6].decode("utf-16-le") == "李秀英"
    assert raw[30:32].decode("utf-16-le") == "2"
    assert raw[32:36].decode("utf-16-le") == "01"
    assert raw[122:158].decode("utf-16-le") == "320102198503120629"
    assert raw[188:204].decode("utf-16-le") == "20150601"


def test_bad_check_digit_is_a_record_error() -> None:
    card = DEMO_CARDS[0]
    wrong = "0" if card.id_number[-1] != "0" else "1"
    bad = IdCardText(**{**card.__dict__, "id_number": card.id_number[:17] + wrong})
    with pytest.raises(RecordError, match="ID number"):
        parse_text(bad.encode())


def test_wrong_length_and_bad_dates_are_record_errors() -> None:
    with pytest.raises(RecordError):
        parse_text(b"\x00" * 255)
    raw = bytearray(DEMO_CARDS[0].encode())
    raw[204:220] = "20351399".encode("utf-16-le")
    with pytest.raises(RecordError, match="calendar"):
        parse_text(bytes(raw))


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=300))
def test_arbitrary_bytes_raise_only_frame_errors(raw: bytes) -> None:
    with contextlib.suppress(FrameError):
        parse_text(raw)


chinese = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=15)


@st.composite
def cards(draw: st.DrawFn) -> IdCardText:
    birth = draw(st.dates(min_value=date(1920, 1, 1), max_value=date(2020, 12, 31)))
    first17 = draw(st.sampled_from(["320102", "310115", "110101"])) + birth.strftime("%Y%m%d")
    first17 += draw(st.from_regex(r"\A[0-9]{3}\Z"))
    valid_from = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 1, 1)))
    valid_to = draw(st.one_of(st.none(), st.dates(min_value=valid_from, max_value=date(2060, 1, 1))))
    return IdCardText(
        name=draw(chinese),
        id_number=first17 + gb11643_check_char(first17),
        valid_to=valid_to,
        valid_from=valid_from,
        sex=draw(st.sampled_from(["1", "2"])),
        nation=draw(st.sampled_from(["01", "03", "97"])),
        birth_date=birth,
        address=draw(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), max_size=35)),
        authority=draw(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), max_size=15)),
    )


@settings(max_examples=200, deadline=None)
@given(cards())
def test_any_card_round_trips(card: IdCardText) -> None:
    assert parse_text(card.encode()) == card
