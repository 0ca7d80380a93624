"""`kiosk patrons forget` leaves no identity behind: no row of any table leads back to the person afterwards.

A resident consents at the kiosk, borrows, returns, rates; then the librarian runs `patrons forget` with the ID
number the resident shows at the desk. Every table is then dumped and searched for the card key (the HMAC of the
number), the masked number, the masked name, the raw number and name; the number no longer finds anyone, and the
same card at the kiosk is a stranger again (asked for consent), not the old account.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from typer.testing import CliRunner

from catalog.db import Database
from catalog.demo import load_demo
from catalog.model import Item, ItemStatus, Loan
from devices.events import CardKind, CardPresented
from devices.identity import mask_id_number, mask_name, person_key
from kiosk.cli import app
from kiosk.lending.policy import LendingPolicy
from kiosk.lending.service import Circulation
from kiosk.secret import create_secret
from kiosk.session.view import Screen
from kiosk.session.visit import VisitMachine

ID_NUMBER = "320102198503120629"
NAME = "李秀英"


def _dump(db: Database) -> str:
    rows: list[str] = []
    with db.engine.connect() as conn:
        for table in inspect(db.engine).get_table_names():
            rows += [repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table}"'))]
    return "\n".join(rows)


def test_forget_leaves_no_identity_in_any_table(kiosk_env: Path, database_url: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSK_DATABASE_URL", database_url)
    monkeypatch.setenv("KIOSK_KIOSK_BRANCH", "FG")
    secret_file = kiosk_env / "network.secret"
    monkeypatch.setenv("KIOSK_SECRET_FILE", str(secret_file))
    secret = create_secret(secret_file)
    db = Database.from_url(database_url)
    try:
        load_demo(db, titles=12, branch_code="FG", seed=3)
        machine = VisitMachine(Circulation(db, branch_code="FG", kiosk_id="forget-test",
                                           network_policy=LendingPolicy()), idle_timeout_s=60, idle_warning_s=15)
        key = person_key(secret, ID_NUMBER)
        card = CardPresented("idcard", CardKind.ID_CARD, key, mask_id_number(ID_NUMBER), mask_name(NAME), None, False)
        with db.read() as s:
            barcode = s.scalars(select(Item.barcode).where(Item.status == ItemStatus.AVAILABLE).limit(1)).one()
        machine.card(card)
        assert machine.view.screen == Screen.CONSENT
        machine.accept_consent()
        machine.scan(barcode)
        machine.finish()
        machine.choose_receipt("none")
        machine.rate("good")
        machine.scan(barcode)  # returned at the self-check-in in attract
        machine.cancel()
        before = _dump(db)
        assert key in before and mask_name(NAME) in before, "the visit must have stored the patron to mean anything"

        runner = CliRunner()
        result = runner.invoke(app, ["patrons", "forget", ID_NUMBER, "--yes", "--json"])
        assert result.exit_code == 0, result.output
        after = _dump(db)
        for trace in (key, mask_id_number(ID_NUMBER), mask_name(NAME), ID_NUMBER, NAME):
            assert trace not in after, f"{trace!r} is still stored"
        with db.read() as s:
            loans = s.scalars(select(Loan)).all()
        assert len(loans) == 1 and loans[0].patron_id is None and loans[0].returned_at is not None
        assert runner.invoke(app, ["patrons", "block", ID_NUMBER]).exit_code == 1  # the number finds nobody

        machine.card(card)
        assert machine.view.screen == Screen.CONSENT, "the same card is a stranger again"
    finally:
        db.dispose()
