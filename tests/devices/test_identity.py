from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.identity import (
    InvalidIdNumber,
    card_key,
    gb11643_check_char,
    is_valid_id_number,
    mask_card_number,
    mask_id_number,
    mask_name,
    normalise_id_number,
    person_key,
)


def test_known_check_characters() -> None:
    # Worked example of GB 11643-1999 (appendix) and an X check character.
    assert gb11643_check_char("11010519491231002") == "X"
    assert is_valid_id_number("11010519491231002X")
    assert is_valid_id_number("11010519491231002x")


@pytest.mark.parametrize("bad", ["", "123", "11010519491231002Y", "110105194912310021", "1101051949123100 2X0"])
def test_invalid_numbers_are_refused(bad: str) -> None:
    with pytest.raises(InvalidIdNumber):
        normalise_id_number(bad)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_any_17_digits_with_their_check_char_validate(first17: str) -> None:
    number = first17 + gb11643_check_char(first17)
    assert normalise_id_number(number.lower()) == number


@given(st.text(max_size=40))
def test_normalise_raises_only_its_own_error(raw: str) -> None:
    with contextlib.suppress(InvalidIdNumber):
        normalise_id_number(raw)


def test_person_key_is_stable_and_case_insensitive() -> None:
    secret = b"k" * 32
    assert person_key(secret, "11010519491231002x") == person_key(secret, "11010519491231002X")
    assert person_key(secret, "11010519491231002X") != person_key(b"j" * 32, "11010519491231002X")
    # A library card with the same digits is a different kind of card: no collision.
    assert card_key(secret, "card", "11010519491231002X") != person_key(secret, "11010519491231002X")


def test_masks_hide_birth_date_and_given_name() -> None:
    assert mask_id_number("320102198001011234") == "3201**********1234"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("Zhang San") == "Z**** ***"
    assert mask_card_number("0012345678") == "******5678"
