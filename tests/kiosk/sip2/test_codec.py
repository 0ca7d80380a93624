"""Codec: golden bytes from published examples, round trips, and arbitrary input → only Sip2Error."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.sip2.codec import (
    FIXED,
    ChecksumError,
    Message,
    Sip2Error,
    checksum,
    decode,
    encode,
    format_date,
    make,
    parse_date,
)


def test_published_sc_status_checksum() -> None:
    # The SC Status example of the SIP2 2.00 spec's error-detection section: "9900302.00AY1AZFCA5".
    raw = b"9900302.00AY1AZFCA5\r"
    message = decode(raw)
    assert message.code == "99"
    assert message.fixed == {"status_code": "0", "max_print_width": "030", "protocol_version": "2.00"}
    assert message.sequence == 1
    assert encode(message) == raw


def test_checksum_is_twos_complement_of_byte_sum() -> None:
    body = b"9900302.00AY1AZ"
    assert (sum(body) + int(checksum(body), 16)) & 0xFFFF == 0


def test_login_example_from_sipserver_tests() -> None:
    # Message text from the SIPServer test suite (t/00sc_status.t): no error detection.
    message = decode(b"9300CNscclient|COclientpwd|CPThe basement|\r")
    assert message.fixed == {"uid_algorithm": "0", "pwd_algorithm": "0"}
    assert message.fields == (("CN", "scclient"), ("CO", "clientpwd"), ("CP", "The basement"))
    assert message.sequence is None
    assert encode(message) == b"9300CNscclient|COclientpwd|CPThe basement|\r"


def test_patron_status_example_with_empty_field() -> None:
    message = decode(b"2300120060101    084237AOUWOLS|AAdjfiander|AD6789|AC|")
    assert message.fixed["language"] == "001"
    assert parse_date(message.fixed["transaction_date"]) == datetime(2006, 1, 1, 8, 42, 37)
    assert message.get("AA") == "djfiander"
    assert message.get("AC") == ""
    assert message.get("AE") is None


@pytest.mark.parametrize("ending", [b"\r", b"\r\n", b"\n", b""])
def test_line_endings_are_tolerated(ending: bytes) -> None:
    assert decode(b"9900302.00AY1AZFCA5" + ending).sequence == 1


def test_checksum_mismatch_is_reported() -> None:
    with pytest.raises(ChecksumError):
        decode(b"9900302.00AY1AZFCA6\r")


def test_lowercase_checksum_is_accepted() -> None:
    assert decode(b"9900302.00AY1AZfca5").code == "99"


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8"])
def test_chinese_round_trip_with_checksum_over_encoded_bytes(encoding: str) -> None:
    message = make("24", {"patron_status": " " * 14, "language": "019", "transaction_date": " " * 18},
                   [("AO", "XW01"), ("AA", "LC1"), ("AE", "张*"), ("BL", "Y")], sequence=3)
    raw = encode(message, encoding=encoding)
    assert "张*".encode(encoding) in raw
    assert raw[-5:-1] == checksum(raw[:-5]).encode()
    assert decode(raw, encoding=encoding) == message


def test_gbk_bytes_are_not_utf8() -> None:
    raw = encode(make("36", {"end_session": "Y", "transaction_date": " " * 18}, [("AF", "再见")]), encoding="gbk")
    with pytest.raises(Sip2Error):
        decode(raw, encoding="utf-8")


def test_repeated_fields_keep_order() -> None:
    raw = b"64" + b" " * 14 + b"001" + b"20260101    000000" + b"0000" * 6 + b"AOX|AAp|AUb1|AUb2|"
    assert decode(raw).get_all("AU") == ["b1", "b2"]


@pytest.mark.parametrize("raw", [b"", b"9", b"99003", b"XX", b"00abc", b"9900302.0", b"2300120060101",
                                 b"9300|C|", b"\xff\xfe"])
def test_malformed_input(raw: bytes) -> None:
    with pytest.raises(Sip2Error):
        decode(raw)


def test_unknown_code_carries_the_code() -> None:
    with pytest.raises(Sip2Error) as info:
        decode(b"19abc")
    assert info.value.code == "19"


def test_oversize_message_is_refused() -> None:
    with pytest.raises(Sip2Error):
        decode(b"93" + b"0" * 9000)


def test_encode_checks_fixed_lengths_and_separators() -> None:
    with pytest.raises(Sip2Error):
        encode(make("94", {"ok": "10"}))
    with pytest.raises(Sip2Error):
        encode(make("94", {"ok": "1"}, [("AF", "a|b")]))
    with pytest.raises(Sip2Error):
        encode(make("94", {"ok": "1"}, [("AF", "中")]), encoding="ascii")


def test_dates() -> None:
    aware = datetime(2026, 11, 23, 1, 2, 3, tzinfo=UTC)
    assert format_date(aware) == "20261123   Z010203"
    assert parse_date(format_date(aware)) == aware
    assert format_date(datetime(2026, 1, 2, 3, 4, 5)) == "20260102    030405"
    for bad in ["2026", "20261301    000000", "20260101 EST 000000"]:
        with pytest.raises(Sip2Error):
            parse_date(bad)


def test_every_message_code_round_trips() -> None:
    for code, spec in FIXED.items():
        message = Message(code, {name: "0" * length for name, length in spec}, (("AO", "inst"),), 7)
        assert decode(encode(message)) == message


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_sip2_error(raw: bytes) -> None:
    for encoding in ("utf-8", "gb18030"):
        with contextlib.suppress(Sip2Error):
            decode(raw, encoding=encoding)


@settings(max_examples=200, deadline=None)
@given(code=st.sampled_from(sorted(FIXED)), values=st.lists(
    st.tuples(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2),
              st.text(alphabet=st.characters(codec="utf-8", exclude_characters="|\r\n"),
                      max_size=20)), max_size=6),
       sequence=st.none() | st.integers(0, 9), encoding=st.sampled_from(["utf-8", "gb18030"]))
def test_round_trip_property(code: str, values: list[tuple[str, str]], sequence: int | None, encoding: str) -> None:
    message = Message(code, {name: "Y" * length for name, length in FIXED[code]}, tuple(values), sequence)
    try:
        raw = encode(message, encoding=encoding)
    except Sip2Error:
        return  # a character the encoding lacks
    decoded = decode(raw, encoding=encoding)
    assert decoded.code == code
    assert decoded.sequence == sequence
    assert decoded.fields == tuple((f, v) for f, v in values if f + v)


def test_checksum_without_leading_zeros_is_accepted() -> None:
    # Find a body whose checksum starts with 0, then send it unpadded as some clients do.
    for n in range(5000):
        body = f"9300CNu{n}|COp|AY1AZ".encode()
        value = checksum(body)
        if value.startswith("0"):
            break
    message = decode(body + value.lstrip("0").encode() + b"\r")
    assert message.sequence == 1 and message.get("CN") == f"u{n}"
    with pytest.raises(ChecksumError):
        decode(body + b"FFF\r")


def test_missing_trailing_date_is_read_as_blank() -> None:
    message = decode(b"65AOXW01|AALC00012345|BON|")
    assert message.fixed == {"transaction_date": " " * 18}
    assert message.get("AA") == "LC00012345"
