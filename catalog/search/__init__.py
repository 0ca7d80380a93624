"""Catalog search with Chinese grams and pinyin, on SQLite and PostgreSQL alike.

Importing this package installs the session hooks that keep the index in step with ORM writes of titles.
"""

from __future__ import annotations

from catalog.search.index import fill_pinyin, index_titles, pinyin_columns, reindex_all, token_rows
from catalog.search.model import TitleToken
from catalog.search.query import CatalogHit, CatalogPage, load_hits, search_catalog

__all__ = [
    "CatalogHit",
    "CatalogPage",
    "TitleToken",
    "fill_pinyin",
    "index_titles",
    "load_hits",
    "pinyin_columns",
    "reindex_all",
    "search_catalog",
    "token_rows",
]
