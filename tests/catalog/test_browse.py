from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from catalog.db import Database
from catalog.demo import DemoReport
from catalog.model import Announcement, Branch, Item, Loan
from kiosk.browse import BranchNotFound, Browser
from tests.catalog.conftest import NOW, SmallCatalog


def test_categories_list_every_category_with_counts(database: Database, demo: DemoReport) -> None:
    categories = Browser(database, "DEMO").categories()
    assert [c.code for c in categories] == ["party", "economy", "military_politics", "history_geography",
                                            "culture_art", "literature", "children", "science", "life"]
    assert sum(c.titles for c in categories) == 180
    assert all(0 < c.available <= c.titles for c in categories)
    assert categories[0].name == "党建"


def test_search_and_category_listing(database: Database, demo: DemoReport) -> None:
    browser = Browser(database, "DEMO")
    page = browser.search("hlm")
    assert page.hits[0].title == "红楼梦" and page.hits[0].category == "literature"
    assert page.hits[0].shelf_locations and page.hits[0].shelf_locations[0].startswith("F区")
    listing = browser.search("", category="party", limit=5)
    assert len(listing.hits) == 5 and listing.total == browser.categories()[0].titles
    assert all(h.category == "party" for h in listing.hits)
    second = browser.search("", category="party", limit=5, offset=5)
    assert not {h.title_id for h in listing.hits} & {h.title_id for h in second.hits}


def test_title_detail_shows_copies_and_due_dates(database: Database, small_catalog: SmallCatalog) -> None:
    due = NOW + timedelta(days=30)
    with database.unit_of_work() as s:
        lent = s.query(Item).filter_by(barcode="TS0000002").one()
        s.add(Loan(item_id=lent.id, branch_id=small_catalog.branch_id, kiosk_id="k1", due_at=due))
    detail = Browser(database, "B1").title_detail(small_catalog.ids["hlm"])
    assert detail is not None
    assert (detail.hit.copies, detail.hit.available, detail.clc_class) == (2, 1, "I242.4")
    by_barcode = {c.barcode: c for c in detail.copies}
    assert by_barcode["TS0000002"].status == "on_loan" and by_barcode["TS0000002"].due_at == due
    assert by_barcode["TS0000001"].due_at is None and by_barcode["TS0000001"].branch_name == "锁金村书房"
    assert Browser(database, "B1").title_detail(999_999) is None


def test_branch_info_from_the_database(database: Database, demo: DemoReport) -> None:
    with database.unit_of_work() as s:
        s.add(Announcement(branch_id=demo.branch_id, text="已过期", text_en="expired",
                           ends_at=NOW - timedelta(days=1)))
        s.add(Announcement(branch_id=demo.branch_id, text="未开始", text_en="not yet",
                           starts_at=NOW + timedelta(days=1)))
    info = Browser(database, "DEMO").branch_info(NOW)
    assert "锁金村" in info.name and info.name_en and info.address and info.phone
    assert [h.weekday for h in info.hours] == list(range(7))
    assert all(h.spans == (("00:00", "24:00"),) for h in info.hours)
    assert "8:30" in info.hours_note
    assert ("党员活动室", "组织生活会、主题党日，可预约使用") in info.rooms
    assert info.services and info.contact and len(info.nearby) >= 3 and info.nearby[0].address
    assert info.events and all(e.starts_at > NOW for e in info.events)
    assert [e.starts_at for e in info.events] == sorted(e.starts_at for e in info.events)
    texts = [zh for zh, _en in info.announcements]
    assert "本周新到图书120册，欢迎借阅" in texts and "已过期" not in texts and "未开始" not in texts
    assert info.timezone == "Asia/Shanghai" and info.capacity == 40
    # English for every room, service, nearby center, the hours note, the contact line and each event's room.
    assert len(info.rooms_en) == len(info.rooms) and all(name and text for name, text in info.rooms_en)
    assert len(info.services_en) == len(info.services) and all(name and text for name, text in info.services_en)
    assert info.hours_note_en and info.contact_en and all(c.name_en and c.address_en for c in info.nearby)
    assert all(e.room_en for e in info.events)


def test_branch_info_copes_with_sparse_content(database: Database) -> None:
    with database.unit_of_work() as s:
        s.add(Branch(code="NEW", name="新书房", hours={"sat": [["09:00", "17:00"]]},
                     content={"rooms": [["阅览室", "安静"], "讲堂"], "nearby": [{"name": "x"}, "bad"]}))
    info = Browser(database, "NEW").branch_info(datetime.now(UTC))
    assert info.hours[5].spans == (("09:00", "17:00"),) and info.hours[0].spans == ()
    assert info.rooms == (("阅览室", "安静"), ("讲堂", "")) and info.rooms_en == (("", ""), ("", ""))
    assert info.nearby[0].name == "x" and info.nearby[0].distance_km is None
    assert info.events == () and info.announcements == ()


def test_audio_books_and_unknown_branch(database: Database, demo: DemoReport) -> None:
    books = Browser(database, "DEMO").audio_books()
    assert books and all(b.url.startswith("https://") for b in books)
    with pytest.raises(BranchNotFound):
        Browser(database, "NOPE").categories()
    with pytest.raises(BranchNotFound):
        Browser(database, "NOPE").branch_info(NOW)


def test_browser_search_ranks_filters_and_handles_first_letters(database: Database,
                                                                small_catalog: SmallCatalog) -> None:
    browser = Browser(database, "B1")
    assert [h.title for h in browser.search("曹雪芹").hits] == ["曹雪芹传", "红楼梦"]
    assert [h.title for h in browser.search("h").hits] == ["红楼梦"]  # 红色家风故事 stands in another branch
    assert [h.title for h in browser.search("c", category="history_geography").hits] == ["曹雪芹传"]
    assert browser.search("！？").total == 0
    assert [h.title for h in Browser(database, "B2").search("hs").hits] == ["红色家风故事"]
    page = browser.search("", limit=2)
    assert page.total == 5 and len(page.hits) == 2
    history = browser.search("历史")
    assert history.hits[0].title == "中国历史十五讲" and history.hits[0].copies == 1
