"""`simulate-day` on both databases: random visits, real drivers with wire faults, invariants hold."""

from __future__ import annotations

import json

from sqlalchemy import select, update
from typer.testing import CliRunner

from catalog.db import Database
from catalog.model import Item, ItemStatus
from kiosk.cli import app
from kiosk.lending.policy import LendingPolicy
from kiosk.simulate_day import check_invariants, simulate_day


def test_a_simulated_day_keeps_every_invariant(database: Database, secret: bytes) -> None:
    summary = simulate_day(database, secret, sessions=80, seed=7, titles=120, residents=20, device_every=10)
    assert summary.violations == []
    assert summary.device_events_missed == 0
    assert summary.device_sessions == 8 and sum(summary.faults_injected.values()) > 0
    assert summary.loans > 0 and summary.returns > 0


def test_invariant_check_catches_an_item_marked_on_loan_without_a_loan(database: Database, secret: bytes) -> None:
    simulate_day(database, secret, sessions=5, seed=1, titles=20, residents=5, device_every=0)
    with database.unit_of_work() as s:
        free = s.scalars(select(Item.id).where(Item.status == ItemStatus.AVAILABLE).limit(1)).one()
        s.execute(update(Item).where(Item.id == free).values(status=ItemStatus.ON_LOAN))
    problems = check_invariants(database, LendingPolicy())
    assert problems, "a corrupted item status must be reported"


def test_simulate_day_cli_prints_a_json_summary() -> None:
    result = CliRunner().invoke(app, ["simulate-day", "--sessions", "30", "--seed", "2", "--device-every", "0",
                                      "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["ok"] and summary["sessions"] == 30
