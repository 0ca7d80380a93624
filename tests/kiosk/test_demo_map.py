"""The demo branch gets a location map in Chinese and in English for its About screen, drawn once into the data
dir, never over a librarian's own image."""

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
        assert info.map_image_en == str(settings.data_dir / "demo-map-en.png")
        pixels = []
        for path in (info.map_image, info.map_image_en):
            with Image.open(path) as image:
                assert image.size == (900, 600)
                pixels.append(list(image.convert("L").getdata()))
                assert len(set(pixels[-1])) > 20  # drawn streets and labels, not a blank page
        assert pixels[0] != pixels[1]  # labelled differently
        ensure_demo_data(settings)  # a second start changes nothing
        again = Browser(db, branch_code=settings.kiosk.branch).branch_info()
        assert (again.map_image, again.map_image_en) == (info.map_image, info.map_image_en)

        with db.unit_of_work() as s:
            branch = s.scalars(select(Branch).where(Branch.code == settings.kiosk.branch)).one()
            branch.content = {**branch.content, "map_image": "/srv/room/plan.png"}
        ensure_demo_map(db, settings)
        own = Browser(db, branch_code=settings.kiosk.branch).branch_info()
        # The librarian's plan wins, and the demo's English map (of another place) no longer stands in for it.
        assert (own.map_image, own.map_image_en) == ("/srv/room/plan.png", "")
        with db.unit_of_work() as s:
            branch = s.scalars(select(Branch).where(Branch.code == settings.kiosk.branch)).one()
            branch.content = {**branch.content, "map_image": info.map_image, "map_image_en": "/srv/room/plan-en.png"}
        ensure_demo_map(db, settings)
        mixed = Browser(db, branch_code=settings.kiosk.branch).branch_info()
        # Only an English plan of their own: the demo's Chinese map (of another place) goes; the screen shows theirs.
        assert (mixed.map_image, mixed.map_image_en) == ("", "/srv/room/plan-en.png")
    finally:
        db.dispose()
