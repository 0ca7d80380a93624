"""Alembic environment: always driven from `catalog.schema` with a live connection (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context

from catalog.model import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable through the alembic CLI, which we do not ship
    raise RuntimeError("run migrations through `kiosk db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
