"""ISBN-10 / ISBN-13 (ISO 2108) validation and conversion.

Librarians paste ISBNs in every shape: with hyphens or spaces, with a trailing "x", with a price add-on scanned
from the EAN-13 barcode (5 digits after the main 13, e.g. "9787020002207 51000"), or as the bare 10-digit form from
older records. Everything is normalised to ISBN-13 digits, the only form stored.

Only the 978 prefix has an ISBN-10 equivalent: 979 numbers (979-0 is the ISMN for printed music, 979-8 US, 979-10
France, …) were never issued as ISBN-10s, so converting them is refused rather than silently producing a wrong number.
"""

from __future__ import annotations

import re
from operator import mul

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―_.]")
_ISBN_PREFIX = re.compile(r"^\s*ISBN(?:-1[03])?[:：]?\s*", re.IGNORECASE)


class InvalidIsbn(ValueError):
    """Not an ISBN: wrong length, non-digits, a bad check digit, or a prefix without an ISBN-10 form."""


def compact(raw: str) -> str:
    """Upper-case digits and X without separators or an "ISBN" label: "isbn 7-02-000220-x" → "702000220X"."""
    return _SEPARATORS.sub("", _ISBN_PREFIX.sub("", raw)).upper()


_ISBN10_WEIGHTS = range(10, 1, -1)


def isbn10_check_digit(first9: str) -> str:
    # map/zip rather than a generator: an import checks every ISBN two or three times (measured a tenth of the
    # time spent cutting index tokens).
    total = sum(map(mul, _ISBN10_WEIGHTS, map(int, first9)))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def isbn13_check_digit(first12: str) -> str:
    total = sum(map(int, first12[0::2])) + 3 * sum(map(int, first12[1::2]))
    return str((10 - total % 10) % 10)


def _strip_addon(digits: str) -> str:
    """An EAN-13 scanned with its 2- or 5-digit add-on (price or issue number) arrives as 15 or 18 digits."""
    if len(digits) in (15, 18) and digits.isdigit() and digits[:3] in ("978", "979"):
        return digits[:13]
    return digits


def to_isbn13(raw: str) -> str:
    """The 13-digit form of any valid ISBN-10 or ISBN-13 (with or without hyphens and EAN add-on)."""
    code = _strip_addon(compact(raw))
    if len(code) == 10:
        if not (code[:9].isdigit() and (code[9].isdigit() or code[9] == "X")):
            raise InvalidIsbn(f"{raw!r}: an ISBN-10 has 9 digits and a digit or X")
        if isbn10_check_digit(code[:9]) != code[9]:
            raise InvalidIsbn(f"{raw!r}: ISBN-10 check digit should be {isbn10_check_digit(code[:9])}")
        body = "978" + code[:9]
        return body + isbn13_check_digit(body)
    if len(code) == 13:
        if not code.isdigit():
            raise InvalidIsbn(f"{raw!r}: an ISBN-13 has 13 digits")
        if code[:3] not in ("978", "979"):
            raise InvalidIsbn(f"{raw!r}: an ISBN-13 starts with 978 or 979")
        if isbn13_check_digit(code[:12]) != code[12]:
            raise InvalidIsbn(f"{raw!r}: ISBN-13 check digit should be {isbn13_check_digit(code[:12])}")
        return code
    raise InvalidIsbn(f"{raw!r}: an ISBN has 10 or 13 digits, got {len(code)} characters")


def to_isbn10(raw: str) -> str:
    """The 10-digit form; only 978-prefixed ISBN-13s have one (979-0… is an ISMN, 979-8… never had an ISBN-10)."""
    isbn13 = to_isbn13(raw)
    if not isbn13.startswith("978"):
        raise InvalidIsbn(f"{raw!r}: a 979 ISBN has no ISBN-10 form")
    return isbn13[3:12] + isbn10_check_digit(isbn13[3:12])


def is_valid(raw: str) -> bool:
    try:
        to_isbn13(raw)
    except InvalidIsbn:
        return False
    return True


def looks_like_isbn(raw: str) -> bool:
    """Cheap shape test used by search before trying the check digit (a 10- or 13-character digit string)."""
    code = _strip_addon(compact(raw))
    return (len(code) == 13 and code.isdigit()) or (
        len(code) == 10 and code[:9].isdigit() and (code[9].isdigit() or code[9] == "X")
    )
