"""`[sip2]` validation and the `kiosk sip2` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kiosk.cli import app
from kiosk.errors import ConfigError
from kiosk.sip2.settings import sip2_settings
from tests.kiosk.sip2.conftest import Served


def test_settings_defaults_and_accounts() -> None:
    settings = sip2_settings({"sip2": {"encoding": "gb18030", "accounts": [
        {"user": "sc1", "password": "pw", "institution": "XW01", "location": "gate"}]}})
    assert settings.encoding == "gb18030"
    assert settings.accounts[0].institution == "XW01"
    assert sip2_settings({}).accounts == ()


@pytest.mark.parametrize(("table", "setting"), [
    ({"sip2": "x"}, "sip2"),
    ({"sip2": {"encoding": "klingon"}}, "sip2.encoding"),
    ({"sip2": {"language": "fr"}}, "sip2.language"),
    ({"sip2": {"idle_timeout_s": 0}}, "sip2.idle_timeout_s"),
    ({"sip2": {"accounts": {"user": "a"}}}, "sip2.accounts"),
    ({"sip2": {"accounts": [{"user": "a", "password": "b"}]}}, "sip2.accounts[0].institution"),
    ({"sip2": {"accounts": [{"user": "a|b", "password": "b", "institution": "X"}]}}, "sip2.accounts[0].user"),
    ({"sip2": {"accounts": [{"user": "a", "password": "b", "institution": "X"},
                            {"user": "a", "password": "c", "institution": "X"}]}}, "sip2.accounts[1].user"),
])
def test_settings_errors_name_the_key(table: dict[str, object], setting: str) -> None:
    with pytest.raises(ConfigError) as info:
        sip2_settings(table)
    assert info.value.setting == setting


def test_probe_reports_status(served: Served) -> None:
    url = f"sip2://sc1:pw1@127.0.0.1:{served.server.port}/XW01"
    result = CliRunner().invoke(app, ["sip2", "probe", "--url", url, "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert status["online"] is True and status["supported"] == "YYYNYYYYYNYNNNYY"


def test_probe_wrong_password_fails_in_one_line(served: Served) -> None:
    url = f"sip2://sc1:bad@127.0.0.1:{served.server.port}/XW01"
    result = CliRunner().invoke(app, ["sip2", "probe", "--url", url])
    assert result.exit_code == 1
    assert "login refused" in result.output


def test_probe_bad_url() -> None:
    result = CliRunner().invoke(app, ["sip2", "probe", "--url", "http://x"])
    assert result.exit_code == 1


def test_serve_without_accounts_refuses_to_start(kiosk_env: Path) -> None:
    result = CliRunner().invoke(app, ["sip2", "serve", "--port", "0"])
    assert result.exit_code == 1
    assert "sip2.accounts" in result.output
