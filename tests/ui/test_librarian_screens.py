"""Librarian panels on the real app over the real session and database: staff card + PIN, then the overdue list,
the traffic dashboard ("no data yet" first, then numbers and a chart) and item status by scanning, at 1280×800 and
1080×1920. Screenshots go to $LIBRARIAN_SHOTS when it is set (for looking at them)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from catalog.db import Database
from catalog.model import Announcement, AuditEntry, Item, ItemStatus, Loan, Title

pytestmark = pytest.mark.ui
STAFF_KEY = "f" * 64


@pytest.fixture
def staff_runner(kiosk_ui: Any, database: Database) -> Iterator[Any]:
    from catalog.demo import DemoResident, load_demo
    from kiosk.lending.policy import LendingPolicy
    from kiosk.lending.service import Circulation
    from kiosk.librarian import Librarian
    from kiosk.session.runner import SessionRunner
    from kiosk.session.visit import VisitMachine
    from kiosk.staff_accounts import StaffDirectory

    resident = DemoResident(card_kind="id_card", card_key="a" * 64, masked_card="3201**********1234",
                            display_name="张*", valid_until=None)
    load_demo(database, titles=12, branch_code="DEMO", residents=[resident])
    long_ago = datetime.now(UTC) - timedelta(days=60)
    old = Circulation(database, branch_code="DEMO", kiosk_id="ui-test", network_policy=LendingPolicy(),
                      clock=lambda: long_ago)
    patron_id = old.find_patron(resident.card_key)
    assert patron_id is not None
    with database.read() as s:
        barcodes = list(s.scalars(select(Item.barcode).where(Item.status == ItemStatus.AVAILABLE.value)
                                  .order_by(Item.barcode).limit(3)))
    for barcode in barcodes[:2]:
        old.checkout(patron_id, barcode)
    staff = StaffDirectory(database, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    staff.add("wang", "2468", display_name="王老师", card_key_value=STAFF_KEY)
    circulation = Circulation(database, branch_code="DEMO", kiosk_id="ui-test", network_policy=LendingPolicy())
    librarian = Librarian(database, branch_code="DEMO", kiosk_id="ui-test")
    session = SessionRunner(VisitMachine(circulation, idle_timeout_s=600, idle_warning_s=15, staff=staff,
                                         librarian=librarian))
    session.start()
    kiosk_ui.app.attach(session)
    kiosk_ui.session_runner = session
    kiosk_ui.lent, kiosk_ui.free = barcodes[:2], barcodes[2]
    try:
        yield session
    finally:
        kiosk_ui.app.lang, kiosk_ui.app.elder = "zh_CN", False
        kiosk_ui.set_size(1280, 800)
        session.stop()


def _shot(h: Any, name: str) -> None:
    folder = os.environ.get("LIBRARIAN_SHOTS")
    if folder:
        h.screenshot(Path(folder) / f"{name}.png")


def _sign_in(h: Any, runner: Any) -> None:
    from devices.events import CardKind, CardPresented

    runner.post(CardPresented(device="card", kind=CardKind.LIBRARY_CARD, key=STAFF_KEY, masked_number="****",
                              display_name="王*", valid_until=None))
    assert runner.wait_idle(10)
    assert h.wait_for(lambda: h.app.root.manager.current == "staff_login", timeout=10)
    h.settle()
    for digit in "2468":
        h.tap(f"pin:{digit}")
    h.tap("pin:ok")
    assert runner.wait_idle(10)
    assert h.wait_for(lambda: h.app.root.manager.current == "staff", timeout=10), h.app.view.last
    h.settle()


def test_overdue_and_dashboard_panels(kiosk_ui: Any, staff_runner: Any, database: Database) -> None:
    from devices.events import DoorCount
    from kiosk.traffic.ingest import ingest
    from kiosk.traffic.settings import TrafficSettings

    h = kiosk_ui
    _sign_in(h, staff_runner)
    assert "王老师" in h.find("staff_report").text
    with database.read() as s:
        overdue = s.scalar(select(Loan.id).where(Loan.returned_at.is_(None), Loan.due_at < datetime.now(UTC))
                           .order_by(Loan.id).limit(1))
        assert overdue is not None

    h.tap("tab_overdue")
    assert h.wait_for(lambda: "逾期共" in h.find("overdue_header").text, timeout=10)
    h.settle()
    listed = "\n".join(str(getattr(w, "text", "")) for w in h.find("overdue_list").walk(restrict=True))
    assert h.lent[0] in listed and "张*" in listed and "逾期" in listed
    _shot(h, "overdue-1280x800-zh")

    h.tap("tab_dashboard")
    assert h.wait_for(lambda: not h.current_screen().panels["dashboard"].loading, timeout=30)
    h.settle()
    assert h.find("dashboard_state").text == "暂无数据"
    assert h.current_screen().panels["dashboard"].chart_texture is None
    texts = "\n".join(str(getattr(w, "text", "")) for w in h.find("visits_today").walk(restrict=True))
    assert "暂无数据" in texts and "0" not in texts
    index = [str(getattr(w, "text", "")) for w in h.find("index_total").walk(restrict=True)]
    assert "0.0" in index and "仅按活动计算" in index  # zero events held, and nothing else measured yet
    _shot(h, "dashboard-empty-1280x800-zh")

    now = datetime.now(UTC)
    start = now - timedelta(minutes=30)
    ingest(database, "DEMO", [DoorCount("door", 7 * n, 5 * n, start + timedelta(minutes=5 * n),
                                        start + timedelta(minutes=5 * n)) for n in range(7)], TrafficSettings())
    h.app.lang = "en"
    h.tap("tab_dashboard")
    panel = h.current_screen().panels["dashboard"]
    assert h.wait_for(lambda: panel.chart_texture is not None, timeout=30)
    h.settle()
    assert panel.data.visits_week is not None and panel.data.visits_week > 0
    week = "\n".join(str(getattr(w, "text", "")) for w in h.find("visits_week").walk(restrict=True))
    assert f"{panel.data.visits_week:.0f}" in week
    index = [str(getattr(w, "text", "")) for w in h.find("index_total").walk(restrict=True)]
    assert panel.data.index_boards == ("flow", "activity", "service") and "Popularity index" in index
    assert not any("only" in text for text in index)
    _shot(h, "dashboard-1280x800-en")
    h.set_size(1080, 1920)
    h.settle()
    _shot(h, "dashboard-1080x1920-en")
    h.tap("tab_overdue")
    assert h.wait_for(lambda: "overdue" in h.find("overdue_header").text, timeout=10)
    h.settle()
    _shot(h, "overdue-1080x1920-en")
    h.app.elder = True
    h.set_size(1280, 800)
    h.tap("tab_dashboard")
    assert h.wait_for(lambda: panel.chart_texture is not None and not panel.loading, timeout=30)
    h.settle()
    _shot(h, "dashboard-1280x800-en-elder")
    h.set_size(1920, 1080)
    h.settle()
    _shot(h, "dashboard-1920x1080-en-elder")


def test_status_by_scanning(kiosk_ui: Any, staff_runner: Any, database: Database) -> None:
    from devices.events import BarcodeScanned

    h = kiosk_ui
    _sign_in(h, staff_runner)
    h.tap("tab_status")
    assert h.find("status_prompt").opacity == 1
    with database.read() as s:
        title = s.scalar(select(Title.title).join(Item, Item.title_id == Title.id).where(Item.barcode == h.free))
    staff_runner.post(BarcodeScanned(device="scanner", code=h.free))  # no mode chosen yet: nothing changes
    assert staff_runner.wait_idle(10)
    h.tap("mode_in_repair")
    assert staff_runner.wait_idle(10)
    assert h.wait_for(lambda: h.app.view.staff_mode == "in_repair", timeout=10)
    with database.read() as s:
        assert s.scalar(select(Item.status).where(Item.barcode == h.free)) == ItemStatus.AVAILABLE
    staff_runner.post(BarcodeScanned(device="scanner", code=h.free))
    assert staff_runner.wait_idle(10)
    assert h.wait_for(lambda: "已标记为：修补中" in h.find("last_message").text, timeout=10)
    assert title in h.find("last_message").text
    with database.read() as s:
        assert s.scalar(select(Item.status).where(Item.barcode == h.free)) == ItemStatus.IN_REPAIR
    staff_runner.post(BarcodeScanned(device="scanner", code=h.lent[0]))  # on loan: refused, unchanged
    assert staff_runner.wait_idle(10)
    assert h.wait_for(lambda: "请先办理归还" in h.find("last_message").text, timeout=10)
    h.settle()
    _shot(h, "status-1280x800-zh")
    h.app.elder = True
    h.set_size(1080, 1920)
    h.settle()
    _shot(h, "status-1080x1920-zh-elder")
    with database.read() as s:
        isbn, book = s.execute(select(Title.isbn13, Title.title).where(Title.isbn13.is_not(None))
                               .order_by(Title.id).limit(1)).one()
    h.tap("mode_add_copy")
    assert isbn is not None
    for code in (isbn, "NEWCOPY01"):
        staff_runner.post(BarcodeScanned(device="scanner", code=code))
        assert staff_runner.wait_idle(10)
    assert h.wait_for(lambda: "NEWCOPY01" in h.find("last_message").text, timeout=10)
    assert book in h.find("last_message").text
    with database.read() as s:
        assert s.scalar(select(Item.status).where(Item.barcode == "NEWCOPY01")) == ItemStatus.AVAILABLE
    h.settle()
    _shot(h, "add-copy-1080x1920-zh-elder")
    h.tap("tab_home")  # leaving the panel stops the scan mode
    assert staff_runner.wait_idle(10)
    assert h.wait_for(lambda: h.app.view.staff_mode == "", timeout=10)
    h.tap("staff_signout")
    assert staff_runner.wait_idle(10)
    assert h.wait_for(lambda: h.app.root.manager.current == "attract", timeout=10)


def test_edit_todays_announcement(kiosk_ui: Any, staff_runner: Any, database: Database) -> None:
    """Pinyin on the on-screen keyboard → candidates → characters; English typed as letters; saved through the
    session (audited) and shown on the attract screen at once."""
    from kiosk.browse import Browser

    h = kiosk_ui
    demo_browser, h.app.browser = h.app.browser, Browser(database, "DEMO")  # the attract screen reads this database
    try:
        _edit_announcement(h, staff_runner, database)
    finally:
        h.app.browser = demo_browser
        h.app.refresh_browse_data()  # the next test meets the demo branch again, not this database's
        h.settle()


def _edit_announcement(h: Any, staff_runner: Any, database: Database) -> None:
    _sign_in(h, staff_runner)
    h.tap("tab_announcement")
    panel = h.current_screen().panels["announcement"]
    assert h.wait_for(lambda: panel.loaded, timeout=10)
    h.settle()
    assert h.find("field_zh").chosen

    def type_keys(keys: str) -> None:
        for key in keys:
            h.tap(f"key:{key}")
        h.settle(10)

    type_keys("XINSHU")
    assert h.find("pending_pinyin").text == "xinshu"
    assert h.wait_for(lambda: h.find("cand:0").text == "新书", timeout=10)
    h.tap("cand:0")
    type_keys("DAOGUAN")
    assert h.wait_for(lambda: h.find("cand:0").text == "到馆", timeout=10)
    h.tap("key:space")  # space takes the first candidate, as in any pinyin IME
    h.tap("key:comma")
    type_keys("HUANYING")
    h.tap("cand:0")
    h.settle()
    assert panel.text_zh == "新书到馆，欢迎"
    assert "新书到馆，欢迎" in h.find("field_zh").value and h.find("pending_pinyin").text == ""
    type_keys("JIE")
    h.tap("key:back")  # backspace first edits the pinyin, then the text
    assert panel.pending == "ji"
    for _ in range(4):  # "ji", then 迎 and 欢
        h.tap("key:back")
    assert panel.text_zh == "新书到馆，" and panel.pending == ""
    h.tap("key:clear")
    assert panel.text_zh == ""
    type_keys("XINSHU")
    h.tap("key:space")
    assert panel.text_zh == "新书"

    h.tap("field_en")
    assert h.find("field_en").chosen and not h.find("field_zh").chosen
    type_keys("NEW")
    h.tap("key:space")
    type_keys("BOOKS")
    h.tap("key:period")
    assert panel.text_en == "New books."
    _shot(h, "announcement-1280x800-zh")

    h.tap("announce_save")
    assert h.wait_for(lambda: h.find("announce_status").text == "今日公告已更新，首页马上显示", timeout=10)
    with database.read() as s:
        assert [(a.text, a.text_en) for a in s.scalars(select(Announcement))
                if a.starts_at is not None] == [("新书", "New books.")]
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "announcement")).one()
        assert audit.detail["staff"] == "王老师" and audit.outcome == "added"
    h.settle()
    assert h.app.branch is not None and ("新书", "New books.") in h.app.branch.announcements

    h.tap("staff_signout")
    assert staff_runner.wait_idle(10)
    assert h.wait_for(lambda: h.app.root.manager.current == "attract", timeout=10)
    assert panel.text_zh == "" and panel.text_en == ""  # nothing of the draft survives the sign-out
    screen = h.current_screen()
    texts = {screen.rotating_text(h.app.branch, n, "zh_CN") for n in range(len(h.app.branch.announcements) + 5)}
    assert "新书" in texts
    assert "New books." in {screen.rotating_text(h.app.branch, n, "en") for n in range(10)}
