"""`kiosk doctor` against real simulators and real (missing) ports."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kiosk.cli import app


def _config(tmp_path: Path, database_url: str, devices: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(f'data_dir = "{tmp_path / "data"}"\n[database]\nurl = "{database_url}"\nauto_migrate = true\n'
                    f"[devices]\n{devices}\n", encoding="utf-8")
    return path


def test_doctor_is_green_with_answering_simulators(kiosk_env: Path, database_url: str, tmp_path: Path) -> None:
    config = _config(tmp_path, database_url,
                     'idcard = "sim:idcard?name=doc-id"\nscanner = "sim:scanner?name=doc-scan"\n'
                     'printer = "sim:printer?name=doc-print"')
    (tmp_path / "data").mkdir()
    from kiosk.secret import create_secret

    create_secret(tmp_path / "data" / "network.secret")
    result = CliRunner().invoke(app, ["doctor", "--config", str(config), "--json"])
    report = json.loads(result.stdout)
    failed = [c for c in report["checks"] if not c["ok"]]
    assert result.exit_code == 0 and report["ready"], failed
    names = {c["name"] for c in report["checks"]}
    assert {"config", "database", "secret", "font", "device idcard", "device scanner", "device printer"} <= names


def test_doctor_fails_and_names_a_missing_reader(kiosk_env: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, f"sqlite:///{tmp_path / 'k.sqlite3'}",
                     'idcard = "/dev/does-not-exist-idcard"\nscanner = "sim:scanner?name=doc-scan2"')
    result = CliRunner().invoke(app, ["doctor", "--config", str(config), "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and not report["ready"]
    idcard = next(c for c in report["checks"] if c["name"] == "device idcard")
    assert not idcard["ok"] and "/dev/does-not-exist-idcard" in idcard["detail"]


def test_doctor_reports_an_unreachable_database_without_its_password(kiosk_env: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, "postgresql+psycopg://kiosk:hunter2@127.0.0.1:1/kiosk",
                     'scanner = "sim:scanner?name=doc-scan3"')
    result = CliRunner().invoke(app, ["doctor", "--config", str(config), "--json"])
    assert result.exit_code == 1
    assert "hunter2" not in result.stdout
    database = next(c for c in json.loads(result.stdout)["checks"] if c["name"] == "database")
    assert not database["ok"] and "unreachable" in database["detail"] and "***" in database["detail"]
