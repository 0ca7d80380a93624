"""The 256-byte text record of a resident ID card (UCS-2 little-endian fields, space-padded).

Field layout (offset, bytes): name 0/30, sex 30/2, nation 32/4, birth date 36/16, address 52/70, ID number 122/36,
issuing authority 158/30, valid from 188/16, valid to 204/16 (`YYYYMMDD` or the text `长期`, no expiry),
reserved 220/36. The record is parsed strictly: a reader that delivers a corrupted record must produce a
`RecordError`, never a patron with a half-decoded number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from devices.errors import FrameError
from devices.identity import InvalidIdNumber, normalise_id_number

TEXT_LENGTH = 256
LONG_TERM = "长期"
"""`valid to` of a card without expiry (issued to residents aged 46 and over)."""

# (field, offset, byte length)
_LAYOUT: tuple[tuple[str, int, int], ...] = (
    ("name", 0, 30),
    ("sex", 30, 2),
    ("nation", 32, 4),
    ("birth_date", 36, 16),
    ("address", 52, 70),
    ("id_number", 122, 36),
    ("authority", 158, 30),
    ("valid_from", 188, 16),
    ("valid_to", 204, 16),
    ("reserved", 220, 36),
)


class RecordError(FrameError):
    """A text record that cannot be decoded or whose ID number fails GB 11643."""

    key = "device.idcard.bad_record"


@dataclass(frozen=True)
class IdCardText:
    """The decoded text of one card. Personal fields are kept out of `repr` so that no log line can carry them."""

    name: str = field(repr=False)
    id_number: str = field(repr=False)
    valid_to: date | None
    """None means `长期` (no expiry)."""
    valid_from: date
    sex: str = "1"
    nation: str = "01"
    birth_date: date = field(default=date(1980, 1, 1), repr=False)
    address: str = field(default="", repr=False)
    authority: str = ""

    def is_expired(self, today: date) -> bool:
        """A card is valid through its `valid to` day; a `长期` card never expires."""
        return self.valid_to is not None and self.valid_to < today

    def encode(self) -> bytes:
        """The 256 bytes a reader sends for this card (used by the simulator and by round-trip tests)."""
        values = {
            "name": self.name,
            "sex": self.sex,
            "nation": self.nation,
            "birth_date": self.birth_date.strftime("%Y%m%d"),
            "address": self.address,
            "id_number": self.id_number,
            "authority": self.authority,
            "valid_from": self.valid_from.strftime("%Y%m%d"),
            "valid_to": LONG_TERM if self.valid_to is None else self.valid_to.strftime("%Y%m%d"),
            "reserved": "",
        }
        out = bytearray()
        for name, _, length in _LAYOUT:
            raw = values[name].encode("utf-16-le")
            if len(raw) > length:
                raise ValueError(f"{name} is longer than {length // 2} characters")
            out += raw + " ".encode("utf-16-le") * ((length - len(raw)) // 2)
        return bytes(out)


SimulatedCard = IdCardText
"""A card the simulator can place on its reader: the same fields the reader would deliver."""


def _date(text: str, field_name: str) -> date:
    if len(text) != 8 or not text.isdigit():
        raise RecordError(f"{field_name} is not YYYYMMDD")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise RecordError(f"{field_name} is not a calendar date") from None


def parse_text(record: bytes) -> IdCardText:
    """Decode the 256-byte text record; raises `RecordError` (a `FrameError`) for anything malformed."""
    if len(record) != TEXT_LENGTH:
        raise RecordError(f"text record has {len(record)} bytes, expected {TEXT_LENGTH}")
    fields: dict[str, str] = {}
    for name, offset, length in _LAYOUT:
        try:
            text = record[offset : offset + length].decode("utf-16-le")
        except UnicodeDecodeError:
            raise RecordError(f"{name} is not UCS-2 text") from None
        fields[name] = text.rstrip(" \x00")
    try:
        id_number = normalise_id_number(fields["id_number"])
    except InvalidIdNumber as exc:
        raise RecordError(f"ID number: {exc}") from None
    if not fields["name"]:
        raise RecordError("empty name")
    valid_to_text = fields["valid_to"]
    valid_to = None if valid_to_text == LONG_TERM else _date(valid_to_text, "valid to")
    return IdCardText(
        name=fields["name"],
        id_number=id_number,
        valid_to=valid_to,
        valid_from=_date(fields["valid_from"], "valid from"),
        sex=fields["sex"],
        nation=fields["nation"],
        birth_date=_date(fields["birth_date"], "birth date"),
        address=fields["address"],
        authority=fields["authority"],
    )
