"""SIP2 2.00 message codec: pure functions of bytes, one error type.

A message is a two-digit code, fixed-length fields whose lengths the spec fixes per code, then variable fields
(two-letter id, value, `|`). With error detection on, the message ends `AY<seq>AZ<checksum>`: the checksum is the
two's complement of the 16-bit sum of every byte before it (including `AZ`), four uppercase hex digits.
Real servers end lines with CR (spec), CRLF or LF; Chinese systems often speak GBK/GB18030, so the encoding is a
parameter and the checksum is computed over the *encoded* bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

MAX_MESSAGE_BYTES = 8192


class Sip2Error(Exception):
    """Malformed, truncated, unknown or checksum-failing SIP2 input."""

    def __init__(self, problem: str, *, code: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.code = code


class ChecksumError(Sip2Error):
    """The AZ checksum did not match: the peer should be asked to resend (97/96)."""


# Fixed-length fields per message code, in wire order (SIP2 2.00, "Messages" chapter).
FIXED: dict[str, tuple[tuple[str, int], ...]] = {
    "93": (("uid_algorithm", 1), ("pwd_algorithm", 1)),
    "94": (("ok", 1),),
    "99": (("status_code", 1), ("max_print_width", 3), ("protocol_version", 4)),
    "98": (("online_status", 1), ("checkin_ok", 1), ("checkout_ok", 1), ("acs_renewal_policy", 1),
           ("status_update_ok", 1), ("offline_ok", 1), ("timeout_period", 3), ("retries_allowed", 3),
           ("date_time_sync", 18), ("protocol_version", 4)),
    "23": (("language", 3), ("transaction_date", 18)),
    "24": (("patron_status", 14), ("language", 3), ("transaction_date", 18)),
    "63": (("language", 3), ("transaction_date", 18), ("summary", 10)),
    "64": (("patron_status", 14), ("language", 3), ("transaction_date", 18), ("hold_items_count", 4),
           ("overdue_items_count", 4), ("charged_items_count", 4), ("fine_items_count", 4),
           ("recall_items_count", 4), ("unavailable_holds_count", 4)),
    "11": (("sc_renewal_policy", 1), ("no_block", 1), ("transaction_date", 18), ("nb_due_date", 18)),
    "12": (("ok", 1), ("renewal_ok", 1), ("magnetic_media", 1), ("desensitize", 1), ("transaction_date", 18)),
    "09": (("no_block", 1), ("transaction_date", 18), ("return_date", 18)),
    "10": (("ok", 1), ("resensitize", 1), ("magnetic_media", 1), ("alert", 1), ("transaction_date", 18)),
    "29": (("third_party_allowed", 1), ("no_block", 1), ("transaction_date", 18), ("nb_due_date", 18)),
    "30": (("ok", 1), ("renewal_ok", 1), ("magnetic_media", 1), ("desensitize", 1), ("transaction_date", 18)),
    "65": (("transaction_date", 18),),
    "66": (("ok", 1), ("renewed_count", 4), ("unrenewed_count", 4), ("transaction_date", 18)),
    "17": (("transaction_date", 18),),
    "18": (("circulation_status", 2), ("security_marker", 2), ("fee_type", 2), ("transaction_date", 18)),
    "35": (("transaction_date", 18),),
    "36": (("end_session", 1), ("transaction_date", 18)),
    "01": (("card_retained", 1), ("transaction_date", 18)),
    "97": (),
    "96": (),
    "15": (("hold_mode", 1), ("transaction_date", 18)),
    "16": (("ok", 1), ("available", 1), ("transaction_date", 18)),
    "37": (("transaction_date", 18), ("fee_type", 2), ("payment_type", 2), ("currency_type", 3)),
    "38": (("payment_accepted", 1), ("transaction_date", 18)),
}

LINE_ENDINGS = b"\r\n"


@dataclass(frozen=True)
class Message:
    """One decoded SIP2 message. `fields` keeps wire order and repeats (AS, AU, AF may repeat)."""

    code: str
    fixed: Mapping[str, str] = field(default_factory=dict)
    fields: tuple[tuple[str, str], ...] = ()
    sequence: int | None = None

    def get(self, field_id: str, default: str | None = None) -> str | None:
        for fid, value in self.fields:
            if fid == field_id:
                return value
        return default

    def get_all(self, field_id: str) -> list[str]:
        return [value for fid, value in self.fields if fid == field_id]


def checksum(data: bytes) -> str:
    """Two's complement of the 16-bit byte sum, as the spec's 'Error detection' section defines it."""
    return f"{(-sum(data)) & 0xFFFF:04X}"


def format_date(moment: datetime) -> str:
    """`YYYYMMDDZZZZHHMMSS`: an aware time is sent in UTC with zone `   Z`; a naive one as local (`    `)."""
    if moment.tzinfo is not None:
        utc = moment.astimezone(UTC)
        return utc.strftime("%Y%m%d") + "   Z" + utc.strftime("%H%M%S")
    return moment.strftime("%Y%m%d") + "    " + moment.strftime("%H%M%S")


def parse_date(text: str) -> datetime:
    """Inverse of `format_date`; zone `Z` (any position) gives an aware UTC time, blanks a naive local one."""
    if len(text) != 18:
        raise Sip2Error(f"date must be 18 characters, got {len(text)}")
    zone = text[8:12]
    try:
        moment = datetime.strptime(text[:8] + text[12:], "%Y%m%d%H%M%S")
    except ValueError:
        raise Sip2Error(f"bad date {text!r}") from None
    if zone.strip() == "Z":
        return moment.replace(tzinfo=UTC)
    if zone.strip():
        raise Sip2Error(f"unsupported time zone {zone!r}")
    return moment


def encode(message: Message, *, encoding: str = "utf-8", error_detection: bool | None = None,
           terminator: bytes = b"\r") -> bytes:
    """Bytes for `message`. Error detection (AY/AZ) is on when `sequence` is set, unless told otherwise."""
    spec = FIXED.get(message.code)
    if spec is None:
        raise Sip2Error(f"unknown message code {message.code!r}", code=message.code)
    parts = [message.code]
    for name, length in spec:
        value = message.fixed.get(name, "")
        if len(value) != length:
            raise Sip2Error(f"{message.code} {name} must be {length} characters, got {value!r}", code=message.code)
        parts.append(value)
    for fid, value in message.fields:
        if len(fid) != 2 or "|" in value or "\r" in value or "\n" in value:
            raise Sip2Error(f"bad variable field {fid!r}", code=message.code)
        parts.append(f"{fid}{value}|")
    try:
        body = "".join(parts).encode(encoding)
    except (UnicodeEncodeError, LookupError) as exc:
        raise Sip2Error(f"cannot encode in {encoding}: {exc}", code=message.code) from None
    detect = message.sequence is not None if error_detection is None else error_detection
    if detect:
        body += f"AY{(message.sequence or 0) % 10}AZ".encode("ascii")
        body += checksum(body).encode("ascii")
    return body + terminator


_TRAILER = re.compile(rb"(?:AY(\d))?AZ([0-9A-Fa-f]{1,4})$")


def _split_trailer(raw: bytes) -> tuple[bytes, int | None]:
    """Remove and verify `AY n AZ xxxx`. A bare `AZxxxx` (no sequence) is accepted, and so is a checksum of fewer
    than four digits: some clients (the PyPI `sip2` library among them) drop its leading zeros."""
    match = _TRAILER.search(raw)
    if match is None:
        return raw, None
    start = match.start()
    if match.group(1) is None and len(match.group(2)) != 4 and raw[start - 1:start] != b"|":
        return raw, None  # "AZ1" inside a field value, not a checksum
    given = int(match.group(2), 16)
    expected = int(checksum(raw[:match.start(2)]), 16)
    if given != expected:
        raise ChecksumError(f"checksum {given:04X} != {expected:04X}", code=raw[:2].decode("latin-1"))
    return raw[:start], int(match.group(1)) if match.group(1) is not None else None


def decode(raw: bytes, *, encoding: str = "utf-8", verify: bool = True) -> Message:
    """Parse one message; trailing CR / LF / CRLF are ignored. Raises only `Sip2Error` (or `ChecksumError`)."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise Sip2Error(f"message longer than {MAX_MESSAGE_BYTES} bytes")
    raw = raw.rstrip(LINE_ENDINGS)
    if len(raw) < 2:
        raise Sip2Error("message too short")
    code = raw[:2].decode("latin-1")
    spec = FIXED.get(code)
    if spec is None:
        raise Sip2Error(f"unknown message code {code!r}", code=code if code.isdigit() else None)
    if verify:
        body, sequence = _split_trailer(raw)
    else:
        body, sequence = raw, None
    try:
        text = body.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise Sip2Error(f"not valid {encoding}: {exc}", code=code) from None
    pos = 2
    fixed: dict[str, str] = {}
    for index, name_length in enumerate(spec):
        name, length = name_length
        value = text[pos:pos + length]
        if name == "transaction_date" and index == len(spec) - 1 and "|" in value:
            # Some clients omit a trailing date (the PyPI `sip2` library does in Renew All): take it as blank
            # local "now" rather than misreading the variable fields. A date never contains "|".
            fixed[name] = " " * length
            continue
        if len(value) != length:
            raise Sip2Error(f"{code} truncated in fixed field {name}", code=code)
        fixed[name] = value
        pos += length
    fields: list[tuple[str, str]] = []
    for piece in text[pos:].split("|"):
        if not piece:
            continue
        if len(piece) < 2:
            raise Sip2Error(f"{code} variable field {piece!r} has no id", code=code)
        fields.append((piece[:2], piece[2:]))
    return Message(code, fixed, tuple(fields), sequence)


def make(code: str, fixed: Mapping[str, str] | None = None, fields: Iterable[tuple[str, str | None]] = (),
         sequence: int | None = None) -> Message:
    """Build a message, dropping variable fields whose value is None (optional fields not sent)."""
    kept = tuple((fid, value) for fid, value in fields if value is not None)
    return Message(code, dict(fixed or {}), kept, sequence)


def yn(flag: bool) -> str:
    return "Y" if flag else "N"
