"""`kiosk db backup|restore`: one bundle that brings a kiosk back — database, network secret, and what they are.

The bundle is a gzip'd tar with three members:
- `manifest.json`: format version, time, kiosk id and branch, backend, schema heads, SHA-256 of every member;
- `database.sqlite3` (SQLite online backup API: a consistent copy while the kiosk keeps lending) or
  `database.pgdump` (`pg_dump --format=custom`, restored with `pg_restore`);
- `network.secret`: without it every patron key in the database is noise (issue 8: the backup carries the secret);
- `journal.sqlite3`, when the kiosk has an offline journal: actions taken while the database was unreachable that
  may not have reached it yet. A restore *merges* it into the journal in place by action UUID (see
  `kiosk.offline.journal.merge_journal`), so restoring never drops a journaled loan or return, nor doubles one.
Because it holds the secret, the bundle itself is written 0600 and must be kept like the secret.

Restore checks everything before it touches anything: checksums, backend, schema revisions this code knows,
`PRAGMA integrity_check` of the SQLite copy, the secret against the one in place, and whether a kiosk is running on
this data directory (then only `--force`). The SQLite copy is written into the live file through the backup API
too, so even a forced restore under a running kiosk swaps pages under SQLite's own locks, never half a file.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from catalog import schema
from catalog.db import Database
from kiosk.config import Settings
from kiosk.errors import KioskError
from kiosk.offline.journal import merge_journal
from kiosk.offline.settings import offline_settings
from kiosk.ops.instance import kiosk_running

FORMAT = "reading-room-kiosk-backup"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
SECRET_MEMBER = "network.secret"
JOURNAL_MEMBER = "journal.sqlite3"
MEMBERS = {MANIFEST, SQLITE_MEMBER, PG_MEMBER, SECRET_MEMBER, JOURNAL_MEMBER}
MAX_MANIFEST_BYTES = 1_000_000
BACKUP_DIR = "backups"


class BackupError(KioskError):
    """A backup or restore that cannot proceed; `reason` says what to do."""

    key = "ops.backup_failed"

    def __init__(self, reason: str) -> None:
        super().__init__(reason=reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class BackupManifest:
    created_at: str
    kiosk_id: str
    branch: str
    backend: str
    schema_heads: list[str]
    files: dict[str, str]
    """member name → SHA-256 hex."""

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "created_at": self.created_at, "kiosk_id": self.kiosk_id,
                "branch": self.branch, "backend": self.backend, "schema_heads": self.schema_heads,
                "files": self.files}

    @classmethod
    def from_json(cls, data: Any) -> BackupManifest:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError("not a reading-room-kiosk backup (manifest format missing)")
        if data.get("version") != VERSION:
            raise BackupError(f"backup format version {data.get('version')!r} is not supported (this kiosk reads "
                              f"{VERSION})")
        try:
            files = data["files"]
            heads = data["schema_heads"]
            if not (isinstance(files, dict) and all(isinstance(k, str) and isinstance(v, str)
                                                    for k, v in files.items())):
                raise TypeError
            if not (isinstance(heads, list) and all(isinstance(h, str) for h in heads)):
                raise TypeError
            fields = [data[k] for k in ("created_at", "kiosk_id", "branch", "backend")]
            if not all(isinstance(v, str) for v in fields):
                raise TypeError
        except (KeyError, TypeError):
            raise BackupError("backup manifest is incomplete or malformed") from None
        if data["backend"] not in ("sqlite", "postgresql"):
            raise BackupError(f"backup of unknown database backend {data['backend']!r}")
        return cls(data["created_at"], data["kiosk_id"], data["branch"], data["backend"], heads, files)


@dataclass(frozen=True)
class RestoreResult:
    manifest: BackupManifest
    database: str
    secret: str
    """"written", "unchanged", "replaced" or "absent" (the bundle had none)."""
    journal_rows_added: int = 0
    """Journaled actions the bundle held that the kiosk's own journal did not (they will replay)."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.database_url).database
    if not database:
        raise BackupError("the SQLite database URL names no file")
    return Path(database)


def _libpq(settings: Settings) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password (which goes in PGPASSWORD, so it never shows in `ps`)."""
    url = make_url(settings.database_url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found on PATH: install the PostgreSQL client tools (e.g. apt install "
                          f"postgresql-client) matching the server's major version")
    return path


def _sqlite_heads(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        has = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'").fetchone()
        return sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version")) if has else []
    finally:
        conn.close()


def _sqlite_snapshot(source: Path, target: Path) -> None:
    """Online backup API: readers and the kiosk's writers carry on; the copy is one consistent point in time."""
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        # A single self-contained file in the bundle: leave WAL mode in the copy (the kiosk turns it back on).
        dst.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} cannot be backed up: {exc}") from None
    finally:
        dst.close()
        src.close()


def integrity_problems(path: Path) -> list[str]:
    """`PRAGMA integrity_check` and `foreign_key_check`; empty means sound."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
            problems = [] if rows == ["ok"] else rows
            problems += [f"foreign key: {r}" for r in conn.execute("PRAGMA foreign_key_check")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    return problems


def _write_private(path: Path, data: bytes) -> None:
    """Write via a 0600 temporary file and rename, so neither a reader nor a crash ever sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp creates 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def default_backup_name(settings: Settings, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"kiosk-{settings.kiosk.id}-{stamp}.tar.gz"


def create_backup(settings: Settings, out: Path | None = None, *, now: datetime | None = None) -> tuple[Path,
                                                                                                         BackupManifest]:
    """Write a bundle to `out` (default: `data_dir/backups/<name>`); returns its path and manifest."""
    now = now or datetime.now(UTC)
    out = out or settings.data_dir / BACKUP_DIR / default_backup_name(settings, now)
    members: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="kiosk-backup-") as work:
        # The journal first, the database after it: a row the bundle's journal calls applied is then surely in the
        # bundle's database; one replayed between the two copies is still pending in the journal, and replaying it
        # after a restore is a no-op through the offline_actions ledger. (The other order could restore a loan
        # as "applied" that the restored database never saw.)
        journal = offline_settings(settings).journal_path
        if journal.is_file():
            copy = Path(work, JOURNAL_MEMBER)
            _sqlite_snapshot(journal, copy)
            members[JOURNAL_MEMBER] = copy.read_bytes()
        if settings.is_embedded_database:
            backend = "sqlite"
            copy = Path(work, SQLITE_MEMBER)
            _sqlite_snapshot(_sqlite_path(settings), copy)
            heads = _sqlite_heads(copy)
            members[SQLITE_MEMBER] = copy.read_bytes()
        else:
            backend = "postgresql"
            dump = Path(work, PG_MEMBER)
            uri, env = _libpq(settings)
            run = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                                  f"--file={dump}", f"--dbname={uri}"], env=env, capture_output=True, text=True,
                                 check=False)
            if run.returncode != 0:
                raise BackupError(f"pg_dump failed: {run.stderr.strip().splitlines()[-1:] or run.returncode}")
            db = Database.from_url(settings.database_url, connect_timeout_s=settings.database.connect_timeout_s)
            try:
                heads = sorted(schema.database_heads(db.engine))
            finally:
                db.dispose()
            members[PG_MEMBER] = dump.read_bytes()
    if settings.secret_file.is_file():
        members[SECRET_MEMBER] = settings.secret_file.read_bytes()
    manifest = BackupManifest(now.isoformat(timespec="seconds"), settings.kiosk.id, settings.kiosk.branch, backend,
                              heads, {name: _sha256(data) for name, data in members.items()})
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in [(MANIFEST, json.dumps(manifest.to_json(), indent=2).encode()), *members.items()]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            info.mtime = int(now.timestamp())
            tar.addfile(info, io.BytesIO(data))
    _write_private(out, buffer.getvalue())
    return out, manifest


def read_bundle(path: Path) -> tuple[BackupManifest, dict[str, bytes]]:
    """Open and verify a bundle (any bytes at all raise only `BackupError`)."""
    try:
        members: dict[str, bytes] = {}
        with tarfile.open(path, mode="r:*") as tar:
            for info in tar:
                if info.name not in MEMBERS or not info.isfile() or info.name in members:
                    raise BackupError(f"unexpected member {info.name!r} in backup")
                handle = tar.extractfile(info)
                if handle is None:
                    raise BackupError(f"unreadable member {info.name!r} in backup")
                members[info.name] = handle.read()
        raw = members.pop(MANIFEST, None)
        if raw is None or len(raw) > MAX_MANIFEST_BYTES:
            raise BackupError("backup has no manifest")
        manifest = BackupManifest.from_json(json.loads(raw.decode("utf-8")))
    except BackupError:
        raise
    except FileNotFoundError:
        raise BackupError(f"no such backup file: {path}") from None
    except (tarfile.TarError, OSError, EOFError, zlib.error, ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{path} is not a readable backup: {exc}") from None
    if set(manifest.files) != set(members):
        raise BackupError("backup members do not match its manifest")
    for name, data in members.items():
        if _sha256(data) != manifest.files[name]:
            raise BackupError(f"{name} in the backup is damaged (checksum mismatch)")
    return manifest, members


def _check_heads(heads: list[str]) -> None:
    script = ScriptDirectory(str(schema.MIGRATIONS_DIR))
    known = {rev.revision for rev in script.walk_revisions()}
    unknown = sorted(set(heads) - known)
    if unknown:
        raise BackupError(f"backup was made by newer kiosk software (schema {', '.join(unknown)}): update first")


def _secret_action(settings: Settings, secret: bytes | None, force: bool) -> str:
    if secret is None:
        return "absent"
    path = settings.secret_file
    if not path.exists():
        return "written"
    if path.read_bytes().strip() == secret.strip():
        return "unchanged"
    if not force:
        raise BackupError(f"the backup's network secret differs from {path}: restoring would make every patron "
                          "a stranger to this network; use --force only if the backup's secret is the right one")
    return "replaced"


def restore_backup(settings: Settings, bundle: Path, *, force: bool = False) -> RestoreResult:
    manifest, members = read_bundle(bundle)
    backend = "sqlite" if settings.is_embedded_database else "postgresql"
    if manifest.backend != backend:
        raise BackupError(f"backup holds a {manifest.backend} database but this kiosk is configured for {backend}")
    _check_heads(manifest.schema_heads)
    if kiosk_running(settings) and not force:
        raise BackupError(f"a kiosk is running on {settings.data_dir}: stop it (systemctl stop reading-room-kiosk) "
                          "or pass --force")
    secret_action = _secret_action(settings, members.get(SECRET_MEMBER), force)
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=settings.data_dir) as work:
        journal = _stage_journal(Path(work), members.get(JOURNAL_MEMBER))  # checked before anything is touched
        if backend == "sqlite":
            _restore_sqlite(settings, Path(work), members[SQLITE_MEMBER], manifest)
        else:
            _restore_postgres(settings, Path(work), members[PG_MEMBER], force)
        added = _merge_journal(settings, journal)
    if secret_action in ("written", "replaced"):
        _write_private(settings.secret_file, members[SECRET_MEMBER])
    return RestoreResult(manifest, settings.database_url if backend == "sqlite" else
                         make_url(settings.database_url).render_as_string(hide_password=True), secret_action,
                         added)


def _stage_journal(work: Path, data: bytes | None) -> Path | None:
    if data is None:
        return None
    staged = work / JOURNAL_MEMBER
    _write_private(staged, data)
    problems = integrity_problems(staged)
    if problems:
        raise BackupError(f"the backup's offline journal fails PRAGMA integrity_check: {'; '.join(problems[:3])}")
    return staged


def _merge_journal(settings: Settings, staged: Path | None) -> int:
    if staged is None:
        return 0
    try:
        return merge_journal(staged, offline_settings(settings).journal_path, settings.kiosk.id)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the backup's offline journal could not be merged: {exc}") from None


def _restore_sqlite(settings: Settings, work: Path, data: bytes, manifest: BackupManifest) -> None:
    staged = work / SQLITE_MEMBER
    _write_private(staged, data)
    problems = integrity_problems(staged)
    if problems:
        raise BackupError(f"the backup's database fails PRAGMA integrity_check: {'; '.join(problems[:3])}")
    if _sqlite_heads(staged) != sorted(manifest.schema_heads):
        raise BackupError("the backup's database does not hold the schema its manifest names")
    target = _sqlite_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o600))
    src = sqlite3.connect(staged)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
        rows = [r[0] for r in dst.execute("PRAGMA integrity_check")]
    finally:
        dst.close()
        src.close()
    if rows != ["ok"]:
        raise BackupError(f"restored database fails PRAGMA integrity_check: {rows[:3]}")


def _restore_postgres(settings: Settings, work: Path, data: bytes, force: bool) -> None:
    db = Database.from_url(settings.database_url, connect_timeout_s=settings.database.connect_timeout_s)
    try:
        has_schema = bool(schema.database_heads(db.engine))
    finally:
        db.dispose()
    if has_schema and not force:
        raise BackupError("the PostgreSQL database already holds a kiosk schema (shared by every kiosk of the "
                          "network): pass --force to replace it")
    dump = work / PG_MEMBER
    _write_private(dump, data)
    tool = _tool("pg_restore")
    listing = subprocess.run([tool, "--list", str(dump)], capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        raise BackupError(f"the backup's PostgreSQL dump is unreadable: {listing.stderr.strip()[:300]}")
    uri, env = _libpq(settings)
    run = subprocess.run([tool, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                          "--exit-on-error", f"--dbname={uri}", str(dump)], env=env, capture_output=True, text=True,
                         check=False)
    if run.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing was changed): {run.stderr.strip()[:300]}")


def backups_in(directory: Path) -> list[Path]:
    """Bundles made by the schedule, oldest first (names sort by time)."""
    return sorted(p for p in directory.glob("kiosk-*.tar.gz") if p.is_file())


def prune_backups(directory: Path, keep: int) -> list[Path]:
    doomed = backups_in(directory)[:-keep] if keep > 0 else []
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def backup_due(settings: Settings, interval_h: float, now: datetime | None = None) -> bool:
    existing = backups_in(settings.data_dir / BACKUP_DIR)
    if not existing:
        return True
    age_s = (now or datetime.now(UTC)).timestamp() - existing[-1].stat().st_mtime
    return age_s >= interval_h * 3600


def scheduled_backup(settings: Settings, keep: int, now: datetime | None = None) -> tuple[Path, list[Path]]:
    """What the app calls once a day: a new bundle in `data_dir/backups`, then keep only the newest `keep`.

    On the same disk as the data, so it guards against corruption and mistakes, not against a dead disk: copy the
    folder off the kiosk too (docs/OPERATIONS.md)."""
    path, _ = create_backup(settings, now=now)
    return path, prune_backups(path.parent, keep)


def manifest_summary(manifest: BackupManifest) -> Mapping[str, Any]:
    return {k: v for k, v in manifest.to_json().items() if k != "files"} | {"files": sorted(manifest.files)}
