from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.errors import FrameError
from devices.idcard.demo_cards import DEMO_CARDS
from devices.idcard.frames import (
    PREAMBLE,
    STATUS_TEXT,
    Command,
    FrameDecoder,
    Status,
    decode_frame,
    encode_frame,
    encode_read_data,
    encode_request,
    encode_response,
    parse_request,
    parse_response,
    split_read_data,
    status_text,
)


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


@pytest.mark.parametrize(
    ("command", "data", "after_preamble"),
    [
        (Command.SAM_STATUS, b"", "00 03 11 FF ED"),
        (Command.RESET_SAM, b"", "00 03 10 FF EC"),
        (Command.READ_SAM_ID, b"", "00 03 12 FF EE"),
        (Command.FIND_CARD, b"", "00 03 20 01 22"),
        (Command.SELECT_CARD, b"", "00 03 20 02 21"),
        (Command.READ_TEXT_PHOTO, b"", "00 03 30 01 32"),
        (Command.READ_TEXT_PHOTO_FINGERPRINT, b"", "00 03 30 10 23"),
        (Command.SET_MAX_RF_BYTES, b"\x50", "00 04 61 FF 50 CA"),
    ],
)
def test_requests_match_the_protocol_notes(command: Command, data: bytes, after_preamble: str) -> None:
    assert encode_request(command, data) == PREAMBLE + hexbytes(after_preamble)


@pytest.mark.parametrize(
    ("status", "data", "after_preamble"),
    [
        (Status.OK, b"", "00 04 00 00 90 94"),
        (Status.CARD_FOUND, bytes(4), "00 08 00 00 9F 00 00 00 00 97"),
        (Status.NO_CARD, b"", "00 04 00 00 80 84"),
    ],
)
def test_responses_match_the_protocol_notes(status: int, data: bytes, after_preamble: str) -> None:
    frame = PREAMBLE + hexbytes(after_preamble)
    assert encode_response(status, data) == frame
    response = parse_response(decode_frame(frame))
    assert (response.sw1, response.sw2, response.sw3, response.data) == (0, 0, status, data)


def test_full_read_reply_is_1295_bytes() -> None:
    text = DEMO_CARDS[0].encode()
    frame = encode_response(Status.OK, encode_read_data(text, bytes(1024)))
    assert len(frame) == 1295
    assert frame.startswith(hexbytes("AA AA AA 96 69 05 08 00 00 90 01 00 04 00"))
    read = split_read_data(parse_response(decode_frame(frame)).data)
    assert read.text == text and read.photo == bytes(1024) and read.fingerprint == b""


def test_read_with_fingerprint_has_three_lengths() -> None:
    data = encode_read_data(b"t" * 256, b"p" * 1024, b"f" * 1024)
    read = split_read_data(data, with_fingerprint=True)
    assert (len(read.text), len(read.photo), len(read.fingerprint)) == (256, 1024, 1024)
    with pytest.raises(FrameError):
        split_read_data(data[:-1], with_fingerprint=True)


def test_every_status_code_has_a_text() -> None:
    for status in Status:
        assert status in STATUS_TEXT
    assert status_text(0x60).startswith("SAM self-test failed")
    assert "0x77" in status_text(0x77)


def test_decoder_skips_garbage_and_handles_split_reads() -> None:
    frame = encode_response(Status.OK)
    decoder = FrameDecoder()
    for byte in b"\x00\xaa\x13\xaa\xaa" + frame:
        decoder.feed(bytes((byte,)))
    assert decoder.next_payload() == bytes((0, 0, 0x90))
    assert decoder.next_payload() is None


def test_decoder_reports_bad_checksum_then_recovers() -> None:
    bad = bytearray(encode_response(Status.CARD_FOUND, bytes(4)))
    bad[-1] ^= 0x01
    decoder = FrameDecoder()
    decoder.feed(bytes(bad) + encode_response(Status.NO_CARD))
    with pytest.raises(FrameError, match="checksum"):
        decoder.next_payload()
    assert parse_response(decoder.next_payload() or b"").sw3 == Status.NO_CARD


def test_decoder_rejects_impossible_length() -> None:
    decoder = FrameDecoder()
    decoder.feed(PREAMBLE + b"\x00\x01" + encode_response(Status.OK))
    with pytest.raises(FrameError, match="LEN"):
        decoder.next_payload()
    assert decoder.next_payload() == bytes((0, 0, 0x90))


def test_decode_frame_checks_everything() -> None:
    good = encode_response(Status.OK)
    with pytest.raises(FrameError):
        decode_frame(good[1:])
    with pytest.raises(FrameError):
        decode_frame(good[:-1])
    with pytest.raises(FrameError):
        decode_frame(good[:-1] + b"\x00")
    with pytest.raises(FrameError):
        parse_response(b"\x00")
    with pytest.raises(FrameError):
        parse_request(b"\x20")


def _drain(decoder: FrameDecoder) -> list[bytes]:
    """Call next_payload until it has nothing more; each FrameError consumes bytes, so this always ends."""
    payloads: list[bytes] = []
    for _ in range(10_000):
        before = decoder.pending
        try:
            payload = decoder.next_payload()
        except FrameError:
            assert decoder.pending < before
            continue
        if payload is None:
            return payloads
        payloads.append(payload)
    raise AssertionError("decoder did not settle")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=20))
def test_arbitrary_bytes_raise_only_frame_error_and_never_stall(chunks: list[bytes]) -> None:
    decoder = FrameDecoder()
    for chunk in chunks:
        decoder.feed(chunk)
        _drain(decoder)
    assert decoder.pending <= 7 + decoder.max_length


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(min_size=3, max_size=300), min_size=1, max_size=5),
    st.binary(max_size=40).map(lambda b: b.replace(b"\xaa", b"\x00")),
    st.integers(min_value=1, max_value=50),
)
def test_round_trip_through_noise_and_any_chunking(payloads: list[bytes], noise: bytes, chunk: int) -> None:
    stream = b"".join(noise + encode_frame(p) for p in payloads)
    decoder = FrameDecoder()
    received: list[bytes] = []
    for start in range(0, len(stream), chunk):
        decoder.feed(stream[start : start + chunk])
        received += _drain(decoder)
    assert received == payloads
