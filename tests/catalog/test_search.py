from __future__ import annotations

from sqlalchemy import func, select

from catalog.db import Database
from catalog.model import Title
from catalog.search import TitleToken, reindex_all, search_catalog
from catalog.search.tokens import query_terms
from tests.catalog.conftest import SmallCatalog


def _titles(db: Database, query: str, **kwargs: object) -> list[str]:
    with db.read() as s:
        return [h.title for h in search_catalog(s, query, **kwargs).hits]  # type: ignore[arg-type]


QUERIES = [
        ("历史", "中国历史十五讲"),  # two Chinese characters: missed by trigram indexes
        ("党建", "基层党建工作手册"),
        ("红楼梦", "红楼梦"),
        ("hlm", "红楼梦"),
        ("honglou", "红楼梦"),
        ("loumeng", "红楼梦"),
        ("hong lou", "红楼梦"),
        ("HLM", "红楼梦"),
        ("zgls", "中国历史十五讲"),
        ("978-7-02-000220-7", "红楼梦"),
        ("702000220X", "红楼梦"),
        ("TS0000003", "中国历史十五讲"),
        ("ts0000003", "中国历史十五讲"),
        ("I242.4/C12", "红楼梦"),
        ("K20", "中国历史十五讲"),
        ("python", "Python编程：从入门到实践"),
        ("Python 编程", "Python编程：从入门到实践"),
        ("马瑟斯", "Python编程：从入门到实践"),
        ("党建读物", "基层党建工作手册"),
        ("zqz", "中国历史十五讲"),  # author initials 张岂之
]


def test_finds_titles_by_every_kind_of_query(database: Database, small_catalog: SmallCatalog) -> None:
    missed = [(query, expected) for query, expected in QUERIES if expected not in _titles(database, query)]
    assert missed == []


def test_title_match_ranks_above_author_match(database: Database, small_catalog: SmallCatalog) -> None:
    assert _titles(database, "曹雪芹") == ["曹雪芹传", "红楼梦"]


def test_all_terms_are_required(database: Database, small_catalog: SmallCatalog) -> None:
    assert _titles(database, "红楼 历史") == []
    assert _titles(database, "量子") == []
    assert _titles(database, "！？。") == []


def test_single_letters_match_the_start_of_titles_and_authors_only(database: Database,
                                                                   small_catalog: SmallCatalog) -> None:
    assert set(_titles(database, "h")) == {"红楼梦", "红色家风故事"}
    assert "红楼梦" not in _titles(database, "m")  # "meng" is inside the title, not at its start
    assert "红楼梦" in _titles(database, "meng")


def test_availability_and_shelves_and_withdrawn_copies(database: Database, small_catalog: SmallCatalog) -> None:
    with database.read() as s:
        hlm = search_catalog(s, "红楼梦", branch_id=small_catalog.branch_id).hits[0]
        cao = search_catalog(s, "曹雪芹传", branch_id=small_catalog.branch_id).hits[0]
    assert (hlm.copies, hlm.available, hlm.shelf_locations) == (2, 1, ("F区 1排 2层",))
    assert (cao.copies, cao.available) == (1, 1)  # the withdrawn copy is not counted


def test_branch_and_category_filters(database: Database, small_catalog: SmallCatalog) -> None:
    assert _titles(database, "红", branch_id=small_catalog.branch_id) == ["红楼梦"]
    assert _titles(database, "", category="party", branch_id=small_catalog.other_branch_id) == ["红色家风故事"]
    assert set(_titles(database, "", category="party")) == {"基层党建工作手册", "红色家风故事"}
    with database.read() as s:
        page = search_catalog(s, "", limit=2, offset=2)
    assert page.total == 6 and len(page.hits) == 2 and page.offset == 2


def test_editing_a_title_reindexes_it(database: Database, small_catalog: SmallCatalog) -> None:
    with database.unit_of_work() as s:
        title = s.get(Title, small_catalog.ids["python"])
        assert title is not None
        title.title = "量子力学入门"
    assert _titles(database, "量子") == ["量子力学入门"]
    assert _titles(database, "lzlx") == ["量子力学入门"]
    assert _titles(database, "python") == []
    with database.read() as s:
        stored = s.get(Title, small_catalog.ids["python"])
        assert stored is not None and stored.title_initials == "lzlxrm"


def test_reindex_all_rebuilds_the_same_index(database: Database, small_catalog: SmallCatalog) -> None:
    with database.read() as s:
        before = s.scalar(select(func.count()).select_from(TitleToken))
    with database.unit_of_work() as s:
        reindex_all(s)
    with database.read() as s:
        assert s.scalar(select(func.count()).select_from(TitleToken)) == before
    assert _titles(database, "hlm") == ["红楼梦"]


def test_query_terms() -> None:
    assert [t.value for t in query_terms("中国历史")] == ["中国", "历史"]
    assert [t.value for t in query_terms("红楼梦")] == ["红楼", "楼梦"]
    assert [(t.value, t.prefix) for t in query_terms("史")] == [("史", False)]
    assert [t.value for t in query_terms("I247.5/L84")] == ["i2475l84"]
    assert [t.value for t in query_terms("978-7-02-000220-7")] == ["9787020002207"]
    assert query_terms("   ") == []
