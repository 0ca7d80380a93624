"""The commands an installer runs: `kiosk alerts test`, `kiosk db backup|restore`, `kiosk ops harden|disk`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from kiosk.cli import app
from tests.kiosk.ops.conftest import WebhookServer

runner = CliRunner()


def write_config(tmp_path: Path, body: str) -> str:
    path = tmp_path / "kiosk.toml"
    path.write_text(body, encoding="utf-8")
    return str(path)


def test_alerts_test_delivers_and_reports(kiosk_env: Path, tmp_path: Path, webhook: WebhookServer) -> None:
    config = write_config(tmp_path, f'[alerts]\nwebhook_url = "{webhook.url}"\n')
    result = runner.invoke(app, ["alerts", "test", "-c", config])
    assert result.exit_code == 0, result.output
    assert "webhook: delivered" in result.output
    (message,) = webhook.wait_for(1)
    assert message["kind"] == "test"
    status = runner.invoke(app, ["alerts", "status", "-c", config, "--json"])
    assert json.loads(status.output) == {"conditions": [], "pending": []}


def test_alerts_test_fails_clearly(kiosk_env: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["alerts", "test", "-c", write_config(tmp_path, "")])
    assert result.exit_code == 1 and "no alert channel configured" in result.output
    bad = write_config(tmp_path, '[alerts]\nwebhook_url = "http://127.0.0.1:9/x"\nwebhook_timeout_s = 2\n')
    result = runner.invoke(app, ["alerts", "test", "-c", bad])
    assert result.exit_code == 1 and "webhook: FAILED" in result.output


def test_db_backup_and_restore_commands(kiosk_env: Path, tmp_path: Path, _sqlite_template: Path) -> None:
    kiosk_env.mkdir(parents=True)
    shutil.copyfile(_sqlite_template, kiosk_env / "kiosk.sqlite3")
    assert runner.invoke(app, ["secret", "init"]).exit_code == 0
    out = tmp_path / "nightly.tar.gz"
    made = runner.invoke(app, ["db", "backup", "--out", str(out), "--json"])
    assert made.exit_code == 0, made.output
    summary = json.loads(made.output)
    assert summary["backend"] == "sqlite" and "network.secret" in summary["files"]
    restored = runner.invoke(app, ["db", "restore", str(out)])
    assert restored.exit_code == 0, restored.output
    assert "network secret: unchanged" in restored.output
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a tar")
    refused = runner.invoke(app, ["db", "restore", str(broken)])
    assert refused.exit_code == 1 and "restore refused" in refused.output


def test_ops_harden_and_disk(kiosk_env: Path) -> None:
    kiosk_env.mkdir(mode=0o755)
    result = runner.invoke(app, ["ops", "harden"])
    assert result.exit_code == 0 and "tightened 1 path" in result.output
    disk = runner.invoke(app, ["ops", "disk", "--json"])
    assert disk.exit_code in (0, 1) and "free_mb" in json.loads(disk.output)
