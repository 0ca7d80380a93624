"""`kiosk doctor`: is every part this kiosk needs ready? What an installer runs first, and what support asks for.

Each check says what it found in words an operator can act on. A check is `required` when the kiosk cannot serve
residents without it; optional parts (a camera, a printer) are reported but do not fail the run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from catalog import schema
from catalog.db import Database
from kiosk.config import Settings
from kiosk.errors import ConfigError
from kiosk.i18n import LANGUAGES, catalog_files
from kiosk.secret import read_secret


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True
    data: dict[str, Any] = field(default_factory=dict)


def check_config(settings: Settings) -> Check:
    where = str(settings.config_file) if settings.config_file else "built-in defaults (no kiosk.toml found)"
    overrides = sorted(k for k in os.environ if k.startswith("KIOSK_") and k != "KIOSK_TEST_POSTGRES_URL")
    detail = where + (f"; environment overrides: {', '.join(overrides)}" if overrides else "")
    return Check("config", True, detail, data={"file": where, "overrides": overrides})


def check_database(settings: Settings) -> Check:
    db = Database.from_url(settings.database_url, connect_timeout_s=settings.database.connect_timeout_s)
    try:
        have, want = schema.database_heads(db.engine), schema.code_heads()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return Check("database", False, f"{db.safe_url()}: unreachable ({reason})", data={"url": db.safe_url()})
    finally:
        db.dispose()
    data = {"url": db.safe_url(), "schema": sorted(have), "code": sorted(want)}
    if have == want:
        return Check("database", True, f"{db.safe_url()}: schema up to date ({', '.join(sorted(have))})", data=data)
    hint = "starts migrate it" if settings.should_auto_migrate else "run `kiosk db upgrade`"
    state = ", ".join(sorted(have)) or "empty"
    return Check("database", settings.should_auto_migrate and not have - want,
                 f"{db.safe_url()}: schema {state}, code needs {', '.join(sorted(want))} ({hint})", data=data)


def check_secret(settings: Settings) -> Check:
    path = settings.secret_file
    if not path.exists():
        if settings.is_embedded_database:
            return Check("secret", True, f"{path}: will be created on first start", data={"path": str(path)})
        return Check("secret", False, f"{path}: missing; copy the network's secret here", data={"path": str(path)})
    try:
        read_secret(path)
    except ConfigError as exc:
        return Check("secret", False, exc.problem, data={"path": str(path)})
    return Check("secret", True, f"{path}: present, owner-only", data={"path": str(path)})


def _catalog_text() -> str:
    import polib

    chunks: list[str] = []
    for path in catalog_files("zh_CN"):
        if path.is_file():
            chunks.extend(entry.msgstr for entry in polib.pofile(str(path)))
    return "".join(chunks)


def check_font(settings: Settings) -> Check:
    import ui  # noqa: F401  (registers the UI's catalog so its characters are checked too)
    from ui.fonts import INSTALL_HINT, find_cjk_font, font_covers

    path = find_cjk_font(settings)
    if path is None:
        return Check("font", False, INSTALL_HINT)
    missing = font_covers(path, _catalog_text())
    if missing:
        sample = "".join(sorted(missing)[:20])
        return Check("font", False, f"{path}: lacks {len(missing)} characters of the zh UI ({sample})",
                     data={"path": str(path), "missing": sorted(missing)})
    return Check("font", True, f"{path}: covers every character of the zh UI", data={"path": str(path)})


def check_decoders(settings: Settings) -> Check:
    found: dict[str, str] = {}
    problems: list[str] = []
    try:
        from pyzbar import pyzbar  # loads libzbar through ctypes: fails here when libzbar0 is missing

        found["pyzbar"] = getattr(pyzbar, "__name__", "pyzbar")
    except Exception as exc:
        problems.append(f"pyzbar/zbar not usable ({exc}); install libzbar0")
    try:
        import zxingcpp

        found["zxing-cpp"] = getattr(zxingcpp, "__version__", "loaded")
    except Exception as exc:
        problems.append(f"zxing-cpp not usable ({exc})")
    detail = ", ".join(f"{k} {v}" if k != "pyzbar" else "pyzbar (zbar)" for k, v in found.items())
    camera_needed = bool(settings.devices.camera)
    ok = "pyzbar" in found or "zxing-cpp" in found
    return Check("barcode decoders", ok or not camera_needed, "; ".join([detail, *problems]).strip("; "),
                 required=camera_needed, data={"loaded": sorted(found)})


def check_translations(settings: Settings) -> Check:
    import ui  # noqa: F401
    from kiosk.i18n import missing_translations

    missing = missing_translations(LANGUAGES)
    if missing:
        summary = "; ".join(f"{lang} lacks {len(keys)}" for lang, keys in missing.items())
        return Check("translations", False, summary, required=False)
    return Check("translations", True, f"every message has {' and '.join(LANGUAGES)} text", required=False)


def check_offline_journal(settings: Settings) -> Check:
    """The journal backlog: actions lent or returned offline that the database has not taken yet (issue 8)."""
    import sqlite3
    from datetime import UTC, datetime

    from kiosk.offline.journal import journal_backlog
    from kiosk.offline.settings import offline_settings

    offline = offline_settings(settings)
    if not offline.enabled:
        return Check("offline journal", True, "off ([offline] enabled = false)", required=False,
                     data={"enabled": False})
    try:
        found = journal_backlog(offline.journal_path)
    except sqlite3.DatabaseError as exc:
        return Check("offline journal", False, f"{offline.journal_path}: unreadable ({exc}); keep the file for "
                     "support, the actions in it have not reached the database", data={"enabled": True})
    if found is None:
        return Check("offline journal", True, f"{offline.journal_path}: none yet (created on first start)",
                     required=False, data={"enabled": True, "pending": 0})
    pending, oldest, counts = found
    age_s = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
    data = {"enabled": True, "path": str(offline.journal_path), "pending": pending,
            "oldest_pending_at": oldest.isoformat() if oldest else None, **{f"rows_{k}": v for k, v in counts.items()}}
    if not pending:
        return Check("offline journal", True, f"{offline.journal_path}: empty backlog ({counts['applied']} applied, "
                     f"{counts['exception']} exceptions)", required=False, data=data)
    late = pending >= offline.alert_backlog or age_s >= offline.alert_after_s
    hint = " (check the network; `kiosk exceptions list` after)" if late else ""
    return Check("offline journal", not late, f"{pending} action(s) wait for the database, oldest "
                 f"{int(age_s // 60)} min ago{hint}", required=False, data=data)


def check_sip2_journal(settings: Settings) -> Check:
    """The SIP2 store-and-forward backlog (kiosk.sip2.doctor), for a kiosk lending from a library system."""
    from kiosk.sip2.doctor import check_sip2_journal as check

    return check(settings)


CHECKS: list[Callable[[Settings], Check | list[Check]]] = [
    check_config, check_database, check_secret, check_font, check_decoders, check_translations,
    check_offline_journal, check_sip2_journal,
]


def run_checks(settings: Settings, extra: list[Callable[[Settings], Check | list[Check]]] | None = None) -> list[Check]:
    results: list[Check] = []
    for check in [*CHECKS, *(extra or [])]:
        try:
            outcome = check(settings)
        except Exception as exc:  # a doctor that crashes is worse than one that reports the crash
            name = check.__name__.removeprefix("check_")
            outcome = Check(name, False, f"check failed: {type(exc).__name__}: {exc}")
        results.extend(outcome if isinstance(outcome, list) else [outcome])
    return results


def all_required_ok(checks: list[Check]) -> bool:
    return all(c.ok for c in checks if c.required)


def as_json(checks: list[Check]) -> list[dict[str, Any]]:
    return [asdict(c) for c in checks]
