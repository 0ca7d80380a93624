"""The hand-written offline migration creates exactly what `catalog.offline_model` maps (on both backends)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import catalog.offline_model  # noqa: F401 - registers the offline tables on Base.metadata
from catalog import schema
from catalog.db import Database
from catalog.model import Base

TABLES = {"offline_actions", "circulation_exceptions"}


def _mentions_ours(diff: Any) -> bool:
    text = repr(diff)
    return any(name in text for name in TABLES)


def test_migration_matches_the_model(database: Database) -> None:
    assert "offline_0001" in schema.database_heads(database.engine)
    with database.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if _mentions_ours(d)] == []
