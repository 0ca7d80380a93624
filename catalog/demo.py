"""A realistic demo branch: a community service center's 24-hour reading room, its catalog, events and residents.

Deterministic (seeded) and idempotent: titles are keyed by ISBN, copies by barcode, events by title, announcements
by text, audio books by URL, residents by card key, so running it twice changes nothing and running it with a larger
`--titles` only adds the missing ones. Titles are generated from curated word lists (`catalog.demo_data.words`) plus
real classics; everything is written with bulk Core inserts in chunks (2,000 titles take about a second, 200,000 for
the search benchmark a few minutes) and indexed for search in the same transaction.

Residents arrive as card keys and masks only (see `DemoResident`): the raw ID numbers stay with the caller, which
hashes them with the network secret (`kiosk.cli.demo_data_cmd`), because `catalog` must not know about ID cards.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from catalog import clc
from catalog.db import BATCH_STATEMENT_TIMEOUT_S, Database
from catalog.demo_data import words
from catalog.isbn import isbn13_check_digit
from catalog.model import (
    Announcement,
    AudioBook,
    Branch,
    BranchEvent,
    Item,
    ItemStatus,
    Patron,
    PatronStatus,
    Title,
)
from catalog.pinyin import PinyinForms, author_pinyin, join_forms, title_pinyin
from catalog.search.index import insert_tokens, token_rows

SEED = 2026
CHUNK = 1000
SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Progress = Callable[[int, int], None]
"""Called with (titles done, titles wanted) after each chunk."""


@dataclass(frozen=True)
class DemoResident:
    """A demo patron as the catalog may see one: keyed hash and masks only, never the raw number or name."""

    card_kind: str
    card_key: str
    masked_card: str
    display_name: str
    valid_until: date | None


@dataclass(frozen=True)
class DemoTitle:
    title: str
    authors: str
    publisher: str
    pub_year: int
    clc_class: str
    category: str
    isbn13: str
    call_number: str
    summary: str
    copies: int
    title_py: PinyinForms
    author_py: PinyinForms


@dataclass(frozen=True)
class DemoReport:
    branch_id: int
    branch_created: bool
    titles_added: int
    titles_existing: int
    items_added: int
    patrons_added: int
    events: int
    announcements: int
    audio_books: int


# --- the branch -----------------------------------------------------------------------------------------------

BRANCH_NAME = "玄武区锁金村街道党群服务中心 24小时智慧书房"
BRANCH_NAME_EN = "Suojincun Community Service Center · 24-hour Smart Reading Room"


def branch_values(code: str) -> dict[str, Any]:
    """Columns of the demo branch: a reading room open round the clock inside a center with its own hours."""
    hours: dict[str, Any] = {day: [["00:00", "24:00"]] for day in WEEKDAYS}
    hours["note"] = ("书房24小时开放，刷身份证或社保卡进门；党群服务中心大厅周一至周五 8:30–17:30，"
                     "周六、周日及节假日 9:00–17:00（错时延时服务，全年无休）")
    hours["note_en"] = ("The reading room is open 24 hours (enter with your ID or social-security card); the center's "
                        "service hall is open Mon–Fri 8:30–17:30, weekends and holidays 9:00–17:00, all year round.")
    hours["center"] = {**{day: [["08:30", "17:30"]] for day in WEEKDAYS[:5]},
                       **{day: [["09:00", "17:00"]] for day in WEEKDAYS[5:]}}
    content: dict[str, Any] = {
        "rooms": [
            {"name": "24小时智慧书房", "description": "藏书两千余册，自助借还，刷证进门，全天开放",
             "name_en": "24-hour reading room", "description_en": "2,000+ books, self-service lending, open all day"},
            {"name": "一站式服务大厅", "description": "社保、医保、居住证、老年卡等业务窗口",
             "name_en": "One-stop service hall", "description_en": "Windows for social security, health insurance, "
                                                                  "residence permits, senior cards"},
            {"name": "党员活动室", "description": "组织生活会、主题党日，可预约使用",
             "name_en": "Party members' room", "description_en": "Branch meetings and theme days, by booking"},
            {"name": "儿童之家", "description": "绘本阅读、课后托管，周末开放",
             "name_en": "Children's room", "description_en": "Picture books and after-school care, weekends"},
            {"name": "老年人服务站", "description": "棋牌、书法、读报，每日11:00–12:30助餐",
             "name_en": "Elders' station", "description_en": "Chess, calligraphy, newspapers; meals 11:00–12:30"},
            {"name": "人民调解室", "description": "邻里纠纷调解，周二、周四下午有律师坐班",
             "name_en": "Mediation room", "description_en": "Neighbourhood mediation; a lawyer on Tue and Thu pm"},
            {"name": "心理咨询室", "description": "心理疏导，请提前电话预约",
             "name_en": "Counselling room", "description_en": "Counselling by appointment"},
            {"name": "科普角", "description": "VR体验、科普展板，每月更新",
             "name_en": "Science corner", "description_en": "VR and science displays, renewed monthly"},
            {"name": "多功能厅", "description": "讲座、读书会、文艺活动，容纳80人",
             "name_en": "Multi-purpose hall", "description_en": "Lectures, reading clubs, performances; 80 seats"},
        ],
        "services": [
            {"name": "自助借还", "description": "刷身份证或社保卡借书，每人最多5册，借期30天",
             "name_en": "Self-service lending", "description_en": "Borrow up to 5 books for 30 days with your card"},
            {"name": "有声阅读角", "description": "手机扫码听书，免费收听经典名著",
             "name_en": "Audio reading corner", "description_en": "Scan a QR code to listen to classics for free"},
            {"name": "通借通还", "description": "全区95个党群服务中心书房图书通借通还",
             "name_en": "Borrow anywhere", "description_en": "Return books at any of the district's 95 centers"},
            {"name": "流动党员服务", "description": "组织关系接转、党费缴纳",
             "name_en": "Floating Party members", "description_en": "Membership transfers and dues"},
            {"name": "法律咨询", "description": "每周二、周四 14:00–17:00",
             "name_en": "Legal advice", "description_en": "Tue and Thu 14:00–17:00"},
        ],
        "contact": "值班馆员 025-8555 0123（工作日 9:00–21:00）；服务监督 12345",
        "contact_en": "Librarian on duty 025-8555 0123 (weekdays 9:00–21:00); service hotline 12345",
        "map_image": "",
        "nearby": [
            {"name": "玄武区党群服务中心", "address": "南京市玄武区北京东路41号", "distance_km": 3.2,
             "hours": "9:00–21:00", "phone": "025-8363 0000",
             "name_en": "Xuanwu District Community Service Center",
             "address_en": "41 Beijing East Road, Xuanwu District"},
            {"name": "锁金村社区党群服务中心", "address": "南京市玄武区锁金村路18号", "distance_km": 0.6,
             "hours": "8:30–20:00", "phone": "025-8555 0456",
             "name_en": "Suojincun Neighbourhood Service Center", "address_en": "18 Suojincun Road, Xuanwu District"},
            {"name": "玄武湖街道党群服务中心", "address": "南京市玄武区龙蟠路155号", "distance_km": 1.4,
             "hours": "8:30–21:00", "phone": "025-8555 0789",
             "name_en": "Xuanwuhu Subdistrict Service Center", "address_en": "155 Longpan Road, Xuanwu District"},
            {"name": "红山街道党群服务中心", "address": "南京市玄武区红山路88号", "distance_km": 2.1,
             "hours": "8:30–20:30", "phone": "025-8555 1010",
             "name_en": "Hongshan Subdistrict Service Center", "address_en": "88 Hongshan Road, Xuanwu District"},
            {"name": "徐庄软件园楼宇党群服务站", "address": "南京市玄武区徐庄软件园苏宁大道64号", "distance_km": 5.8,
             "hours": "工作日 9:00–18:00", "phone": "025-8555 2020",
             "name_en": "Xuzhuang Software Park Service Station",
             "address_en": "64 Suning Avenue, Xuzhuang Software Park",
             "hours_en": "Weekdays 9:00–18:00"},
        ],
    }
    return {
        "code": code,
        "name": BRANCH_NAME,
        "name_en": BRANCH_NAME_EN,
        "address": "南京市玄武区锁金村街道锁金四村28号 党群服务中心一楼",
        "address_en": "1F Community Service Center, 28 Suojin Village No. 4, Xuanwu District, Nanjing",
        "phone": "025-8555 0123",
        "timezone": "Asia/Shanghai",
        "capacity": 40,
        "hours": hours,
        "content": content,
        "policy": {},
    }


ANNOUNCEMENTS: tuple[tuple[str, str], ...] = (
    ("本周新到图书120册，欢迎借阅", "120 new books arrived this week"),
    ("书房24小时开放，请刷身份证或社保卡进门，保持安静", "Open 24 hours: enter with your card and keep quiet"),
    ("全区党群服务中心书房通借通还，可在任一书房还书", "Return books at any reading room of the district"),
)


def _next_weekday(now_local: datetime, weekday: int, hour: int, minute: int) -> datetime:
    days = (weekday - now_local.weekday()) % 7
    start = (now_local + timedelta(days=days)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    if start <= now_local:
        start += timedelta(days=7)
    return start


def event_values(now: datetime) -> list[dict[str, Any]]:
    """Upcoming activities of the center, placed on the next matching weekdays after `now`."""
    local = now.astimezone(SHANGHAI)
    plan = (
        ("国学讲堂：《论语》里的家风家训", "Classics lecture: family values in the Analects", "多功能厅", 5, 9, 30, 120,
         "南京大学文学院教师主讲，欢迎居民带孩子参加", 80),
        ("周末读书会：《平凡的世界》", "Weekend reading club: Ordinary World", "24小时智慧书房", 6, 14, 30, 90,
         "一起读一本好书，分享阅读感受", 20),
        ("亲子绘本共读", "Picture-book reading for parents and children", "儿童之家", 2, 19, 0, 60,
         "3–8岁儿童及家长", 15),
        ("老年人智能手机课堂", "Smartphone class for seniors", "多功能厅", 3, 9, 30, 90,
         "教您用手机挂号、扫码、视频通话", 30),
        ("国学讲堂：唐诗里的南京", "Classics lecture: Nanjing in Tang poetry", "多功能厅", 5, 9, 30, 120,
         "赏析刘禹锡《乌衣巷》等名篇", 80),
    )
    out: list[dict[str, Any]] = []
    for n, (title, title_en, room, weekday, hour, minute, minutes, description, capacity) in enumerate(plan):
        start = _next_weekday(local, weekday, hour, minute) + timedelta(days=7 * (n // 4))
        out.append({"title": title, "title_en": title_en, "room": room, "starts_at": start.astimezone(UTC),
                    "ends_at": (start + timedelta(minutes=minutes)).astimezone(UTC), "description": description,
                    "capacity": capacity})
    return out


# --- the catalog ----------------------------------------------------------------------------------------------

_PREFIXES = ("", "", "", "新编", "图解", "简明", "大众", "实用", "一本书读懂", "漫画")
_SUFFIXES = ("", "", "", "", "（第2版）", "（修订版）", "（上）", "（下）", "（图文版）", "（大字版）")


class _Isbns:
    """Sequential item numbers per publisher code: every generated ISBN is unique and has a valid check digit."""

    def __init__(self) -> None:
        self.next: dict[str, int] = defaultdict(lambda: 1)

    def issue(self, publisher: str) -> str | None:
        code = words.PUBLISHERS[publisher]
        item_digits = 8 - len(code)
        n = self.next[code]
        if n >= 10**item_digits:
            return None
        self.next[code] = n + 1
        body = f"9787{code}{n:0{item_digits}d}"
        return body + isbn13_check_digit(body)


def _author(rng: random.Random) -> str:
    roll = rng.random()
    first = rng.choice(words.SURNAMES) + rng.choice(words.GIVEN_NAMES)
    if roll < 0.12:
        second = rng.choice(words.SURNAMES) + rng.choice(words.GIVEN_NAMES)
        return f"{first}, {second} 著"
    if roll < 0.2:
        return "本书编写组 编"
    return f"{first} {rng.choice(words.ROLES)}"


def generate_titles(count: int, seed: int = SEED) -> Iterator[DemoTitle]:
    """The first `count` titles of the demo catalog: the classics, then generated titles round-robin by category.

    The sequence depends only on the seed, so the first n titles are the same whatever `count` is.
    """
    rng = random.Random(seed)
    isbns = _Isbns()
    class_seq: dict[str, int] = defaultdict(int)
    cached: dict[str, PinyinForms] = {}

    def py(text: str) -> PinyinForms:
        if text not in cached:
            cached[text] = title_pinyin(text)
        return cached[text]

    def make(title: str, authors: str, publisher: str, clc_class: str, category: str, year: int,
             summary: str, title_py: PinyinForms) -> DemoTitle | None:
        isbn13 = isbns.issue(publisher)
        if isbn13 is None:
            publisher = "人民出版社"
            isbn13 = isbns.issue(publisher)
            assert isbn13 is not None  # a two-digit publisher code has a million numbers
        class_seq[clc_class] += 1
        copies = rng.choice((1, 1, 2, 2, 2, 3))
        return DemoTitle(title, authors, publisher, year, clc_class, category, isbn13,
                         f"{clc_class}/{class_seq[clc_class]}", summary, copies, title_py, author_pinyin(authors))

    produced = 0
    for title, authors, publisher, clc_class, category, year in words.CLASSICS:
        if produced >= count:
            return
        made = make(title, authors, publisher, clc_class, category, year,
                    f"《{title}》是{clc.category_name(category)}类经典读物，常读常新。", py(title))
        if made is not None:
            produced += 1
            yield made
    codes = [c.code for c in clc.CATEGORIES]
    while produced < count:
        category = codes[produced % len(codes)]
        spec = words.CATEGORY_WORDS[category]
        topic, form = rng.choice(spec["topics"]), rng.choice(spec["forms"])
        prefix = rng.choice(_PREFIXES) if category != "literature" else ""
        suffix = rng.choice(_SUFFIXES)
        title = f"{prefix}{topic}{form}{suffix}"
        title_py = join_forms(py(prefix), py(topic), py(form), py(suffix))
        summary = spec["summary"][0].format(topic=topic.rstrip("的"))
        made = make(title, _author(rng), rng.choice(spec["publishers"]), rng.choice(spec["classes"]), category,
                    rng.randint(2008, 2025), summary, title_py)
        if made is not None:
            produced += 1
            yield made


def _shelf(category: str, call_number: str) -> str:
    area = words.CATEGORY_WORDS[category]["area"][0]
    digest = sum(call_number.encode())
    return f"{area} {digest % 6 + 1}排 {digest % 5 + 1}层"


def _item_status(sequence: int) -> str:
    if sequence % 97 == 0:
        return ItemStatus.REFERENCE_ONLY
    if sequence % 151 == 0:
        return ItemStatus.IN_REPAIR
    return ItemStatus.AVAILABLE


# --- writing it -----------------------------------------------------------------------------------------------


def _ensure_branch(session: Session, code: str) -> tuple[Branch, bool]:
    branch = session.scalars(select(Branch).where(Branch.code == code)).one_or_none()
    if branch is not None:
        return branch, False
    branch = Branch(**branch_values(code))
    session.add(branch)
    session.flush()
    return branch, True


def _ensure_content(session: Session, branch: Branch, now: datetime) -> tuple[int, int, int]:
    events = 0
    for values in event_values(now):
        event = session.scalars(
            select(BranchEvent).where(BranchEvent.branch_id == branch.id, BranchEvent.title == values["title"])
        ).one_or_none()
        if event is None:
            session.add(BranchEvent(branch_id=branch.id, **values))
            events += 1
        elif event.ends_at < now:
            event.starts_at, event.ends_at = values["starts_at"], values["ends_at"]
    have = set(session.scalars(select(Announcement.text).where(Announcement.branch_id == branch.id)))
    notices = [Announcement(branch_id=branch.id, text=zh, text_en=en) for zh, en in ANNOUNCEMENTS if zh not in have]
    session.add_all(notices)
    urls = set(session.scalars(select(AudioBook.url)))
    books = []
    for n, (title, author, narrator, category, minutes) in enumerate(words.AUDIO_BOOKS):
        url = f"https://audio.example.cn/suojin/{1001 + n}"
        if url not in urls:
            books.append(AudioBook(branch_id=branch.id, title=title, title_en=words.AUDIO_TITLES_EN.get(title, ""),
                                   author=author, narrator=narrator, category=category, url=url,
                                   duration_min=minutes))
    for book in session.scalars(select(AudioBook).where(AudioBook.title_en == "",
                                                        AudioBook.title.in_(words.AUDIO_TITLES_EN))):
        book.title_en = words.AUDIO_TITLES_EN[book.title]  # demo data from before English titles existed
    session.add_all(books)
    return events, len(notices), len(books)


def _ensure_residents(session: Session, branch: Branch, residents: Sequence[DemoResident], now: datetime) -> int:
    have = set(session.scalars(select(Patron.card_key).where(Patron.card_key.in_([r.card_key for r in residents]))))
    added = 0
    for resident in residents:
        if resident.card_key in have:
            continue
        session.add(Patron(card_kind=resident.card_kind, card_key=resident.card_key,
                           masked_card=resident.masked_card, display_name=resident.display_name,
                           status=PatronStatus.ACTIVE, card_valid_until=resident.valid_until,
                           home_branch_id=branch.id, consent_at=now, registered_at=now,
                           note="demo resident"))
        have.add(resident.card_key)
        added += 1
    return added


def _write_chunk(session: Session, branch_id: int, chunk: list[tuple[int, DemoTitle]]) -> tuple[int, int, int]:
    """Insert the titles of `chunk` not yet present (by ISBN), their copies and index rows."""
    existing = set(session.scalars(select(Title.isbn13).where(Title.isbn13.in_([t.isbn13 for _, t in chunk]))))
    new = [(n, t) for n, t in chunk if t.isbn13 not in existing]
    if not new:
        return 0, len(chunk), 0
    rows = [{
        "isbn13": t.isbn13, "title": t.title, "authors": t.authors, "publisher": t.publisher, "pub_year": t.pub_year,
        "clc_class": t.clc_class, "category": t.category, "call_number": t.call_number, "language": "chi",
        "summary": t.summary, "title_pinyin": t.title_py.full, "title_initials": t.title_py.initials,
        "author_pinyin": t.author_py.full, "author_initials": t.author_py.initials,
    } for _, t in new]
    ids = list(session.connection().scalars(insert(Title).returning(Title.id, sort_by_parameter_order=True), rows))
    barcodes: list[str] = []
    items: list[dict[str, Any]] = []
    tokens: list[tuple[str, int, int]] = []
    for title_id, (n, t) in zip(ids, new, strict=True):
        for copy in range(t.copies):
            sequence = n * 3 + copy + 1
            barcode = f"TS{sequence:07d}"
            barcodes.append(barcode)
            items.append({"barcode": barcode, "title_id": title_id, "home_branch_id": branch_id,
                          "current_branch_id": branch_id, "shelf_location": _shelf(t.category, t.call_number),
                          "status": _item_status(sequence)})
        tokens.extend(token_rows(title_id, title=t.title, authors=t.authors, publisher=t.publisher,
                                 isbn13=t.isbn13, call_number=t.call_number, title_py=t.title_py,
                                 author_py=t.author_py))
    taken = set(session.scalars(select(Item.barcode).where(Item.barcode.in_(barcodes))))
    items = [i for i in items if i["barcode"] not in taken]
    if items:
        session.connection().execute(insert(Item), items)
    insert_tokens(session.connection(), tokens)
    return len(new), len(chunk) - len(new), len(items)


def load_demo(
    db: Database,
    *,
    titles: int,
    branch_code: str = "DEMO",
    residents: Sequence[DemoResident] = (),
    now: datetime | None = None,
    progress: Progress | None = None,
    seed: int = SEED,
) -> DemoReport:
    """Create or complete the demo branch; safe to run any number of times."""
    now = now or datetime.now(UTC)
    with db.unit_of_work() as session:
        branch, created = _ensure_branch(session, branch_code)
        events, notices, books = _ensure_content(session, branch, now)
        patrons = _ensure_residents(session, branch, residents, now)
        branch_id = branch.id
    added = existing = items = 0
    chunk: list[tuple[int, DemoTitle]] = []

    def flush() -> None:
        nonlocal added, existing, items
        with db.unit_of_work(statement_timeout_s=BATCH_STATEMENT_TIMEOUT_S) as session:
            a, e, i = _write_chunk(session, branch_id, chunk)
        added, existing, items = added + a, existing + e, items + i
        chunk.clear()
        if progress is not None:
            progress(added + existing, titles)

    for n, title in enumerate(generate_titles(titles, seed)):
        chunk.append((n, title))
        if len(chunk) >= CHUNK:
            flush()
    if chunk:
        flush()
    return DemoReport(branch_id, created, added, existing, items, patrons, events, notices, books)
