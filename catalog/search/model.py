"""The search index table: one row per (token, title, field); see `catalog.search.tokens` for what tokens are.

The primary key leads with the token so that exact grams and prefix ranges are index range scans, and it covers the
title id and field, so a search never touches the table itself (SQLite: WITHOUT ROWID; PostgreSQL: index-only
scans). PostgreSQL compares tokens in the "C" collation so that a prefix range (`>= 'hong' AND < 'honh'`) is a
byte range whatever the database's locale.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from catalog.model import Base

TOKEN_TYPE = String(32).with_variant(String(32, collation="C"), "postgresql")


class TitleToken(Base):
    __tablename__ = "title_tokens"
    __table_args__ = (
        Index("ix_title_tokens_title_id", "title_id"),
        {"sqlite_with_rowid": False},
    )

    token: Mapped[str] = mapped_column(TOKEN_TYPE, primary_key=True)
    title_id: Mapped[int] = mapped_column(ForeignKey("titles.id", ondelete="CASCADE"), primary_key=True)
    field: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
