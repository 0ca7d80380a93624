"""Today's announcement, as a librarian sets it at the kiosk: stored for the local day only, replaced not duplicated,
removed when emptied, refused when too long, every change audited; the browse service shows it on the attract screen
that day and not the next."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from catalog.db import Database
from catalog.model import Announcement, AuditEntry
from kiosk.browse import Browser
from kiosk.librarian import ANNOUNCEMENT_MAX_CHARS, AnnouncementTooLong, Librarian, TodaysAnnouncement
from tests.kiosk.lending.conftest import Room, build_room


@pytest.fixture
def room(database: Database) -> Room:
    return build_room(database)


@pytest.fixture
def librarian(room: Room) -> Librarian:
    return Librarian(room.db, branch_code="XW01", kiosk_id="k1", clock=room.clock)


def _audit(db: Database) -> list[tuple[str, dict[str, object]]]:
    with db.read() as s:
        return [(a.outcome, dict(a.detail)) for a in s.scalars(
            select(AuditEntry).where(AuditEntry.action == "announcement").order_by(AuditEntry.id))]


def test_set_replace_and_remove_todays_announcement(room: Room, librarian: Librarian) -> None:
    browser = Browser(room.db, "XW01")
    assert librarian.todays_announcement() == TodaysAnnouncement("", "")

    saved = librarian.save_todays_announcement("  今晚  9 点  闭馆消毒 ", "Closing at 9 pm tonight", staff="王老师")
    assert saved == TodaysAnnouncement("今晚 9 点 闭馆消毒", "Closing at 9 pm tonight")
    assert librarian.todays_announcement() == saved
    assert ("今晚 9 点 闭馆消毒", "Closing at 9 pm tonight") in browser.branch_info(room.clock()).announcements

    librarian.save_todays_announcement("新书到馆", staff="王老师")
    with room.db.read() as s:
        assert s.scalar(select(func.count(Announcement.id))) == 1  # replaced, not a second notice
    assert browser.branch_info(room.clock()).announcements == (("新书到馆", ""),)

    # The span is the branch's local day (Asia/Shanghai): gone at the next local midnight.
    assert browser.branch_info(room.clock() + timedelta(days=1)).announcements == ()

    librarian.save_todays_announcement("", "", staff="王老师")
    assert librarian.todays_announcement() == TodaysAnnouncement("", "")
    assert browser.branch_info(room.clock()).announcements == ()
    outcomes = _audit(room.db)
    assert [o for o, _ in outcomes] == ["added", "changed", "removed"]
    assert all(detail["staff"] == "王老师" for _, detail in outcomes)
    assert "闭馆" not in str(outcomes)  # the audit records who and how much, the notice itself lives in its table


def test_too_long_is_refused_and_nothing_changes(room: Room, librarian: Librarian) -> None:
    librarian.save_todays_announcement("开馆")
    with pytest.raises(AnnouncementTooLong) as refused:
        librarian.save_todays_announcement("书" * (ANNOUNCEMENT_MAX_CHARS + 1))
    assert refused.value.params["max"] == ANNOUNCEMENT_MAX_CHARS
    assert librarian.todays_announcement().text == "开馆"


def test_english_only_becomes_the_shown_text(room: Room, librarian: Librarian) -> None:
    assert librarian.save_todays_announcement("", "Free tea today") == TodaysAnnouncement("Free tea today", "")


def test_other_announcements_are_left_alone(room: Room, librarian: Librarian) -> None:
    with room.db.unit_of_work() as s:
        s.add(Announcement(branch_id=room.branch_id, text="长期公告", text_en="Standing notice"))
    librarian.save_todays_announcement("今日公告")
    librarian.save_todays_announcement("")
    with room.db.read() as s:
        assert list(s.scalars(select(Announcement.text))) == ["长期公告"]


def test_the_session_saves_only_for_a_signed_in_librarian(room: Room, librarian: Librarian) -> None:
    """Outside staff mode the runner refuses quietly (None): a visitor's screen has no way to reach this service."""
    from kiosk.session.runner import SessionRunner
    from kiosk.session.visit import VisitMachine

    runner = SessionRunner(VisitMachine(room.circ, idle_timeout_s=600, idle_warning_s=15, librarian=librarian))
    assert runner.staff_announcement() is None
    assert runner.staff_save_announcement("闭馆", "Closed") is None
    assert librarian.todays_announcement() == TodaysAnnouncement("", "")
    assert _audit(room.db) == []
