"""The `[offline]` section of kiosk.toml (with `[offline.branch.<CODE>]` overrides), checked when read.

Offline mode is on by default for a shared PostgreSQL (the network can fail) and off for the embedded SQLite file
(a local file does not go away on its own; the demo switches it on to show the feature).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.config import Settings
from kiosk.errors import ConfigError


@dataclass(frozen=True)
class OfflineSettings:
    enabled: bool
    journal_path: Path
    max_loans: int = 3
    """Loans one patron may take while offline (on top of nothing: their open loans still count to the limit)."""
    allow_unknown_patrons: bool = False
    """A card the kiosk has never seen may register and borrow offline (its checks happen at replay)."""
    refresh_s: float = 60.0
    """How often the local cache of patrons and items is refreshed from the database."""
    probe_s: float = 1.0
    """How often an offline kiosk tries the database again."""
    switch_after_s: float = 1.5
    """An action the database has not answered within this is done offline (the issue asks for ≤ 2 s)."""
    alert_backlog: int = 50
    """Raise the journal-backlog alert when this many actions wait for the database…"""
    alert_after_s: float = 1800.0
    """…or when the oldest waiting action is older than this."""


_NUMBERS = {"max_loans": int, "refresh_s": float, "probe_s": float, "switch_after_s": float, "alert_backlog": int,
            "alert_after_s": float}
_KNOWN = {"enabled", "journal", "allow_unknown_patrons", "branch", *_NUMBERS}


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(key, f"expected true or false, got {value!r}")
    return value


def _number(key: str, value: Any, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        raise ConfigError(key, f"expected a {'whole ' if kind is int else ''}number, got {value!r}")
    if value < 0 or (value == 0 and not key.endswith("max_loans")):
        raise ConfigError(key, "must be at least 0" if key.endswith("max_loans") else "must be positive")
    return kind(value)


def offline_settings(settings: Settings) -> OfflineSettings:
    table = settings.extra.get("offline", {})
    if not isinstance(table, Mapping):
        raise ConfigError("offline", "must be a table ([offline])")
    for key in table:
        if key not in _KNOWN:
            raise ConfigError(f"offline.{key}", f"unknown setting (known: {', '.join(sorted(_KNOWN))})")
    enabled = _bool("offline.enabled", table["enabled"]) if "enabled" in table else not settings.is_embedded_database
    journal = table.get("journal", "")
    if not isinstance(journal, str):
        raise ConfigError("offline.journal", f"expected a file path, got {journal!r}")
    path = Path(journal).expanduser() if journal else settings.data_dir / "journal.sqlite3"
    if not path.is_absolute():
        path = settings.data_dir / path
    values: dict[str, Any] = {k: _number(f"offline.{k}", table[k], t) for k, t in _NUMBERS.items() if k in table}
    if "allow_unknown_patrons" in table:
        values["allow_unknown_patrons"] = _bool("offline.allow_unknown_patrons", table["allow_unknown_patrons"])
    branches = table.get("branch", {})
    if not isinstance(branches, Mapping):
        raise ConfigError("offline.branch", "must be a table of branch codes ([offline.branch.XW01])")
    here = branches.get(settings.kiosk.branch, {})
    if not isinstance(here, Mapping):
        raise ConfigError(f"offline.branch.{settings.kiosk.branch}", "must be a table")
    for key, value in here.items():
        where = f"offline.branch.{settings.kiosk.branch}.{key}"
        if key == "allow_unknown_patrons":
            values[key] = _bool(where, value)
        elif key == "max_loans":
            values[key] = _number(where, value, int)
        else:
            raise ConfigError(where, "only allow_unknown_patrons and max_loans can differ per branch")
    return OfflineSettings(enabled=enabled, journal_path=path, **values)
