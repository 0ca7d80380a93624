"""What a librarian does at the kiosk in staff mode: the traffic dashboard, the overdue list, item status by scanning,
today's announcement on the attract screen.

Plain services over `Database`, called off the UI thread (the session worker for scans, the UI worker for the two
read-only screens). Each status change is one transaction with its `AuditEntry`, changed with a conditional UPDATE
(`… WHERE status = <what we read>`) so a copy lent by another kiosk at the same moment is never overwritten.

Privacy: the overdue list carries the patron's masked display name only (it is stored masked), never a card key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from catalog.db import Database
from catalog.model import Announcement, AuditEntry, Branch, Item, ItemStatus, Loan, Patron, Title
from kiosk.lending.errors import Refusal
from kiosk.traffic.index import BOARDS

if TYPE_CHECKING:
    from kiosk.traffic.charts import ChartFrame  # matplotlib is imported only when a chart is drawn

STATUS_MODES: dict[str, ItemStatus] = {
    "lost": ItemStatus.LOST,
    "in_repair": ItemStatus.IN_REPAIR,
    "withdrawn": ItemStatus.WITHDRAWN,
    "available": ItemStatus.AVAILABLE,
}
"""The scan modes a librarian picks on the staff screen and the status each scan sets."""


class LibrarianRefusal(Refusal):
    """A status change that cannot be made; `key` is a core message key."""


class UnknownItem(LibrarianRefusal):
    key = "librarian.unknown_item"


class ItemOnLoan(LibrarianRefusal):
    key = "librarian.item_on_loan"


class UnknownMode(LibrarianRefusal):
    key = "librarian.unknown_mode"


class UnknownIsbn(LibrarianRefusal):
    """Adding a copy needs its title in the catalog already (the CLI or an import adds titles)."""

    key = "librarian.add_copy.unknown_isbn"


class NotAnIsbn(LibrarianRefusal):
    key = "librarian.add_copy.isbn_first"


class BarcodeTaken(LibrarianRefusal):
    key = "librarian.add_copy.barcode_taken"


class AnnouncementTooLong(LibrarianRefusal):
    key = "librarian.announcement.too_long"


ANNOUNCEMENT_MAX_CHARS = 120
"""One line on the attract screen's notice panel (and on a portrait screen, three): longer text is refused, not cut."""


@dataclass(frozen=True)
class TodaysAnnouncement:
    """The notice a librarian typed at the kiosk for today: shown from local midnight to the next, then gone."""

    text: str
    text_en: str


@dataclass(frozen=True)
class TitleRef:
    title_id: int
    isbn13: str
    title: str


@dataclass(frozen=True)
class StatusChange:
    barcode: str
    title: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class OverdueLine:
    title: str
    barcode: str
    due_at: datetime
    days_late: int
    patron: str
    """The masked display name (张*), never more."""


@dataclass(frozen=True)
class OverduePage:
    lines: tuple[OverdueLine, ...]
    total: int
    offset: int


@dataclass(frozen=True)
class Dashboard:
    """Headline numbers and one chart. None means "no data yet" and is shown as such, never as 0."""

    visits_today: float | None
    visits_week: float | None
    peak_hour: int | None
    index_total: float | None
    satisfaction: float | None
    chart: Path | None
    """PNG of this week's visits by day and the weekday × hour heatmap; None when there is no counter data."""
    index_boards: tuple[str, ...] = BOARDS
    """The boards `index_total` rests on. Before the door counter, the sessions and
    the ratings have data, the total is the activity board alone (zero events held is a fact, not a gap), and a bare
    0.0 beside "no data yet" tiles reads as a failing center: the screen names the boards when some are missing."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Librarian:
    def __init__(self, db: Database, *, branch_code: str, kiosk_id: str, traffic: Any | None = None,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self.db = db
        self.branch_code = branch_code
        self.kiosk_id = kiosk_id
        self.traffic = traffic
        """`kiosk.traffic.settings.TrafficSettings` (its index weights); defaults when None."""
        self.clock = clock

    def _branch(self) -> tuple[int, ZoneInfo]:
        with self.db.read() as s:
            row = s.execute(select(Branch.id, Branch.timezone).where(Branch.code == self.branch_code)).one()
        return int(row[0]), ZoneInfo(row[1])

    # ------------------------------------------------------------------ item status
    def set_status(self, barcode: str, mode: str, *, staff: str = "") -> StatusChange:
        target = STATUS_MODES.get(mode)
        if target is None:
            raise UnknownMode(mode=mode)
        branch_id, _tz = self._branch()
        now = self.clock()
        with self.db.unit_of_work() as s:
            row = s.execute(select(Item.id, Item.status, Title.title).join(Title, Title.id == Item.title_id)
                            .where(Item.barcode == barcode)).one_or_none()
            if row is None:
                raise UnknownItem(barcode=barcode)
            item_id, before, title = int(row[0]), str(row[1]), str(row[2])
            if before == ItemStatus.ON_LOAN:
                # Closing someone's loan is a return (or the CLI's lost-on-loan path), not a shelf status change.
                raise ItemOnLoan(barcode=barcode, title=title)
            if before != target:
                changed = s.execute(update(Item).where(Item.id == item_id, Item.status == before)
                                    .values(status=target.value, updated_at=now)
                                    .execution_options(synchronize_session=False))
                if not changed.rowcount:  # type: ignore[attr-defined]
                    raise ItemOnLoan(barcode=barcode, title=title)
            s.add(AuditEntry(at=now, kiosk_id=self.kiosk_id, branch_id=branch_id, action="item_status",
                             outcome="ok" if before != target else "unchanged", item_id=item_id,
                             detail={"from": before, "to": target.value, "staff": staff}))
        return StatusChange(barcode, title, before, target.value)

    # ------------------------------------------------------------------ add a copy
    def title_for_isbn(self, code: str) -> TitleRef:
        """The title a scanned EAN-13 (978/979…) names; refused when it is not an ISBN or not in the catalog."""
        from kiosk.lending.service import looks_like_isbn

        if not looks_like_isbn(code):
            raise NotAnIsbn(barcode=code)
        with self.db.read() as s:
            row = s.execute(select(Title.id, Title.title).where(Title.isbn13 == code).order_by(Title.id)
                            .limit(1)).one_or_none()
        if row is None:
            raise UnknownIsbn(isbn=code)
        return TitleRef(int(row[0]), code, str(row[1]))

    def add_copy(self, title: TitleRef, barcode: str, *, staff: str = "") -> str:
        """A new copy of `title` with `barcode`, shelved at this branch; returns the title. One transaction."""
        from kiosk.lending.service import looks_like_isbn

        if looks_like_isbn(barcode):
            raise BarcodeTaken(barcode=barcode)  # an ISBN is never a copy's barcode
        branch_id, _tz = self._branch()
        now = self.clock()
        with self.db.unit_of_work() as s:
            if s.scalar(select(Item.id).where(Item.barcode == barcode)) is not None:
                raise BarcodeTaken(barcode=barcode)
            item = Item(barcode=barcode, title_id=title.title_id, home_branch_id=branch_id,
                        current_branch_id=branch_id, status=ItemStatus.AVAILABLE.value, created_at=now,
                        updated_at=now)
            s.add(item)
            s.flush()
            s.add(AuditEntry(at=now, kiosk_id=self.kiosk_id, branch_id=branch_id, action="item_add", outcome="ok",
                             item_id=item.id, detail={"isbn": title.isbn13, "staff": staff}))
        return title.title

    # ------------------------------------------------------------------ today's announcement
    def _today_span(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        local = self.clock().astimezone(tz)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + timedelta(days=1)  # wall-clock arithmetic on an aware local time: the next local midnight
        return start.astimezone(UTC), end.astimezone(UTC)

    def todays_announcement(self) -> TodaysAnnouncement:
        """What the librarian set for today (empty when nothing was set). Announcements with other spans, added with
        `kiosk branch announce`, are not today's and are left alone."""
        branch_id, tz = self._branch()
        start, end = self._today_span(tz)
        with self.db.read() as s:
            row = s.execute(select(Announcement.text, Announcement.text_en)
                            .where(Announcement.branch_id == branch_id, Announcement.starts_at == start,
                                   Announcement.ends_at == end).order_by(Announcement.id.desc()).limit(1)
                            ).one_or_none()
        return TodaysAnnouncement(str(row[0]), str(row[1] or "")) if row is not None else TodaysAnnouncement("", "")

    def save_todays_announcement(self, text: str, text_en: str = "", *, staff: str = "") -> TodaysAnnouncement:
        """Set, replace or (both texts empty) remove today's announcement; one transaction with its audit entry.

        The English text may be empty (the attract screen then shows the Chinese one to English readers too), the
        Chinese one may not while an English one is given: zh_CN is the kiosk's first language."""
        text, text_en = " ".join(text.split()), " ".join(text_en.split())
        if len(text) > ANNOUNCEMENT_MAX_CHARS or len(text_en) > ANNOUNCEMENT_MAX_CHARS:
            raise AnnouncementTooLong(max=ANNOUNCEMENT_MAX_CHARS)
        if not text and text_en:
            text, text_en = text_en, ""
        branch_id, tz = self._branch()
        start, end = self._today_span(tz)
        now = self.clock()
        with self.db.unit_of_work() as s:
            rows = list(s.scalars(select(Announcement).where(
                Announcement.branch_id == branch_id, Announcement.starts_at == start, Announcement.ends_at == end)))
            before = rows[-1].text if rows else ""
            for extra in rows[1:] if text else rows:
                s.delete(extra)
            if text and rows:
                rows[0].text, rows[0].text_en = text, text_en
            elif text:
                s.add(Announcement(branch_id=branch_id, text=text, text_en=text_en, starts_at=start, ends_at=end))
            outcome = ("changed" if rows else "added") if text else ("removed" if rows else "unchanged")
            s.add(AuditEntry(at=now, kiosk_id=self.kiosk_id, branch_id=branch_id, action="announcement",
                             outcome=outcome, detail={"staff": staff, "chars": len(text), "chars_en": len(text_en),
                                                      "had_text": bool(before)}))
        return TodaysAnnouncement(text, text_en)

    # ------------------------------------------------------------------ overdue
    def overdue(self, offset: int = 0, limit: int = 10) -> OverduePage:
        """Open loans past due that were lent at this branch, most overdue first."""
        branch_id, tz = self._branch()
        now = self.clock()
        where = (Loan.returned_at.is_(None), Loan.due_at < now, Loan.branch_id == branch_id)
        with self.db.read() as s:
            total = int(s.scalar(select(func.count(Loan.id)).where(*where)) or 0)
            rows = s.execute(
                select(Title.title, Item.barcode, Loan.due_at, Patron.display_name)
                .join(Item, Item.id == Loan.item_id).join(Title, Title.id == Item.title_id)
                .outerjoin(Patron, Patron.id == Loan.patron_id)
                .where(*where).order_by(Loan.due_at, Loan.id).offset(max(0, offset)).limit(max(1, limit))).all()
        today = now.astimezone(tz).date()
        lines = []
        for title, barcode, due_at, name in rows:
            due = due_at if due_at.tzinfo else due_at.replace(tzinfo=UTC)
            lines.append(OverdueLine(title, barcode, due, max(0, (today - due.astimezone(tz).date()).days),
                                     name or ""))
        return OverduePage(tuple(lines), total, offset)

    # ------------------------------------------------------------------ dashboard
    def dashboard(self, out_dir: Path, language: str = "zh_CN", frame: ChartFrame | None = None) -> Dashboard:
        """This week (Monday to today, local) and today, from the traffic rollups; the chart drawn with the report
        code's own matplotlib figure (Agg, safe off the UI thread), at `frame`'s pixels when the screen gives it."""
        from kiosk.traffic.charts import write_png
        from kiosk.traffic.index import popularity_index
        from kiosk.traffic.reports import traffic_report
        from kiosk.traffic.settings import IndexSettings

        _branch_id, tz = self._branch()
        now = self.clock()
        today = now.astimezone(tz).date()
        monday = today - timedelta(days=today.weekday())
        week = traffic_report(self.db, start=monday, end=today, by="day", branch=self.branch_code, now=now)
        day = traffic_report(self.db, start=today, end=today, by="hour", branch=self.branch_code, details=False,
                             now=now)
        cfg = self.traffic.index if self.traffic is not None else IndexSettings()
        index = popularity_index(self.db, start=monday, end=today, branch=self.branch_code, cfg=cfg)
        chart = None
        if week.total_visits is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            chart = write_png(week, out_dir / f"dashboard-{today.isoformat()}-{language}.png", language, frame)
        peak = week.peak_hours[0][0] if week.peak_hours else None
        boards = tuple(board for board, score in index.boards.items() if score is not None)
        return Dashboard(day.total_visits, week.total_visits, peak, index.total, week.satisfaction, chart, boards)
