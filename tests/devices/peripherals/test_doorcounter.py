"""Door counter: codecs (round trip, arbitrary bytes), the delta primitive (properties), driver vs simulator."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.doorcounter.codec import (
    COUNTER_MAX,
    PointSixFlags,
    PointSixPacket,
    TotalsReport,
    encode_pointsix,
    encode_totals_line,
    parse_pointsix,
    parse_totals_line,
)
from devices.doorcounter.deltas import CountSample, counter_delta, deltas
from devices.doorcounter.driver import DoorCounter
from devices.doorcounter.simulator import DoorCounterSimulator
from devices.errors import FrameError
from devices.events import DeviceFault, DoorCount, HealthState
from devices.simulators.registry import get_simulator, start_simulator
from tests.devices.conftest import EventLog

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
counts = st.integers(0, COUNTER_MAX)


# -- codecs ---------------------------------------------------------------------------------------------------------


@given(counts, counts, st.booleans(), st.booleans(), st.booleans())
def test_totals_line_round_trip(total_in: int, total_out: int, reset: bool, blocked: bool, with_time: bool) -> None:
    flags = frozenset({n for n, on in (("reset", reset), ("beam_blocked", blocked)) if on})
    report = TotalsReport(total_in, total_out, T0 if with_time else None, flags)
    frame = encode_totals_line(report)
    assert frame.endswith(b"\r\n")
    assert parse_totals_line(frame[:-2]) == report


def test_totals_line_without_checksum_and_with_unknown_fields() -> None:
    report = parse_totals_line(b"IN=12,OUT=7,T=2026-11-22T10:00:00,FW=1.2")
    assert (report.total_in, report.total_out, report.device_time) == (12, 7, T0)


@pytest.mark.parametrize(
    "line",
    [b"IN=1", b"IN=1,OUT=x", b"IN=1,OUT=2*00", b"IN=99999999,OUT=1", b"IN=1,OUT=2,T=yesterday", b"\xff\xfe", b"junk"],
)
def test_bad_totals_lines_are_frame_errors(line: bytes) -> None:
    with pytest.raises(FrameError):
        parse_totals_line(line)


@given(st.integers(0, 255), counts, st.integers(0, 7), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF))
def test_pointsix_round_trip(kind: int, count: int, flags: int, interval: int, sequence: int) -> None:
    packet = PointSixPacket(kind, "DEADBEEF", count, PointSixFlags(flags), interval, sequence)
    frame = encode_pointsix(packet)
    assert frame.endswith(b"\r") and len(frame) == 29
    assert parse_pointsix(frame[:-1]) == packet


def test_pointsix_counter_is_least_significant_byte_first() -> None:
    frame = encode_pointsix(PointSixPacket(1, "00000001", 0x010203, PointSixFlags(0)))
    assert frame[10:16] == b"030201"
    with pytest.raises(FrameError):
        parse_pointsix(encode_pointsix(PointSixPacket(1, "00000001", 5, PointSixFlags(0)), corrupt_checksum=True)[:-1])


@given(st.binary(max_size=64))
def test_arbitrary_bytes_raise_only_frame_error(data: bytes) -> None:
    for parse in (parse_totals_line, parse_pointsix):
        with contextlib.suppress(FrameError):
            parse(data)


# -- deltas ---------------------------------------------------------------------------------------------------------


def test_wrap_is_not_a_reset() -> None:
    assert counter_delta(COUNTER_MAX - 2, 4) == (7, "wrap")
    assert counter_delta(5000, 3) == (3, "reset")
    assert counter_delta(10, 12, reset=True) == (12, "reset")
    assert counter_delta(10, 12) == (2, "count")


def test_gap_is_marked_not_zero() -> None:
    samples = [
        CountSample(T0, 10, 5),
        CountSample(T0 + timedelta(minutes=5), 12, 5),
        CountSample(T0 + timedelta(hours=2), 20, 9),
    ]
    intervals = deltas(samples)
    assert [(i.entered, i.left, i.gap) for i in intervals] == [(2, 0, False), (8, 4, True)]


@given(st.integers(0, COUNTER_MAX), st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 5000)), max_size=40))
def test_without_resets_deltas_sum_to_the_passages(start: int, steps: list[tuple[int, int]]) -> None:
    samples = [CountSample(T0, start, start)]
    total_in = total_out = start
    for index, (people_in, people_out) in enumerate(steps, 1):
        total_in = (total_in + people_in) % (COUNTER_MAX + 1)
        total_out = (total_out + people_out) % (COUNTER_MAX + 1)
        samples.append(CountSample(T0 + timedelta(minutes=index), total_in, total_out))
    intervals = deltas(samples)
    assert sum(i.entered for i in intervals) == sum(s[0] for s in steps)
    assert sum(i.left for i in intervals) == sum(s[1] for s in steps)
    assert not any(i.reset for i in intervals)


@given(st.lists(st.tuples(counts, counts, st.booleans()), max_size=40))
def test_deltas_are_never_negative(reports: list[tuple[int, int, bool]]) -> None:
    samples = [CountSample(T0 + timedelta(minutes=i), a, b, r) for i, (a, b, r) in enumerate(reports)]
    for interval in deltas(samples):
        assert interval.entered >= 0 and interval.left >= 0


# -- driver against the simulator -----------------------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["line", "pointsix"])
def test_driver_reports_totals_reset_wrap_and_survives_garbage(
    framing: str, events: EventLog, leak_check: None
) -> None:
    counter = DoorCounter(
        f"sim:door-counter?name=door-{framing}&framing={framing}", events, name="door", framing=framing
    )
    counter.start()
    events.wait_health(HealthState.CONNECTED)
    sim = get_simulator(f"door-{framing}")
    assert isinstance(sim, DoorCounterSimulator)
    sim.walk_in(3)
    sim.walk_out(1)
    sim.send_garbage(40, seed=1)
    sim.send(b"\r\n")
    sim.arm_fault("bad_checksum")
    sim.walk_in(1)  # lost to the bad checksum, reported as a fault
    sim.reset()
    sim.walk_in(2)
    sim.set_totals(COUNTER_MAX, 0)
    sim.report()
    sim.walk_in(2)

    def last() -> tuple[int, int] | None:
        found = events.of(DoorCount)
        return (found[-1].total_in, found[-1].total_out) if found else None

    events.wait_for(lambda: last() == (1, 0), "the wrapped total")
    counter.stop()
    totals = [(c.total_in, c.total_out) for c in events.of(DoorCount)]
    assert (3, 1) in totals
    assert (4, 1) not in totals
    assert events.of(DeviceFault)
    reset = [c for c in events.of(DoorCount) if "reset" in c.flags]
    assert reset and (reset[0].total_in, reset[0].total_out) == (2, 0)
    if framing == "line":
        assert all(c.device_time is not None for c in events.of(DoorCount))
    samples = [CountSample(c.received_at, c.total_in, c.total_out, "reset" in c.flags) for c in events.of(DoorCount)]
    intervals = deltas(samples)
    assert any(i.wrapped and i.entered == 2 for i in intervals)
    assert all(i.entered >= 0 and i.left >= 0 for i in intervals)


def test_unplug_and_replug_loses_and_duplicates_nothing(tmp_path: Path, events: EventLog, leak_check: None) -> None:
    link = str(tmp_path / "door")
    sim = start_simulator("door-counter", "plug", link=link)
    assert isinstance(sim, DoorCounterSimulator)
    counter = DoorCounter(link, events, name="door")
    counter.start()
    events.wait_health(HealthState.CONNECTED)
    sim.walk_in(1)
    events.wait_count(DoorCount, 1)
    mark = len(events.events)
    sim.unplug()
    events.wait_health(HealthState.RECONNECTING, after=mark)
    sim.walk_in(1)  # counted by the device while unplugged: arrives with the next report
    sim.replug()
    events.wait_health(HealthState.CONNECTED, after=mark)
    sim.walk_in(1)
    events.wait_count(DoorCount, 2)
    counter.stop()
    assert [(c.total_in, c.total_out) for c in events.of(DoorCount)] == [(1, 0), (3, 0)]


@given(st.binary(max_size=300), st.integers(1, 16), counts, counts, st.sampled_from(["line", "pointsix"]))
def test_the_reader_never_stalls_on_noise(
    noise: bytes, chunk: int, total_in: int, total_out: int, framing: str
) -> None:
    """Whatever came before, the report after the next line end is read (fed in arbitrary chunks, no port)."""
    seen: list[object] = []
    counter = DoorCounter("loop://", seen.append, name="door", framing=framing)
    if framing == "line":
        frame = encode_totals_line(TotalsReport(total_in, total_out))
    else:
        frame = encode_pointsix(PointSixPacket(1, "0A0B0C0D", total_in, PointSixFlags(0))) + encode_pointsix(
            PointSixPacket(1, "0A0B0C0D", total_out, PointSixFlags.DIRECTION_OUT)
        )
    stream = noise + b"\r\n" + frame
    for start in range(0, len(stream), chunk):
        counter.data_received(stream[start : start + chunk])
    reports = [e for e in seen if isinstance(e, DoorCount)]
    assert reports and (reports[-1].total_in, reports[-1].total_out) == (total_in, total_out)
