"""What visitors browse on the touch screen: the catalog, this center's information, audio books.

The UI calls these methods from its worker thread; each opens its own read session and returns plain frozen values
(`kiosk.browse_view`), never ORM objects, so nothing the screen holds can lazy-load from a closed session.

Search results update as each letter is typed, so they must come back in well under 50 ms on a 200,000-title
network catalog. Matching is an index-only query (`catalog.search.match_scores`); deciding which matches stand on
this branch's shelves, in which category, and ranking them would need a join per candidate (tens of thousands
for "h"). So the browser keeps a snapshot of the branch's holdings (`Shelf`: per title, held here or not, its
category, title length, any copy available; and the pinyin-ordered listing), rebuilt in one query when older than
`SHELF_TTL_S`. A copy added or lost shows in searches within that time; copies, availability and due dates on the
result page itself are always read live.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

import catalog.search  # noqa: F401  (installs the index hooks before anything writes titles)
from catalog import clc
from catalog.db import Database
from catalog.model import Announcement, AudioBook, Branch, BranchEvent, Item, ItemStatus, Loan, Title
from catalog.search.query import GONE, CatalogHit, load_hits, match_scores
from catalog.search.tokens import query_terms
from kiosk.browse_view import (
    AudioBookView,
    BranchInfo,
    CategoryCount,
    CopyView,
    EventView,
    NearbyCenter,
    OpeningHours,
    SearchPage,
    TitleDetail,
    TitleHit,
)
from kiosk.errors import KioskError

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SHELF_TTL_S = 60.0
MAX_EVENTS = 10
_CATEGORY_INDEX = {c.code: i for i, c in enumerate(clc.CATEGORIES)}
_OTHER = len(clc.CATEGORIES)
_NOT_HELD = -1


class BranchNotFound(KioskError):
    """The configured branch code is not in the database (run `kiosk demo-data` or `kiosk branch edit`)."""

    key = "browse.branch_not_found"

    def __init__(self, code: str) -> None:
        super().__init__(code=code)
        self.code = code

    def __str__(self) -> str:
        return f"branch {self.code!r} is not in the database"


def _hit(hit: CatalogHit) -> TitleHit:
    return TitleHit(hit.title_id, hit.title, hit.authors, hit.publisher, hit.pub_year, hit.isbn13, hit.category,
                    hit.call_number, hit.copies, hit.available, hit.shelf_locations)


def _pairs(value: Any, suffix: str = "") -> tuple[tuple[str, str], ...]:
    """Rooms and services are stored as {"name", "description"} objects (or [name, description] pairs).

    With `suffix="_en"`, the English {"name_en", "description_en"} of the same entries, in the same order (a plain
    pair has no English, so it gives ("", "")): the screen falls back to Chinese entry by entry.
    """
    out: list[tuple[str, str]] = []
    for entry in value or ():
        if isinstance(entry, Mapping):
            out.append((str(entry.get("name" + suffix, "")), str(entry.get("description" + suffix, ""))))
        elif isinstance(entry, Sequence) and not isinstance(entry, str) and len(entry) >= 1:
            out.append(("", "") if suffix else (str(entry[0]), str(entry[1]) if len(entry) > 1 else ""))
        elif isinstance(entry, str):
            out.append(("", "") if suffix else (entry, ""))
    return tuple(out)


def opening_hours(hours: Mapping[str, Any]) -> tuple[OpeningHours, ...]:
    """{"mon": [["08:30", "21:00"]], …} → one OpeningHours per weekday (a missing day is closed)."""
    week: list[OpeningHours] = []
    for weekday, key in enumerate(WEEKDAY_KEYS):
        spans = tuple((str(s[0]), str(s[1])) for s in hours.get(key) or () if len(s) == 2)
        week.append(OpeningHours(weekday, spans))
    return tuple(week)


def _nearby(value: Any) -> tuple[NearbyCenter, ...]:
    out: list[NearbyCenter] = []
    for entry in value or ():
        if not isinstance(entry, Mapping):
            continue
        distance = entry.get("distance_km")
        out.append(NearbyCenter(str(entry.get("name", "")), str(entry.get("address", "")),
                                float(distance) if isinstance(distance, int | float) else None,
                                str(entry.get("hours", "")), str(entry.get("phone", "")),
                                str(entry.get("name_en", "")), str(entry.get("address_en", "")),
                                str(entry.get("hours_en", ""))))
    return tuple(out)


@dataclass
class Shelf:
    """The branch's holdings, by title id: category index (or _NOT_HELD), title length, any copy available."""

    built_at: float
    category: array[int]
    length: array[int]
    available: bytearray
    listing: dict[int | None, list[int]]
    """Title ids in pinyin order, per category index, and all of them under None."""
    letters: bytes
    """First letter of each title's pinyin, parallel to listing[None] (so one letter is a contiguous range)."""
    category_np: np.ndarray[Any, Any] = field(init=False)
    length_np: np.ndarray[Any, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.category_np = np.frombuffer(self.category.tobytes(), dtype=np.int8)
        self.length_np = np.frombuffer(self.length.tobytes(), dtype=np.uint16).astype(np.int64)

    def holds(self, title_id: int) -> bool:
        return 0 <= title_id < len(self.category) and self.category[title_id] != _NOT_HELD

    @classmethod
    def load(cls, session: Session, branch_id: int) -> Shelf:
        # Byte order on PostgreSQL too: a locale collation may interleave what `starting_with` needs contiguous.
        postgres = session.get_bind().dialect.name == "postgresql"
        pinyin_order = Title.title_pinyin.collate("C") if postgres else Title.title_pinyin
        rows = session.execute(
            select(Title.id, Title.category, func.length(Title.title),
                   func.max(case((Item.status == ItemStatus.AVAILABLE.value, 1), else_=0)),
                   func.substr(Title.title_pinyin, 1, 1))
            .join(Item, Item.title_id == Title.id)
            .where(Item.status.not_in(GONE), or_(Item.current_branch_id == branch_id,
                                                  Item.home_branch_id == branch_id))
            .group_by(Title.id)
            .order_by(pinyin_order, Title.id)
        ).all()
        size = max((r[0] for r in rows), default=0) + 1
        category = array("b", [_NOT_HELD]) * size
        length = array("H", [0]) * size
        available = bytearray(size)
        listing: dict[int | None, list[int]] = {None: []}
        letters = bytearray()
        for title_id, code, title_length, any_available, letter in rows:
            letters.append(ord(letter) if letter and letter.isascii() else 0)
            index = _CATEGORY_INDEX.get(code, _OTHER)
            category[title_id] = index
            length[title_id] = min(int(title_length or 0), 65535)
            available[title_id] = 1 if any_available else 0
            listing[None].append(title_id)
            listing.setdefault(index, []).append(title_id)
        return cls(time.monotonic(), category, length, available, listing, bytes(letters))

    def starting_with(self, letter: str) -> list[int]:
        """Titles whose pinyin starts with `letter`, in pinyin order: what a first keyboard tap shows."""
        code = letter.encode("ascii")
        first = self.letters.find(code)
        if first < 0:
            return []
        return self.listing[None][first : self.letters.rfind(code) + 1]


class Browser:
    """The browsing side of the core for one branch (`kiosk.branch`); implements `ui.ports.BrowserPort`."""

    def __init__(self, db: Database, branch_code: str) -> None:
        self.db = db
        self.branch_code = branch_code
        self._branch_id: int | None = None
        self._lock = threading.Lock()
        self._shelf: Shelf | None = None

    def _branch(self, session: Session) -> int:
        if self._branch_id is None:
            branch_id = session.scalar(select(Branch.id).where(Branch.code == self.branch_code))
            if branch_id is None:
                raise BranchNotFound(self.branch_code)
            self._branch_id = branch_id
        return self._branch_id

    def shelf(self, session: Session) -> Shelf:
        with self._lock:
            shelf = self._shelf
        if shelf is None or time.monotonic() - shelf.built_at > SHELF_TTL_S:
            shelf = Shelf.load(session, self._branch(session))
            with self._lock:
                self._shelf = shelf
        return shelf

    def refresh(self) -> None:
        """Forget the holdings snapshot (after a librarian changed copies on this kiosk)."""
        with self._lock:
            self._shelf = None

    def categories(self) -> list[CategoryCount]:
        """Every display category (also empty ones, so the tiles never jump): titles held, titles available."""
        with self.db.read() as session:
            shelf = self.shelf(session)
        titles = [0] * (_OTHER + 1)
        available = [0] * (_OTHER + 1)
        for title_id in shelf.listing[None]:
            index = shelf.category[title_id]
            titles[index] += 1
            available[index] += shelf.available[title_id]
        return [CategoryCount(c.code, c.name, titles[i], available[i]) for i, c in enumerate(clc.CATEGORIES)]

    def search(self, query: str, *, category: str | None = None, limit: int = 20, offset: int = 0) -> SearchPage:
        """Ranked titles held here; an empty query with a category lists that category (in pinyin order)."""
        limit, offset = max(0, min(limit, 200)), max(0, offset)
        wanted = _CATEGORY_INDEX.get(category, _OTHER) if category else None
        terms = query_terms(query)
        with self.db.read() as session:
            shelf = self.shelf(session)
            scores: dict[int, int] = {}
            if len(terms) == 1 and terms[0].prefix and len(terms[0].value) == 1 and terms[0].value.isalpha():
                # The first letter typed: titles starting with it, alphabetically (thousands of them; ranking
                # by weight says nothing yet, and the index would return every author starting with it too).
                ranked = [t for t in shelf.starting_with(terms[0].value)
                          if wanted is None or shelf.category[t] == wanted]
            elif terms:
                ids, weights = match_scores(session, terms)
                ids_in = ids[ids < len(shelf.category)]
                weights = weights[ids < len(shelf.category)]
                categories = shelf.category_np[ids_in]
                keep = categories != _NOT_HELD if wanted is None else categories == wanted
                ids_in, weights = ids_in[keep], weights[keep]
                # One int64 sort key: score descending, then shorter titles, then id.
                keys = ((1023 - np.minimum(weights, 1023)) << 40) | (shelf.length_np[ids_in] << 24) | ids_in
                keys.sort()
                ranked = (keys & 0xFFFFFF).tolist()
                shown = np.array(ranked[offset : offset + limit], dtype=np.int64)
                scores = dict(zip(shown.tolist(), weights[np.searchsorted(ids_in, shown)].tolist(), strict=True))
            elif query.strip():
                ranked = []  # only punctuation: nothing to look for
            else:
                ranked = shelf.listing.get(wanted, [])
            page = ranked[offset : offset + limit]
            hits = load_hits(session, page, branch_id=self._branch(session), scores=scores)
        return SearchPage(query, tuple(_hit(h) for h in hits), len(ranked), offset)

    def title_detail(self, title_id: int) -> TitleDetail | None:
        """A title with every copy on a shelf of the network: where it stands, and when a lent copy is due."""
        with self.db.read() as session:
            branch_id = self._branch(session)
            hits = load_hits(session, [title_id], branch_id=branch_id)
            if not hits:
                return None
            title = session.get(Title, title_id)
            rows = session.execute(
                select(Item.barcode, Item.status, Branch.name, Item.shelf_location, Loan.due_at)
                .join(Branch, Branch.id == Item.current_branch_id)
                .outerjoin(Loan, and_(Loan.item_id == Item.id, Loan.returned_at.is_(None)))
                .where(Item.title_id == title_id, Item.status.not_in(GONE))
                .order_by((Item.current_branch_id != branch_id), Item.barcode)
            ).all()
            summary, summary_en = (title.summary, title.summary_en) if title is not None else ("", "")
        copies = tuple(CopyView(barcode, status, name, shelf, due) for barcode, status, name, shelf, due in rows)
        hit = hits[0]
        return TitleDetail(_hit(hit), summary, hit.clc_class, copies, summary_en)

    def branch_info(self, now: datetime | None = None) -> BranchInfo:
        """Hours, rooms, services, contact, nearby centers, announcements in force and upcoming events."""
        now = now or datetime.now(UTC)
        with self.db.read() as session:
            branch = session.scalars(select(Branch).where(Branch.code == self.branch_code)).one_or_none()
            if branch is None:
                raise BranchNotFound(self.branch_code)
            events = session.scalars(
                select(BranchEvent).where(BranchEvent.branch_id == branch.id, BranchEvent.ends_at >= now)
                .order_by(BranchEvent.starts_at).limit(MAX_EVENTS)
            ).all()
            notices = session.scalars(
                select(Announcement)
                .where(Announcement.branch_id == branch.id,
                       or_(Announcement.starts_at.is_(None), Announcement.starts_at <= now),
                       or_(Announcement.ends_at.is_(None), Announcement.ends_at > now))
                .order_by(Announcement.id)
            ).all()
            content = dict(branch.content or {})
            hours = dict(branch.hours or {})
            rooms, rooms_en = _pairs(content.get("rooms")), _pairs(content.get("rooms"), "_en")
            # An event is held in one of the branch's rooms: its English room name is that room's.
            room_en = {zh: en for (zh, _), (en, _) in zip(rooms, rooms_en, strict=True) if en}
            return BranchInfo(
                code=branch.code,
                name=branch.name,
                name_en=branch.name_en,
                address=branch.address,
                address_en=branch.address_en,
                phone=branch.phone,
                timezone=branch.timezone,
                hours=opening_hours(hours),
                hours_note=str(hours.get("note", "")),
                hours_note_en=str(hours.get("note_en", "")),
                rooms=rooms,
                rooms_en=rooms_en,
                services=_pairs(content.get("services")),
                services_en=_pairs(content.get("services"), "_en"),
                contact=str(content.get("contact", "")),
                contact_en=str(content.get("contact_en", "")),
                map_image=str(content.get("map_image", "")),
                map_image_en=str(content.get("map_image_en", "")),
                nearby=_nearby(content.get("nearby")),
                events=tuple(EventView(e.title, e.title_en, e.room, e.starts_at, e.ends_at, e.description,
                                       room_en.get(e.room, "")) for e in events),
                announcements=tuple((a.text, a.text_en) for a in notices),
                capacity=branch.capacity,
            )

    def audio_books(self) -> list[AudioBookView]:
        """This branch's audio books and the network's shared ones (no branch)."""
        with self.db.read() as session:
            branch_id = self._branch(session)
            books = session.scalars(
                select(AudioBook).where(or_(AudioBook.branch_id == branch_id, AudioBook.branch_id.is_(None)))
                .order_by(AudioBook.id)
            ).all()
            return [AudioBookView(b.id, b.title, b.author, b.narrator, b.category, b.url, b.duration_min, b.title_en)
                    for b in books]
