from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from catalog import isbn
from catalog.clc import CATEGORIES
from catalog.db import Database
from catalog.demo import DemoReport, DemoResident, generate_titles, load_demo
from catalog.model import Announcement, AudioBook, Branch, BranchEvent, Item, ItemStatus, Patron, Title
from catalog.search import search_catalog
from tests.catalog.conftest import NOW


def _count(db: Database, model: type) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_generated_titles_are_valid_deterministic_and_cover_every_category() -> None:
    first = list(generate_titles(400))
    assert [t.isbn13 for t in first[:100]] == [t.isbn13 for t in generate_titles(100)]
    assert len({t.isbn13 for t in first}) == 400
    assert all(t.isbn13.startswith("9787") and isbn.is_valid(t.isbn13) for t in first)
    assert {t.category for t in first} == {c.code for c in CATEGORIES}
    assert all(1 <= t.copies <= 3 and t.call_number.startswith(t.clc_class + "/") for t in first)
    assert any(t.title == "红楼梦" and t.authors == "曹雪芹 著" for t in first)


def test_demo_builds_a_branch_with_catalog_copies_and_content(database: Database, demo: DemoReport) -> None:
    assert demo.branch_created and demo.titles_added == 180 and demo.items_added >= 180
    assert _count(database, Title) == 180
    with database.read() as s:
        branch = s.scalars(select(Branch)).one()
        assert branch.code == "DEMO" and "24小时智慧书房" in branch.name
        assert branch.hours["mon"] == [["00:00", "24:00"]] and branch.hours["note"]
        assert {r["name"] for r in branch.content["rooms"]} >= {"党员活动室", "儿童之家", "老年人服务站"}
        assert len(branch.content["nearby"]) >= 3
        statuses = set(s.scalars(select(Item.status)))
        barcodes = list(s.scalars(select(Item.barcode)))
        events = s.scalars(select(BranchEvent)).all()
    assert {ItemStatus.AVAILABLE, ItemStatus.REFERENCE_ONLY, ItemStatus.IN_REPAIR} <= statuses
    assert all(b.startswith("TS") and len(b) == 9 and b[2:].isdigit() for b in barcodes)
    assert {"国学讲堂", "读书会"} <= {word for e in events for word in ("国学讲堂", "读书会") if word in e.title}
    assert all(e.starts_at > NOW for e in events)
    assert _count(database, Announcement) == 3 and _count(database, AudioBook) >= 5
    with database.read() as s:
        assert search_catalog(s, "hlm").hits[0].title == "红楼梦"


def test_demo_is_idempotent_and_extends(database: Database, demo: DemoReport) -> None:
    items = _count(database, Item)
    again = load_demo(database, titles=180, now=NOW)
    assert (again.branch_created, again.titles_added, again.titles_existing, again.items_added) == (False, 0, 180, 0)
    assert (again.events, again.announcements, again.audio_books) == (0, 0, 0)
    assert _count(database, Item) == items and _count(database, BranchEvent) == demo.events
    more = load_demo(database, titles=200, now=NOW)
    assert (more.titles_added, more.titles_existing) == (20, 180)
    assert _count(database, Title) == 200


def test_demo_residents_are_stored_as_keys_and_masks_only(database: Database) -> None:
    resident = DemoResident("id_card", "a" * 64, "3201**********0629", "李**", None)
    report = load_demo(database, titles=0, residents=[resident], now=NOW)
    assert report.patrons_added == 1
    assert load_demo(database, titles=0, residents=[resident], now=NOW).patrons_added == 0
    with database.read() as s:
        patron = s.scalars(select(Patron)).one()
    assert (patron.card_key, patron.masked_card, patron.display_name) == ("a" * 64, "3201**********0629", "李**")
    assert patron.consent_at == NOW and patron.status == "active"


def test_past_events_move_to_their_next_date(database: Database, demo: DemoReport) -> None:
    later = datetime(2027, 3, 1, tzinfo=UTC)
    load_demo(database, titles=0, now=later)
    with database.read() as s:
        assert all(e.ends_at > later for e in s.scalars(select(BranchEvent)))
    assert _count(database, BranchEvent) == demo.events
