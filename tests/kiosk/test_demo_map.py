"""The demo branch gets a location map for its About screen, drawn once into the data dir, never over a
librarian's own image."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from catalog.db import Database
from catalog.model import Branch
from kiosk.browse import Browser
from kiosk.config import DatabaseSettings, load_settings
from kiosk.demo import demo_settings, ensure_demo_data, ensure_demo_map


def test_the_demo_branch_shows_a_map_and_a_librarians_own_image_wins(kiosk_env: Path, database_url: str) -> None:
    base = load_settings()
    settings = demo_settings(replace(base, kiosk=replace(base.kiosk, demo_data_titles=20)), headless=True)
    settings = replace(settings, database=DatabaseSettings(url=database_url))
    ensure_demo_data(settings)
    db = Database.from_url(database_url)
    try:
        info = Browser(db, branch_code=settings.kiosk.branch).branch_info()
        assert info.map_image == str(settings.data_dir / "demo-map.png")
        with Image.open(info.map_image) as image:
            assert image.size == (900, 600)
            assert len(set(image.convert("L").getdata())) > 20  # drawn streets and CJK labels, not a blank page
        ensure_demo_data(settings)  # a second start changes nothing
        assert Browser(db, branch_code=settings.kiosk.branch).branch_info().map_image == info.map_image

        with db.unit_of_work() as s:
            branch = s.scalars(select(Branch).where(Branch.code == settings.kiosk.branch)).one()
            branch.content = {**branch.content, "map_image": "/srv/room/plan.png"}
        ensure_demo_map(db, settings)
        assert Browser(db, branch_code=settings.kiosk.branch).branch_info().map_image == "/srv/room/plan.png"
    finally:
        db.dispose()
