"""`kiosk devices listen` and `kiosk simulate` through the real CLI app, against in-process simulators."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devices.idcard.demo_cards import DEMO_CARDS
from kiosk.cli import app

runner = CliRunner()


def test_listen_idcard_prints_masked_json(kiosk_env: Path) -> None:
    result = runner.invoke(
        app, ["devices", "listen", "idcard", "--url", "sim:idcard?name=cli-id&card=0", "--json", "--count", "1",
              "--seconds", "20", "-o", "poll_interval=0.05"]
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    [card] = [r for r in records if r["event"] == "CardPresented"]
    assert card["masked_number"] == "3201**********0629" and card["display_name"] == "李**"
    assert card["kind"] == "id_card" and len(card["key"]) == 64
    assert "patron_identifier" not in card
    assert DEMO_CARDS[0].id_number not in result.output and DEMO_CARDS[0].name not in result.output
    assert records[0]["event"] == "DeviceHealth"


def test_listen_scanner_prints_one_line_per_code(kiosk_env: Path) -> None:
    result = runner.invoke(
        app, ["devices", "listen", "scanner", "--url", "sim:scanner?name=cli-sc&codes=TS0001234,9787020002207"
              "&every=0.05", "--count", "2", "--seconds", "20"]
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if " barcode " in line]
    assert [line.split()[-1] for line in lines] == ["TS0001234", "9787020002207"]


@pytest.mark.parametrize(("url", "message"), [("hid:", "not a byte stream"), ("sim:teapot", "teapot")])
def test_listen_fails_clearly_on_unusable_urls(kiosk_env: Path, url: str, message: str) -> None:
    result = runner.invoke(app, ["devices", "listen", "scanner", "--url", url, "--seconds", "20"])
    assert result.exit_code == 1
    assert message in result.output


def test_listen_unknown_kind(kiosk_env: Path) -> None:
    result = runner.invoke(app, ["devices", "listen", "teapot", "--url", "loop://"])
    assert result.exit_code == 1
    assert "unknown device kind 'teapot'" in result.output and "idcard" in result.output


def test_simulate_serves_tcp_and_takes_commands(kiosk_env: Path) -> None:
    result = runner.invoke(
        app, ["simulate", "idcard", "--port", "0", "--seconds", "0.5"], input="place 4\nlift\nfault nosuch\nhelp\n"
    )
    assert result.exit_code == 0, result.output
    assert "socket://127.0.0.1:" in result.output
    assert "placed demo card 4" in result.output and "lifted" in result.output
    assert "error:" in result.output and "place [0-5]" in result.output
