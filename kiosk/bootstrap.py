"""The one place that turns settings into live objects (database, secret). Nothing is created at import time."""

from __future__ import annotations

from collections.abc import Callable

import catalog.search  # noqa: F401  (its session hooks index every title written through the ORM)
from catalog import schema
from catalog.db import Database
from kiosk.config import Settings
from kiosk.secret import load_or_create_secret


def open_database(settings: Settings, *, migrate: bool | None = None,
                  progress: Callable[[str], None] | None = None) -> Database:
    """Open the configured database and make sure its schema matches this code.

    A standalone SQLite kiosk migrates itself on start; a kiosk on a shared PostgreSQL never does (two kiosks
    upgrading one schema at once would race), and refuses to run on a schema that does not match.
    """
    if settings.is_embedded_database:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.from_url(
        settings.database_url,
        pool_size=settings.database.pool_size,
        connect_timeout_s=settings.database.connect_timeout_s,
        statement_timeout_s=settings.database.statement_timeout_s,
    )
    should_migrate = settings.should_auto_migrate if migrate is None else migrate
    try:
        if should_migrate and not schema.is_current(db.engine):
            schema.upgrade(db.engine, progress=progress)
        schema.check_current(db.engine)
    except BaseException:
        db.dispose()
        raise
    return db


def network_secret(settings: Settings) -> bytes:
    return load_or_create_secret(settings.secret_file, may_create=settings.is_embedded_database)
