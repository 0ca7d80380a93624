"""Fixtures of the catalog tests: a small hand-made catalog, and the demo branch on both databases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

import catalog.search  # noqa: F401  (index hooks)
from catalog.db import Database
from catalog.demo import DemoReport, load_demo
from catalog.model import Branch, Item, ItemStatus, Title

NOW = datetime(2026, 11, 22, 2, 30, tzinfo=UTC)


@dataclass(frozen=True)
class SmallCatalog:
    branch_id: int
    other_branch_id: int
    ids: dict[str, int]


@pytest.fixture
def small_catalog(database: Database) -> SmallCatalog:
    """A few titles written through the ORM, as a librarian command would: the hooks index them."""
    with database.unit_of_work() as s:
        here = Branch(code="B1", name="锁金村书房")
        there = Branch(code="B2", name="红山书房")
        s.add_all([here, there])
        s.flush()
        books = {
            "hlm": Title(title="红楼梦", authors="曹雪芹 著", publisher="人民文学出版社", isbn13="9787020002207",
                         clc_class="I242.4", category="literature", call_number="I242.4/C12"),
            "history": Title(title="中国历史十五讲", authors="张岂之 主编", publisher="北京大学出版社",
                             isbn13="9787301058473", clc_class="K20", category="history_geography",
                             call_number="K20/Z15"),
            "party": Title(title="基层党建工作手册", authors="本书编写组 编", publisher="党建读物出版社",
                           isbn13="9787509900017", clc_class="D267", category="party", call_number="D267/1"),
            "caoxq": Title(title="曹雪芹传", authors="周汝昌 著", publisher="中华书局", clc_class="K825.6",
                           category="history_geography", call_number="K825.6/Z76"),
            "python": Title(title="Python编程：从入门到实践", authors="[美] 埃里克·马瑟斯 著",
                            publisher="人民邮电出版社", clc_class="TP311.561", category="science",
                            call_number="TP311.561/M21"),
            "elsewhere": Title(title="红色家风故事", authors="李明 著", category="party", call_number="D26/9"),
        }
        s.add_all(books.values())
        s.flush()
        copies = [
            Item(barcode="TS0000001", title_id=books["hlm"].id, shelf_location="F区 1排 2层"),
            Item(barcode="TS0000002", title_id=books["hlm"].id, shelf_location="F区 1排 2层",
                 status=ItemStatus.ON_LOAN),
            Item(barcode="TS0000003", title_id=books["history"].id, shelf_location="D区 3排 1层"),
            Item(barcode="TS0000004", title_id=books["party"].id, shelf_location="A区 1排 1层",
                 status=ItemStatus.IN_REPAIR),
            Item(barcode="TS0000005", title_id=books["caoxq"].id, shelf_location="D区 2排 2层"),
            Item(barcode="TS0000006", title_id=books["caoxq"].id, status=ItemStatus.WITHDRAWN),
            Item(barcode="TS0000007", title_id=books["python"].id, shelf_location="G区 1排 1层"),
        ]
        for item in copies:
            item.home_branch_id = item.current_branch_id = here.id
        far = Item(barcode="TS0000008", title_id=books["elsewhere"].id, home_branch_id=there.id,
                   current_branch_id=there.id)
        s.add_all([*copies, far])
        return SmallCatalog(here.id, there.id, {k: v.id for k, v in books.items()})


@pytest.fixture
def demo(database: Database) -> DemoReport:
    return load_demo(database, titles=180, branch_code="DEMO", now=NOW)
