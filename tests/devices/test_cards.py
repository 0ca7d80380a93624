"""Card-number readers: EM4100 frames (codec, property tests, driver over a pty) and plain line readers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.cards.em4100 import Em4100Decoder, Em4100Tag, decode_frame, encode_frame
from devices.cards.readers import Em4100Reader, LineCardReader
from devices.cards.simulator import Em4100Simulator
from devices.errors import FrameError
from devices.events import CardKind, CardPresented, CardRemoved, DeviceFault, HealthState
from devices.identity import card_key
from devices.simulators.line import CardLineSimulator
from devices.simulators.registry import start_simulator

from .conftest import EventLog, wait_until


def test_frame_layout_and_number() -> None:
    tag = Em4100Tag(version=0x0A, tag=0x00BC614E)
    frame = encode_frame(tag)
    assert frame == b"\x020A00BC614E" + f"{0x0A ^ 0x00 ^ 0xBC ^ 0x61 ^ 0x4E:02X}".encode() + b"\x03"
    assert len(frame) == 14
    assert decode_frame(frame) == tag
    assert tag.number == "0012345678"


def test_bad_frames_are_frame_errors() -> None:
    good = encode_frame(Em4100Tag(1, 2))
    for bad in (good[:-1], good[:-1] + b"\x04", good[:11] + b"ZZ" + good[13:], good[:3] + b"G" + good[4:]):
        with pytest.raises(FrameError):
            decode_frame(bad)


def drain(decoder: Em4100Decoder) -> list[Em4100Tag | str]:
    out: list[Em4100Tag | str] = []
    for _ in range(10_000):
        before = decoder.pending
        try:
            tag = decoder.next_tag()
        except FrameError:
            assert decoder.pending < before
            out.append("error")
            continue
        if tag is None:
            return out
        out.append(tag)
    raise AssertionError("decoder did not settle")


def test_decoder_resyncs_after_garbage_and_bad_frames() -> None:
    tag = Em4100Tag(0x0A, 0x00BC614E)
    bad = bytearray(encode_frame(tag))
    bad[12] = ord("0") if bad[12] != ord("0") else ord("1")
    decoder = Em4100Decoder()
    decoder.feed(b"\x13\x37" + bytes(bad) + encode_frame(tag))
    result = drain(decoder)
    assert result[-1] == tag and "error" in result


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=10))
def test_arbitrary_bytes_raise_only_frame_error(chunks: list[bytes]) -> None:
    decoder = Em4100Decoder()
    for chunk in chunks:
        decoder.feed(chunk)
        drain(decoder)
        assert decoder.pending < 14


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.builds(Em4100Tag, st.integers(0, 255), st.integers(0, 2**32 - 1)), max_size=6),
    st.binary(max_size=10).map(lambda b: b.replace(b"\x02", b"")),
    st.integers(1, 15),
)
def test_round_trip_through_noise(tags: list[Em4100Tag], noise: bytes, chunk: int) -> None:
    stream = b"".join(noise + encode_frame(tag) for tag in tags)
    decoder = Em4100Decoder()
    got: list[Em4100Tag | str] = []
    for start in range(0, len(stream), chunk):
        decoder.feed(stream[start : start + chunk])
        got += drain(decoder)
    assert got == tags


def em_sim(name: str, **options: Any) -> Em4100Simulator:
    simulator = start_simulator("em4100", name, **options)
    assert isinstance(simulator, Em4100Simulator)
    return simulator


def test_em4100_repeated_frames_are_one_presentation(events: EventLog, secret: bytes) -> None:
    simulator = em_sim("rfid", repeat=0.01)
    reader = Em4100Reader("sim:em4100?name=rfid", events, secret=secret, debounce=0.3)
    reader.start()
    try:
        events.wait_health(HealthState.CONNECTED)
        simulator.present("0A00BC614E")
        [presented] = events.wait_count(CardPresented, 1)
        sent = simulator.frames_sent
        wait_until(lambda: simulator.frames_sent >= sent + 20, "20 repeated frames")
        assert len(events.of(CardPresented)) == 1
        assert presented.kind is CardKind.LIBRARY_CARD
        assert presented.key == card_key(secret, "card", "0012345678")
        assert presented.masked_number == "******5678"
        simulator.remove()
        events.wait_count(CardRemoved, 1)
        simulator.arm_fault("bad_checksum")
        simulator.present("0012345679")
        events.wait_count(DeviceFault, 1)
        second = events.wait_count(CardPresented, 2)[1]
        assert second.masked_number == "******5679"
    finally:
        assert reader.stop()


def test_line_card_reader(events: EventLog, secret: bytes) -> None:
    simulator = start_simulator("card-line", "desk-card")
    assert isinstance(simulator, CardLineSimulator)
    reader = LineCardReader("sim:card-line?name=desk-card", events, secret=secret, repeat_guard=60)
    reader.start()
    try:
        events.wait_health(HealthState.CONNECTED)
        simulator.present("0012345678")
        simulator.present("0012345678")  # a double read within the guard time
        simulator.present("bad number!")
        simulator.present("20001000000015")
        events.wait_count(CardPresented, 2)
        events.wait_count(DeviceFault, 1)
        numbers = [e.masked_number for e in events.of(CardPresented)]
        assert numbers == ["******5678", "**********0015"]
        # The same card through the EM4100 module or a line reader is the same key.
        assert events.of(CardPresented)[0].key == card_key(secret, "card", "0012345678")
    finally:
        assert reader.stop()
