"""The product end to end: card on the simulated reader → book on the simulated scanner → committed loan → screen.

Runs `kiosk demo --scenario first-loan` in a child process (Kivy allows one App per process) on each database,
and checks what it wrote: a screenshot per step, and the loan in the database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog.db import Database
from catalog.model import AuditEntry, Loan

pytestmark = pytest.mark.ui


def test_first_loan_scenario(database_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(KIOSK_DATA_DIR=str(tmp_path / "data"), KIOSK_KIOSK_DEMO_DATA_TITLES="300", SDL_VIDEODRIVER="offscreen",
               KIVY_NO_ARGS="1")
    shots = tmp_path / "shots"
    run = subprocess.run(
        [sys.executable, "-m", "kiosk", "demo", "--scenario", "first-loan", "--headless",
         "--screenshots", str(shots), "--database-url", database_url],
        env=env, capture_output=True, text=True, timeout=240, check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "first-loan scenario passed" in run.stdout
    names = sorted(p.name for p in shots.glob("*.png"))
    assert names == ["01-attract.png", "02-welcome.png", "03-lent.png", "04-receipt-choice.png", "05-receipt.png",
                     "06-rating.png", "07-goodbye.png"]
    assert all(p.stat().st_size > 10_000 for p in shots.glob("*.png"))
    db = Database.from_url(database_url)
    try:
        with db.read() as s:
            assert s.scalar(select(func.count()).select_from(Loan).where(Loan.returned_at.is_(None))) == 1
            actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions[-1] == "checkout" or "checkout" in actions
    finally:
        db.dispose()
    # Nothing personal may reach the log: the demo resident's ID number and name never appear.
    from devices.idcard.demo_cards import DEMO_CARDS

    for card in DEMO_CARDS:
        assert card.id_number not in run.stdout + run.stderr
        assert card.name not in run.stdout + run.stderr
