"""Migrations: where they live, which revisions the code expects, and whether a database matches them.

Later features may ship their own migration branches rooted at the initial revision, so "up to date" means the
database holds exactly the heads the code knows about, and upgrading means `upgrade heads`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class SchemaOutOfDate(RuntimeError):
    """The database and this code disagree on the schema; the kiosk must not touch such a database."""

    def __init__(self, database_heads: set[str], code_heads: set[str]) -> None:
        self.database_heads = database_heads
        self.code_heads = code_heads
        have = ", ".join(sorted(database_heads)) or "no schema"
        want = ", ".join(sorted(code_heads))
        ahead = bool(database_heads - self._known_revisions())
        hint = (
            "this kiosk's software is older than the database: update the kiosk"
            if ahead
            else "run `kiosk db upgrade` (for a shared database: once, from one machine) and start again"
        )
        super().__init__(f"database schema is at {have}, this kiosk needs {want}: {hint}")

    @staticmethod
    def _known_revisions() -> set[str]:
        return {rev.revision for rev in _script().walk_revisions()}


def _config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def code_heads() -> set[str]:
    return set(_script().get_heads())


def database_heads(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def is_current(engine: Engine) -> bool:
    return database_heads(engine) == code_heads()


def check_current(engine: Engine) -> None:
    have, want = database_heads(engine), code_heads()
    if have != want:
        raise SchemaOutOfDate(have, want)


def upgrade(engine: Engine, progress: Callable[[str], None] | None = None) -> None:
    """Migrate to every head; each revision runs in the migration's own transaction."""
    config = _config()
    if progress is not None:
        config.print_stdout = lambda text, *args: progress(text % args if args else text)  # type: ignore[method-assign]
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


def pending_revisions(engine: Engine) -> list[str]:
    have = database_heads(engine)
    script = _script()
    pending: list[str] = []
    for rev in script.walk_revisions():
        if not have or not any(rev.revision in script.get_revisions(h) or rev.revision == h for h in have):
            pending.append(rev.revision)
    return list(reversed(pending))
