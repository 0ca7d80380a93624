"""English summaries and audio-book titles (i18n_0001): the migration adds exactly what the model maps, on both
backends; rows from before it read as empty, which the screens show as the Chinese text; the browser hands both
languages to the UI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, insert, select, text

from catalog import schema
from catalog.db import Database
from catalog.demo import DemoReport
from catalog.model import AudioBook, Base, Title
from kiosk.browse import Browser
from tests.catalog.conftest import SmallCatalog

NEW_COLUMNS = {("titles", "summary_en"), ("audio_books", "title_en")}


def _columns_of(diff: Any) -> set[tuple[str, str]]:
    """The new columns an autogenerate diff entry is about (an added/removed column, or a changed one)."""
    found: set[tuple[str, str]] = set()
    for part in diff if isinstance(diff, list) else [diff]:
        for item in part if isinstance(part, tuple) else (part,):
            pair = (getattr(getattr(item, "table", None), "name", None), getattr(item, "name", None))
            if not isinstance(item, str) and pair in NEW_COLUMNS:
                found.add((str(pair[0]), str(pair[1])))
        if isinstance(part, tuple) and len(part) > 3 and (part[2], part[3]) in NEW_COLUMNS:
            found.add((str(part[2]), str(part[3])))
    return found


def test_the_migration_adds_what_the_model_maps(database: Database) -> None:
    assert "i18n_0001" in schema.database_heads(database.engine)
    with database.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if _columns_of(d)] == []
    with database.unit_of_work() as s:  # written without the new columns, as older code does
        s.execute(insert(Title).values(title="红楼梦"))
        s.execute(insert(AudioBook).values(title="边城", url="https://audio.example.cn/1"))
    with database.read() as s:
        assert s.scalars(select(Title.summary_en)).one() == ""
        assert s.scalars(select(AudioBook.title_en)).one() == ""


def test_rows_from_before_the_migration_read_as_empty(tmp_path: Path) -> None:
    """An existing kiosk database (SQLite) upgraded with titles and audio books already in it."""
    engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    config = schema._config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(text("INSERT INTO titles (title, authors, publisher, clc_class, category, call_number, "
                          "language, summary, title_pinyin, title_initials, author_pinyin, author_initials, "
                          "created_at, updated_at) VALUES ('边城', '沈从文', '', '', '', '', 'chi', '湘西小城', "
                          "'', '', '', '', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO audio_books (title, author, narrator, category, url) "
                          "VALUES ('边城', '沈从文', '', '', 'https://audio.example.cn/1')"))
        command.upgrade(config, "heads")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT summary, summary_en FROM titles")).one() == ("湘西小城", "")
        assert conn.execute(text("SELECT title_en FROM audio_books")).scalar_one() == ""
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "i18n_0001-1")
    with engine.connect() as conn:
        assert "summary_en" not in [row[1] for row in conn.execute(text("PRAGMA table_info(titles)"))]
    engine.dispose()


def test_the_browser_gives_both_languages_and_falls_back_to_chinese(database: Database,
                                                                     small_catalog: SmallCatalog) -> None:
    title_id = small_catalog.ids["hlm"]
    browser = Browser(database, "B1")
    detail = browser.title_detail(title_id)
    assert detail is not None and detail.summary_en == ""
    assert detail.summary_in("en") == detail.summary_in("zh_CN") == detail.summary
    with database.unit_of_work() as s:
        title = s.get(Title, title_id)
        assert title is not None
        title.summary, title.summary_en = "贾宝玉与林黛玉的故事。", "The story of Jia Baoyu and Lin Daiyu."
    detail = browser.title_detail(title_id)
    assert detail is not None
    assert detail.summary_in("en") == "The story of Jia Baoyu and Lin Daiyu."
    assert detail.summary_in("zh_CN") == "贾宝玉与林黛玉的故事。"


def test_demo_audio_books_have_english_titles(database: Database, demo: DemoReport) -> None:
    books = Browser(database, "DEMO").audio_books()
    border_town = next(b for b in books if b.title == "边城")
    assert border_town.title_in("en") == "Border Town" and border_town.title_in("zh_CN") == "边城"
