"""Door relay and door sensor against their simulators, including a real crash between "on" and "off"."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.errors import FrameError
from devices.events import DeviceFault, DoorSensorChanged, HealthState
from devices.relay.check import check_relay
from devices.relay.codec import (
    RelayCommand,
    encode_lcus,
    encode_line_command,
    parse_door_line,
    parse_lcus,
    split_lcus,
)
from devices.relay.driver import DoorLineReader, DoorRelay, DoorSensor, RelayNotConnected
from devices.relay.simulator import DoorSensorSimulator, LcusRelaySimulator, LineRelaySimulator
from devices.simulators.registry import get_simulator, start_simulator
from tests.devices.conftest import WAIT_S, EventLog, wait_until

ROOT = Path(__file__).resolve().parents[3]


def test_lcus_frames_match_the_board_documentation() -> None:
    assert encode_lcus(1, True) == bytes.fromhex("A00101A2")
    assert encode_lcus(1, False) == bytes.fromhex("A00100A1")
    assert encode_lcus(2, True) == bytes.fromhex("A00201A3")
    assert parse_lcus(bytes.fromhex("A00101A2")) == RelayCommand(1, True)


def test_lcus_stream_resynchronises_after_garbage() -> None:
    buffer = bytearray(b"\x01\x02" + encode_lcus(1, True) + b"\xa0\x01\x07\x00" + encode_lcus(1, False))
    items = split_lcus(buffer)
    assert [i for i in items if isinstance(i, RelayCommand)] == [RelayCommand(1, True), RelayCommand(1, False)]
    assert any(isinstance(i, FrameError) for i in items)


@given(st.binary(max_size=64))
def test_arbitrary_bytes_raise_only_frame_error(data: bytes) -> None:
    for item in split_lcus(bytearray(data)):
        assert isinstance(item, RelayCommand | FrameError)
    with contextlib.suppress(FrameError):
        parse_door_line(data)
    with contextlib.suppress(FrameError):
        parse_lcus(data)
    reader = DoorLineReader()
    for change in reader.feed(data):
        assert isinstance(change, bool | FrameError)


def test_line_commands_and_door_lines() -> None:
    assert encode_line_command("ON {channel}", 2) == b"ON 2\r\n"
    assert encode_line_command("AT+O{channel}\\r", 1) == b"AT+O1\r"
    assert parse_door_line(b" door  open ") is True
    assert parse_door_line(b"DOOR CLOSED") is False
    reader = DoorLineReader()
    assert reader.feed(b"DOOR OPEN\r\nDOOR OPEN\r\nDOOR CL") == [True]
    assert reader.feed(b"OSED\n") == [False]


def test_lcus_pulse_switches_on_then_off(events: EventLog, leak_check: None) -> None:
    relay = DoorRelay("sim:relay-lcus?name=door", events, name="door", channel=1, pulse_s=0.2)
    relay.start()
    events.wait_health(HealthState.CONNECTED)
    sim = get_simulator("door")
    assert isinstance(sim, LcusRelaySimulator)
    wait_until(lambda: sim.history, "the switch-off at start")
    assert sim.history[0] == RelayCommand(1, False)
    try:
        relay.pulse()
        assert sim.wait_for(1, True, WAIT_S)
        assert sim.wait_for(1, False, WAIT_S)
        assert [c.on for c in sim.history] == [False, True, False]
        # The simulator can read the OFF frame before the driver's write() has returned and recorded it.
        wait_until(lambda: not relay.energised, "the driver to record the switch-off")
    finally:
        relay.stop()


def test_stop_during_a_pulse_switches_off(events: EventLog) -> None:
    relay = DoorRelay(
        "sim:relay-line?name=gate&on=REL{channel} 1&off=REL{channel} 0",
        events,
        name="gate",
        protocol="line",
        channel=2,
        on_command="REL{channel} 1",
        off_command="REL{channel} 0",
    )
    relay.start()
    events.wait_health(HealthState.CONNECTED)
    sim = get_simulator("gate")
    assert isinstance(sim, LineRelaySimulator)
    wait_until(lambda: sim.history, "the switch-off at start")
    relay.pulse(3600)
    assert sim.wait_for(2, True, WAIT_S)
    assert relay.stop()
    assert sim.wait_for(2, False, WAIT_S)
    assert sim.bad_frames == 0


def test_pulse_without_a_port_is_refused(events: EventLog) -> None:
    relay = DoorRelay("sim:relay-lcus?name=nowhere", events, name="nowhere")
    with pytest.raises(RelayNotConnected):
        relay.pulse()


def test_a_crash_between_on_and_off_is_repaired_by_the_next_start(events: EventLog) -> None:
    sim = start_simulator("relay-lcus", "crashy")
    assert isinstance(sim, LcusRelaySimulator)
    crash = textwrap.dedent(
        f"""
        import os, time
        from devices.relay.driver import DoorRelay
        relay = DoorRelay({sim.port_path!r}, lambda e: None, name="crashy", pulse_s=3600)
        relay.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                relay.pulse()
                break
            except Exception:
                time.sleep(0.02)
        time.sleep(0.3)
        os._exit(9)  # the kiosk dies with the relay energised
        """
    )
    result = subprocess.run([sys.executable, "-c", crash], cwd=ROOT, timeout=60, check=False)
    assert result.returncode == 9
    assert sim.state(1) is True, "the crashed process left the relay on"
    switches = len(sim.history)
    relay = DoorRelay(sim.port_path, events, name="crashy")
    relay.start()
    wait_until(lambda: len(sim.history) > switches, "the next start to switch the relay")
    assert sim.history[switches] == RelayCommand(1, False)
    assert sim.state(1) is False
    relay.stop()


def test_door_sensor_on_the_relay_port_and_on_its_own(events: EventLog, leak_check: None) -> None:
    relay = DoorRelay("sim:relay-lcus?name=door", events, name="door", sensor=True)
    sensor = DoorSensor("sim:door-sensor?name=contact", events, name="contact")
    relay.start()
    sensor.start()
    events.wait_for(
        lambda: relay.health.state is HealthState.CONNECTED and sensor.health.state is HealthState.CONNECTED,
        "both connected",
    )
    board, contact = get_simulator("door"), get_simulator("contact")
    assert isinstance(board, LcusRelaySimulator) and isinstance(contact, DoorSensorSimulator)
    board.door(True)
    board.door(True)
    board.send(b"DOOR AJAR\r\n")
    board.door(False)
    contact.door(True)
    events.wait_count(DoorSensorChanged, 3)
    relay.stop()
    sensor.stop()
    changes = [(e.device, e.is_open) for e in events.of(DoorSensorChanged)]
    assert changes.count(("door", True)) == 1
    assert ("door", False) in changes and ("contact", True) in changes
    assert any(f.code == "bad_sensor_line" for f in events.of(DeviceFault))


def test_check_relay_pulses_and_reports_the_door(events: EventLog) -> None:
    sim = start_simulator("relay-lcus", "entry")
    assert isinstance(sim, LcusRelaySimulator)

    def door_follows_relay() -> None:
        if sim.wait_for(1, True, WAIT_S):
            sim.door(True)
        if sim.wait_for(1, False, WAIT_S):
            sim.door(False)

    helper = threading.Thread(target=door_follows_relay)
    helper.start()
    result = check_relay("sim:relay-lcus?name=entry", seconds=0.2, sensor=True)
    helper.join()
    assert result.connected and result.pulsed
    assert result.door_states == (True, False)
    wait_until(lambda: len(sim.history) >= 4, "the switch-off at stop")
    assert [c.on for c in sim.history] == [False, True, False, False]  # off at start, pulse, off at stop
    assert check_relay("sim:no-such-kind", seconds=0.1, connect_timeout=2).connected is False


def test_replug_during_a_pulse_comes_back_switched_off(tmp_path: Path, events: EventLog) -> None:
    link = str(tmp_path / "relay")
    sim = start_simulator("relay-lcus", "plug", link=link)
    assert isinstance(sim, LcusRelaySimulator)
    relay = DoorRelay(link, events, name="plug")
    relay.start()
    events.wait_health(HealthState.CONNECTED)
    relay.pulse(3600)
    assert sim.wait_for(1, True, WAIT_S)
    mark = len(events.events)
    sim.unplug()
    events.wait_health(HealthState.RECONNECTING, after=mark)
    sim.replug()
    events.wait_health(HealthState.CONNECTED, after=mark)
    assert sim.wait_for(1, False, WAIT_S)
    wait_until(lambda: not relay.energised, "the driver to record the switch-off")
    relay.stop()
