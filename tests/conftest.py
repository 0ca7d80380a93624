"""Shared fixtures: real databases (a SQLite file and PostgreSQL), settings in a temp dir, headless Kivy env.

Every database-touching test takes `database`, parametrised over both backends. PostgreSQL is found through
`KIOSK_TEST_POSTGRES_URL` (default: the local server); each test run gets its own freshly created database so that
parallel runs on one server cannot see each other. Outside CI a missing server skips those tests; in CI it fails.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")

from catalog import schema
from catalog.db import Database

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _postgres_admin_url() -> str:
    return os.environ.get("KIOSK_TEST_POSTGRES_URL", DEFAULT_PG)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once, copy the file per test: a fresh real database in milliseconds."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    db = Database.from_url(f"sqlite:///{path}")
    schema.upgrade(db.engine)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_url() -> Iterator[str | None]:
    admin_url = _postgres_admin_url()
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {admin_url}: {exc}")
        yield None
        return
    name = f"kiosk_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    db = Database.from_url(url)
    schema.upgrade(db.engine)
    db.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _truncate_all(db: Database) -> None:
    tables = [t for t in inspect(db.engine).get_table_names() if t != "alembic_version"]
    if tables:
        with db.engine.begin() as conn:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path, _postgres_url: str | None
) -> Iterator[str]:
    """URL of a fresh, migrated, empty database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "kiosk.sqlite3"
        shutil.copyfile(_sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    if _postgres_url is None:
        pytest.skip("PostgreSQL not reachable (set KIOSK_TEST_POSTGRES_URL); required in CI")
    cleaner = Database.from_url(_postgres_url)
    _truncate_all(cleaner)
    try:
        yield _postgres_url
    finally:
        _truncate_all(cleaner)
        cleaner.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database.from_url(database_url)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def sqlite_database(tmp_path: Path, _sqlite_template: Path) -> Iterator[Database]:
    """For the few tests that are about SQLite itself (WAL, pragmas, file locking)."""
    path = tmp_path / "kiosk.sqlite3"
    shutil.copyfile(_sqlite_template, path)
    db = Database.from_url(f"sqlite:///{path}")
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def secret() -> bytes:
    return bytes(range(32))


@pytest.fixture
def kiosk_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean environment for settings: data dir in tmp, no stray KIOSK_* variables from the developer's shell."""
    for key in list(os.environ):
        if key.startswith("KIOSK_") and key != "KIOSK_TEST_POSTGRES_URL":
            monkeypatch.delenv(key)
    data = tmp_path / "data"
    monkeypatch.setenv("KIOSK_DATA_DIR", str(data))
    monkeypatch.chdir(tmp_path)
    return data
