"""Backup and restore on both backends: the SQLite online backup API while a writer is active, pg_dump/pg_restore,
the secret travelling with the database, and every refusal a restore must make."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import stat
import tarfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select

from catalog.db import Database
from catalog.model import Branch
from kiosk.config import Settings
from kiosk.ops.backup import (
    BackupError,
    backup_due,
    backups_in,
    create_backup,
    integrity_problems,
    read_bundle,
    restore_backup,
    scheduled_backup,
)
from kiosk.ops.instance import KioskAlreadyRunning, KioskInstanceLock, kiosk_running
from kiosk.secret import create_secret


def add_branches(db: Database, *codes: str) -> None:
    with db.unit_of_work() as session:
        session.add_all(Branch(code=code, name=f"branch {code}") for code in codes)


def branch_codes(db: Database) -> list[str]:
    with db.read() as session:
        return sorted(session.scalars(select(Branch.code)))


@pytest.fixture
def kiosk(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    settings = make_settings(url="" if database_url.startswith("sqlite") else database_url)
    if settings.is_embedded_database:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(database_url.removeprefix("sqlite:///"), settings.data_dir / "kiosk.sqlite3")
    create_secret(settings.secret_file)
    return settings


def test_backup_then_restore_brings_back_data_and_secret(kiosk: Settings, tmp_path: Path) -> None:
    db = Database.from_url(kiosk.database_url)
    try:
        add_branches(db, "A", "B")
        bundle, manifest = create_backup(kiosk, tmp_path / "out" / "b.tar.gz")
        assert stat.S_IMODE(bundle.stat().st_mode) == 0o600
        assert manifest.kiosk_id == kiosk.kiosk.id and manifest.schema_heads
        assert "network.secret" in manifest.files
        secret = kiosk.secret_file.read_bytes()

        add_branches(db, "C")  # after the backup: must disappear
        kiosk.secret_file.unlink()
        result = restore_backup(kiosk, bundle, force=not kiosk.is_embedded_database)
        db.dispose()
        assert branch_codes(db) == ["A", "B"]
        assert result.secret == "written"
        assert kiosk.secret_file.read_bytes() == secret
        assert stat.S_IMODE(kiosk.secret_file.stat().st_mode) == 0o600
    finally:
        db.dispose()


def test_sqlite_backup_is_consistent_while_a_writer_holds_the_database(make_settings: Callable[..., Settings],
                                                                       sqlite_database: Database,
                                                                       tmp_path: Path) -> None:
    settings = make_settings(url=str(sqlite_database.engine.url))
    add_branches(sqlite_database, "A")
    with sqlite_database.unit_of_work() as session:  # a kiosk mid-loan holds the write lock: backup must not wait
        session.add(Branch(code="X", name="uncommitted"))
        session.flush()
        bundle, _ = create_backup(settings, tmp_path / "b.tar.gz")
    assert branch_codes(sqlite_database) == ["A", "X"]
    _, members = read_bundle(bundle)
    copy = tmp_path / "copy.sqlite3"
    copy.write_bytes(members["database.sqlite3"])
    assert integrity_problems(copy) == []
    with sqlite3.connect(copy) as conn:
        assert [r[0] for r in conn.execute("SELECT code FROM branches")] == ["A"]


def test_restore_refuses_over_a_running_kiosk_without_force(make_settings: Callable[..., Settings],
                                                             sqlite_database: Database, tmp_path: Path) -> None:
    settings = make_settings(url=str(sqlite_database.engine.url))
    add_branches(sqlite_database, "A")
    bundle, _ = create_backup(settings, tmp_path / "b.tar.gz")
    add_branches(sqlite_database, "B")
    with KioskInstanceLock(settings):
        assert kiosk_running(settings)
        with pytest.raises(KioskAlreadyRunning):
            KioskInstanceLock(settings).acquire()
        with pytest.raises(BackupError, match="kiosk is running"):
            restore_backup(settings, bundle)
        assert branch_codes(sqlite_database) == ["A", "B"]
        restore_backup(settings, bundle, force=True)  # pages swapped under SQLite's locks, engine still usable
        assert branch_codes(sqlite_database) == ["A"]
    assert not kiosk_running(settings)


def test_restore_refuses_a_different_network_secret(make_settings: Callable[..., Settings],
                                                     sqlite_database: Database, tmp_path: Path) -> None:
    settings = make_settings(url=str(sqlite_database.engine.url))
    create_secret(settings.secret_file)
    bundle, _ = create_backup(settings, tmp_path / "b.tar.gz")
    settings.secret_file.unlink()
    create_secret(settings.secret_file)
    other = settings.secret_file.read_bytes()
    with pytest.raises(BackupError, match="secret differs"):
        restore_backup(settings, bundle)
    assert settings.secret_file.read_bytes() == other
    assert restore_backup(settings, bundle, force=True).secret == "replaced"
    assert settings.secret_file.read_bytes() != other


def rewrite_bundle(source: Path, target: Path, change: Callable[[dict[str, bytes]], None]) -> None:
    with tarfile.open(source) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]
    change(members)
    with tarfile.open(target, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_restore_verifies_manifest_checksums_schema_and_integrity(make_settings: Callable[..., Settings],
                                                                  sqlite_database: Database,
                                                                  tmp_path: Path) -> None:
    settings = make_settings(url=str(sqlite_database.engine.url))
    add_branches(sqlite_database, "A")
    good, _ = create_backup(settings, tmp_path / "good.tar.gz")

    def flip_byte(m: dict[str, bytes]) -> None:
        db = bytearray(m["database.sqlite3"])
        db[5000] ^= 0xFF
        m["database.sqlite3"] = bytes(db)

    def corrupt_but_rehash(m: dict[str, bytes]) -> None:
        import hashlib

        db = bytearray(m["database.sqlite3"])
        page = 4096
        db[page * 2: page * 3] = b"\xa5" * page  # a b-tree page of garbage
        m["database.sqlite3"] = bytes(db)
        manifest = json.loads(m["manifest.json"])
        manifest["files"]["database.sqlite3"] = hashlib.sha256(m["database.sqlite3"]).hexdigest()
        m["manifest.json"] = json.dumps(manifest).encode()

    def newer_schema(m: dict[str, bytes]) -> None:
        manifest = json.loads(m["manifest.json"])
        manifest["schema_heads"] = ["zzz_9999"]
        m["manifest.json"] = json.dumps(manifest).encode()

    def extra_member(m: dict[str, bytes]) -> None:
        m["../../etc/passwd"] = b"x"

    def no_manifest(m: dict[str, bytes]) -> None:
        del m["manifest.json"]

    cases = [(flip_byte, "checksum"), (corrupt_but_rehash, "integrity_check"), (newer_schema, "newer kiosk"),
             (extra_member, "unexpected member"), (no_manifest, "no manifest")]
    for change, message in cases:
        bad = tmp_path / f"{change.__name__}.tar.gz"
        rewrite_bundle(good, bad, change)
        with pytest.raises(BackupError, match=message):
            restore_backup(settings, bad)
    assert branch_codes(sqlite_database) == ["A"]


def test_restore_refuses_the_other_backend(make_settings: Callable[..., Settings], sqlite_database: Database,
                                           tmp_path: Path) -> None:
    bundle, _ = create_backup(make_settings(url=str(sqlite_database.engine.url)), tmp_path / "b.tar.gz")
    pg = make_settings(url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(BackupError, match="sqlite database but this kiosk is configured for postgresql"):
        restore_backup(pg, bundle)


def test_postgres_backup_without_pg_dump_is_a_clear_error(make_settings: Callable[..., Settings],
                                                           monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an environment without the PostgreSQL client tools
    with pytest.raises(BackupError, match="pg_dump not found on PATH"):
        create_backup(make_settings(url="postgresql+psycopg://nobody@127.0.0.1:1/none"), tmp_path / "b.tar.gz")


def test_scheduled_backup_keeps_the_newest_n(make_settings: Callable[..., Settings],
                                              sqlite_database: Database) -> None:
    settings = make_settings(url=str(sqlite_database.engine.url))
    start = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    assert backup_due(settings, 24, start)
    made = []
    for day in range(5):
        path, _ = scheduled_backup(settings, keep=3, now=start + timedelta(days=day))
        made.append(path)
    assert backups_in(settings.data_dir / "backups") == made[-3:]
    assert not backup_due(settings, 24)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in made[-3:])


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=2000), st.binary(max_size=200).map(lambda b: b"\x1f\x8b\x08" + b)))
def test_arbitrary_bytes_are_only_ever_a_backup_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.tar.gz"
    path.write_bytes(data)
    with pytest.raises(BackupError):
        read_bundle(path)


@hsettings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(manifest=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                             lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                         max_size=6),
                             max_leaves=20))
def test_arbitrary_manifests_are_only_ever_a_backup_error(tmp_path: Path, manifest: object) -> None:
    path = tmp_path / "m.tar.gz"
    data = json.dumps(manifest).encode()
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(BackupError):
        read_bundle(path)
    os.unlink(path)


def _journal_rows(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        return [(r[0], r[1]) for r in conn.execute("SELECT uuid, state FROM journal ORDER BY seq")]
    finally:
        conn.close()


def test_the_offline_journal_travels_with_the_backup_and_merges_by_uuid(kiosk: Settings, tmp_path: Path) -> None:
    """A lost disk must not take offline loans with it; restoring must neither drop nor double a journaled action."""
    from kiosk.offline.journal import Journal
    from kiosk.offline.settings import offline_settings

    path = offline_settings(kiosk).journal_path
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    journal = Journal(path, kiosk.kiosk.id)
    with journal.transaction() as conn:
        journal.insert(conn, uuid="a-old", action="checkout", card_key="k1", barcode="TS1", loan_ref="", at=now)
        journal.insert(conn, uuid="b-old", action="checkin", card_key=None, barcode="TS2", loan_ref="", at=now)
    journal.mark("b-old", "applied", now)
    journal.close()
    bundle, manifest = create_backup(kiosk, tmp_path / "with-journal.tar.gz")
    assert "journal.sqlite3" in manifest.files

    path.unlink()  # the disk was replaced; the kiosk has journaled one new action since
    journal = Journal(path, kiosk.kiosk.id)
    with journal.transaction() as conn:
        journal.insert(conn, uuid="c-new", action="checkin", card_key=None, barcode="TS3", loan_ref="", at=now)
    journal.close()

    result = restore_backup(kiosk, bundle, force=True)
    assert result.journal_rows_added == 2
    assert _journal_rows(path) == [("a-old", "pending"), ("b-old", "applied"), ("c-new", "pending")]
    again = restore_backup(kiosk, bundle, force=True)
    assert again.journal_rows_added == 0
    assert len(_journal_rows(path)) == 3


def test_a_journal_that_is_not_sqlite_fails_the_backup_with_a_clear_error(kiosk: Settings, tmp_path: Path) -> None:
    from kiosk.offline.settings import offline_settings

    path = offline_settings(kiosk).journal_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a journal at all")
    with pytest.raises(BackupError, match="cannot be backed up"):
        create_backup(kiosk, tmp_path / "bad.tar.gz")  # never a bundle that could not be restored
    assert not (tmp_path / "bad.tar.gz").exists()
