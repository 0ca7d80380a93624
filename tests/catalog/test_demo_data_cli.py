from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from catalog.db import Database
from catalog.model import Patron
from devices.idcard.demo_cards import DEMO_CARDS
from devices.identity import person_key
from kiosk.cli import app
from kiosk.secret import read_secret


@pytest.fixture
def cli_env(kiosk_env: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KIOSK_DATABASE_URL", database_url)
    secret_file = kiosk_env / "network.secret"
    monkeypatch.setenv("KIOSK_SECRET_FILE", str(secret_file))
    from kiosk.secret import create_secret

    create_secret(secret_file)
    return secret_file


def test_demo_data_command_registers_residents_by_key(cli_env: Path, database_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["demo-data", "--titles", "60", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["titles_added"] == 60 and report["patrons_added"] == len(DEMO_CARDS)
    again = json.loads(runner.invoke(app, ["demo-data", "--titles", "60", "--json"]).output)
    assert again["titles_added"] == 0 and again["patrons_added"] == 0
    secret = read_secret(cli_env)
    db = Database.from_url(database_url)
    try:
        with db.read() as s:
            patrons = s.scalars(select(Patron).order_by(Patron.id)).all()
    finally:
        db.dispose()
    assert [p.card_key for p in patrons] == [person_key(secret, c.id_number) for c in DEMO_CARDS]
    for patron, card in zip(patrons, DEMO_CARDS, strict=True):
        assert card.id_number not in (patron.masked_card + patron.display_name + patron.note)
        assert card.name not in patron.display_name and patron.display_name.startswith(card.name[0])
        assert patron.card_valid_until == card.valid_to and patron.consent_at is not None


def test_demo_data_human_output_and_branch_option(cli_env: Path) -> None:
    result = CliRunner().invoke(app, ["demo-data", "--titles", "5", "--branch", "SJC"])
    assert result.exit_code == 0, result.output
    assert "branch SJC: created" in result.output and "5 added" in result.output


def test_demo_data_refuses_an_unreachable_database(kiosk_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSK_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    result = CliRunner().invoke(app, ["demo-data", "--titles", "5"])
    assert result.exit_code != 0
    assert "cannot reach the database" in result.output
