"""`kiosk entry test` against `sim:relay-lcus` / `sim:relay-line` over ptys."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from devices.relay.codec import RelayCommand
from devices.relay.simulator import RelayBoardSimulator
from devices.simulators.registry import start_simulator
from kiosk.cli import app

runner = CliRunner()


@pytest.mark.parametrize(("kind", "protocol"), [("relay-lcus", "lcus"), ("relay-line", "line")])
def test_entry_test_pulses_once_and_leaves_the_relay_off(kiosk_env: object, kind: str, protocol: str) -> None:
    sim = start_simulator(kind, f"cli-{protocol}")
    assert isinstance(sim, RelayBoardSimulator)
    result = runner.invoke(app, ["entry", "test", "--url", f"sim:{kind}?name=cli-{protocol}", "--protocol", protocol,
                                 "--seconds", "0.1", "--channel", "2", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["pulsed"] is True and report["door_states"] == []
    assert sim.history[:3] == [RelayCommand(2, False), RelayCommand(2, True), RelayCommand(2, False)]
    assert [c for c in sim.history if c.on] == [RelayCommand(2, True)]  # off at start, one pulse, off (and at stop)
    assert not sim.state(2)


def test_entry_test_text_output(kiosk_env: object) -> None:
    start_simulator("relay-lcus", "cli-text")
    result = runner.invoke(app, ["entry", "test", "--url", "sim:relay-lcus?name=cli-text", "--seconds", "0.1"])
    assert result.exit_code == 0, result.output
    assert "pulsed 0.1 s, now off" in result.output and "door sensor: no sensor report" in result.output


@pytest.mark.parametrize(("args", "message"), [
    ([], "no relay URL"),
    (["--url", "sim:relay-lcus?name=x", "--protocol", "modbus"], "--protocol must be one of"),
    (["--url", "sim:relay-lcus?name=x", "--seconds", "0"], "--seconds"),
])
def test_entry_test_errors_are_one_line(kiosk_env: object, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["entry", "test", *args])
    assert result.exit_code == 1
    assert message in result.output
