"""The hand-written migration creates exactly what `catalog.traffic_model` maps (on both backends)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import catalog.traffic_model  # noqa: F401 - registers the traffic tables on Base.metadata
from catalog import schema
from catalog.db import Database
from catalog.model import Base


def _table_of(diff: Any) -> str:
    for part in diff if isinstance(diff, tuple) else diff[0]:
        name = getattr(part, "name", None)
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", "").startswith("traffic_"):
            return str(table.name)
        if isinstance(name, str) and name.startswith("traffic_"):
            return name
        if isinstance(part, str) and part.startswith("traffic_"):
            return part
    return ""


def test_migration_matches_the_model(database: Database) -> None:
    assert "traffic_0001" in schema.database_heads(database.engine)
    with database.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    ours = [d for d in diffs if _table_of(d)]
    assert ours == []
