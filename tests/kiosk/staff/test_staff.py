"""Staff accounts: hashing, lockout that survives restarts, card-bound login, and the CLI with its errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from typer.testing import CliRunner

from catalog.db import Database
from catalog.model import Staff
from kiosk.cli import app
from kiosk.lending.errors import Refusal
from kiosk.staff_accounts import MAX_FAILURES, StaffDirectory, StaffError, staff_card_key

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_pin_is_hashed_and_login_needs_the_card(database: Database, secret: bytes) -> None:
    staff = StaffDirectory(database, hasher=FAST)
    key = staff_card_key(secret, card_number="S0001")
    staff.add("wang", "2468", display_name="王老师", card_key_value=key)
    with database.read() as s:
        stored = s.scalars(select(Staff.secret_hash)).one()
    assert "2468" not in stored and stored.startswith("$argon2")
    assert staff.is_staff_card(key)
    assert staff.login("2468", key) == "王老师"
    with pytest.raises(Refusal) as no_card:
        staff.login("2468", None)
    assert no_card.value.key == "staff.card_first"


def test_lockout_after_repeated_failures_survives_a_restart(database: Database, secret: bytes) -> None:
    clock = Clock()
    key = staff_card_key(secret, card_number="S0002")
    StaffDirectory(database, hasher=FAST, clock=clock).add("li", "1357", card_key_value=key)
    for attempt in range(1, MAX_FAILURES):
        with pytest.raises(Refusal) as wrong:
            StaffDirectory(database, hasher=FAST, clock=clock).login("0000", key)
        assert wrong.value.params == {"left": MAX_FAILURES - attempt}
    with pytest.raises(Refusal) as locked:
        StaffDirectory(database, hasher=FAST, clock=clock).login("0000", key)
    assert locked.value.key == "staff.locked"
    # A new directory (a restarted kiosk) still refuses, even the right PIN, until the lock expires.
    with pytest.raises(Refusal):
        StaffDirectory(database, hasher=FAST, clock=clock).login("1357", key)
    clock.now += timedelta(minutes=16)
    assert StaffDirectory(database, hasher=FAST, clock=clock).login("1357", key) == "li"


@pytest.mark.parametrize("pin", ["12", "1111", "1234", "9876"])
def test_weak_pins_are_refused(database: Database, pin: str) -> None:
    with pytest.raises(StaffError):
        StaffDirectory(database, hasher=FAST).add("zhao", pin)


def test_removed_staff_cannot_log_in(database: Database, secret: bytes) -> None:
    staff = StaffDirectory(database, hasher=FAST)
    key = staff_card_key(secret, card_number="S0003")
    staff.add("sun", "2580", card_key_value=key)
    staff.remove("sun")
    assert not staff.is_staff_card(key)
    with pytest.raises(Refusal):
        staff.login("2580", key)
    with pytest.raises(StaffError):
        staff.remove("nobody")


def test_staff_cli_add_list_passwd_remove(kiosk_env: Path) -> None:
    runner = CliRunner()
    added = runner.invoke(app, ["staff", "add", "zhou", "--name", "周老师", "--card-number", "S9", "--pin-stdin"],
                          input="4826\n")
    assert added.exit_code == 0, added.output
    duplicate = runner.invoke(app, ["staff", "add", "zhou", "--pin-stdin"], input="4826\n")
    assert duplicate.exit_code == 1 and "exists already" in duplicate.output
    weak = runner.invoke(app, ["staff", "add", "wu", "--pin-stdin"], input="1111\n")
    assert weak.exit_code == 1 and "too easy" in weak.output
    listed = runner.invoke(app, ["staff", "list", "--json"])
    assert '"username": "zhou"' in listed.stdout and '"has_card": true' in listed.stdout
    assert runner.invoke(app, ["staff", "passwd", "zhou", "--pin-stdin"], input="5937\n").exit_code == 0
    assert runner.invoke(app, ["staff", "remove", "zhou"]).exit_code == 0
    missing = runner.invoke(app, ["staff", "passwd", "ghost", "--pin-stdin"], input="5937\n")
    assert missing.exit_code == 1 and "no staff member" in missing.output
