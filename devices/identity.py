"""Resident identity numbers: validation, keyed hashing and masking.

Lives in `devices/` because the card-reader thread must hash the ID number before the event leaves it: the raw
number never travels further than the driver, except in memory for one visit when a SIP2 backend needs it.
"""

from __future__ import annotations

import hashlib
import hmac

GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
GB11643_CHECK = "10X98765432"


class InvalidIdNumber(ValueError):
    """An ID number that fails GB 11643 (length, digits or check character)."""


def gb11643_check_char(first17: str) -> str:
    """Check character of an 18-character resident ID number (GB 11643-1999, ISO 7064 MOD 11-2)."""
    if len(first17) != 17 or not first17.isdigit():
        raise InvalidIdNumber("need 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, GB11643_WEIGHTS, strict=True))
    return GB11643_CHECK[total % 11]


def normalise_id_number(raw: str) -> str:
    """Upper-case, strip spaces, and verify the check character; the result is the only form ever hashed.

    A social-security card carries the same number (its "social-security number"), so hashing the normalised
    form makes the ID card and the social-security card of one person find the same patron.
    """
    number = raw.strip().replace(" ", "").upper()
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        raise InvalidIdNumber("an ID number has 18 characters: 17 digits and a digit or X")
    if gb11643_check_char(number[:17]) != number[17]:
        raise InvalidIdNumber("check character does not match")
    return number


def is_valid_id_number(raw: str) -> bool:
    try:
        normalise_id_number(raw)
    except InvalidIdNumber:
        return False
    return True


def card_key(secret: bytes, kind: str, number: str) -> str:
    """Keyed hash that names a card holder in the database.

    `kind` is "person" for anything carrying a resident ID number (ID card, social-security card), so both cards of
    one resident give one key; library cards and RFID UIDs use their own kind, so a card number can never collide
    with an ID number.
    """
    message = f"{kind}:{number}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def person_key(secret: bytes, id_number: str) -> str:
    return card_key(secret, "person", normalise_id_number(id_number))


def mask_id_number(number: str) -> str:
    """`320102198001011234` → `3201**********1234`: region prefix and last four stay, the birth date never shows."""
    number = number.strip()
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_card_number(number: str) -> str:
    """Library card numbers show their last four only: `****5678`."""
    number = number.strip()
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]


def mask_name(name: str) -> str:
    """`张三` → `张*`, `欧阳娜娜` → `欧***`; Latin names keep their first letter: `Zhang San` → `Z**** ***`."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "".join(" " if c == " " else "*" for c in name[1:]) if len(name) > 1 else name[0] + "*"
