"""`kiosk exceptions list|resolve` and the journal backlog in `kiosk doctor`, on a real database and journal."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kiosk.cli import app
from kiosk.config import load_settings
from kiosk.doctor import check_offline_journal
from tests.kiosk.offline.conftest import OfflineRoom


def _config(tmp_path: Path, url: str, journal: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(f'data_dir = "{tmp_path / "data"}"\n[database]\nurl = "{url}"\n'
                    f'[kiosk]\nbranch = "XW01"\nlanguage = "en"\n'
                    f'[offline]\nenabled = true\njournal = "{journal}"\nalert_backlog = 2\n', encoding="utf-8")
    return path


def test_exceptions_are_listed_and_resolved_once(offline_room: OfflineRoom, database_url: str, tmp_path: Path,
                                                 kiosk_env: Path) -> None:
    r = offline_room
    config = _config(tmp_path, database_url, r.journal_path)
    r.link.pull()
    r.circ.checkout(r.room.patron_id, "TS0000002")
    r.circ.checkout(r.room.patron_id, "TS0000003")
    doctor = check_offline_journal(load_settings(config))
    assert not doctor.ok and doctor.data["pending"] == 2  # at the alert threshold: doctor says so
    r.room.circ.checkout(r.room.other_patron_id, "TS0000002")
    r.link.restore()
    assert r.circ.replay_now().exceptions == 1
    assert check_offline_journal(load_settings(config)).ok

    runner = CliRunner()
    listed = runner.invoke(app, ["exceptions", "list", "--config", str(config), "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(row["barcode"], row["reason"]) for row in rows] == [("TS0000002", "exception.on_loan_elsewhere")]
    text = runner.invoke(app, ["exceptions", "list", "--config", str(config)], env={"COLUMNS": "200"})
    assert "lent to someone else" in text.stdout
    done = runner.invoke(app, ["exceptions", "resolve", str(rows[0]["id"]), "--by", "wang", "--note", "on shelf",
                               "--config", str(config)])
    assert done.exit_code == 0, done.output
    again = runner.invoke(app, ["exceptions", "resolve", str(rows[0]["id"]), "--by", "li", "--config", str(config)])
    assert again.exit_code == 1 and "resolved already" in again.stderr
    missing = runner.invoke(app, ["exceptions", "resolve", "999", "--by", "li", "--config", str(config)])
    assert missing.exit_code == 1 and "no exception 999" in missing.stderr
    assert json.loads(runner.invoke(app, ["exceptions", "list", "--config", str(config), "--json"]).stdout) == []
    everything = json.loads(runner.invoke(app, ["exceptions", "list", "--all", "--config", str(config),
                                                "--json"]).stdout)
    assert everything[0]["resolved_by"] == "wang" and everything[0]["resolution"] == "on shelf"


def test_doctor_reports_an_unreadable_journal_instead_of_an_empty_one(tmp_path: Path, kiosk_env: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    journal.write_bytes(b"not a journal at all, the disk returned garbage" * 100)
    check = check_offline_journal(load_settings(_config(tmp_path, "postgresql+psycopg://x@127.0.0.1/x", journal)))
    assert not check.ok and "unreadable" in check.detail
