"""The `[entry]` section of kiosk.toml, checked when read (it lives in `Settings.extra`).

Per-branch: a shared configuration file can carry `[entry.branch.<CODE>]` tables whose keys override `[entry]` for
the kiosk whose `kiosk.branch` is CODE, so one file serves a network whose rooms keep different night hours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import time
from pathlib import Path
from typing import Any

from devices.events import CardKind
from kiosk.config import Settings
from kiosk.errors import ConfigError

SCHEDULES = ("night", "always_card", "always_free")
"""night: card required between night_from and night_to; always_card: card required round the clock; always_free:
the kiosk never requires a card (the door is free or controlled by something else)."""
OUTAGE_POLICIES = ("stay_locked", "let_known_in")
RELAY_PROTOCOLS = ("lcus", "line")


def parse_hhmm(key: str, value: Any) -> time:
    if not isinstance(value, str):
        raise ConfigError(key, f"expected HH:MM, got {value!r}")
    parts = value.strip().split(":")
    if len(parts) != 2 or not all(p.isdigit() and len(p) <= 2 for p in parts):
        raise ConfigError(key, f"expected HH:MM, got {value!r}")
    hour, minute = int(parts[0]), int(parts[1])
    if hour == 24 and minute == 0:
        return time(0, 0)
    if hour > 23 or minute > 59:
        raise ConfigError(key, f"expected HH:MM, got {value!r}")
    return time(hour, minute)


@dataclass(frozen=True)
class EntrySettings:
    enabled: bool = False
    schedule: str = "night"
    night_from: time = time(21, 0)
    night_to: time = time(8, 0)
    """Local time (kiosk.timezone); night_from > night_to means the night spans midnight."""
    card_kinds: tuple[str, ...] = (CardKind.ID_CARD.value, CardKind.SOCIAL_SECURITY.value,
                                   CardKind.LIBRARY_CARD.value, CardKind.STAFF_CARD.value)
    register_on_first_entry: bool = False
    """Off by default: registering needs the resident's consent, and a door cannot ask for it (docs/ENTRY.md)."""
    enforce_capacity: bool = True
    db_outage: str = "stay_locked"
    cache_file: str = ""
    """Known card keys (HMAC only) for `let_known_in`; empty: `entry-cards.json` in the data directory."""
    cache_refresh_s: float = 300.0
    reader_url: str = ""
    reader_kind: str = "idcard"
    relay_url: str = ""
    """Empty: `devices.door_relay`."""
    relay_protocol: str = "lcus"
    relay_channel: int = 1
    pulse_s: float = 3.0
    sensor: str = ""
    """Door-position contact: "" none, "relay" (lines on the relay's port), or a URL of its own."""
    held_open_s: float = 60.0
    open_window_s: float = 10.0
    """A door opening this long after an allowed pulse started belongs to that entry; later it is forced."""

    def cache_path(self, data_dir: Path) -> Path:
        return Path(self.cache_file).expanduser() if self.cache_file else data_dir / "entry-cards.json"


def _bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
        return value.lower() in {"1", "true", "yes", "on"}
    raise ConfigError(key, f"expected true or false, got {value!r}")


def _number(key: str, value: Any, *, integer: bool = False, positive: bool = True) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(key, f"expected a number, got {value!r}")
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        raise ConfigError(key, f"expected a number, got {value!r}") from None
    if positive and number <= 0:
        raise ConfigError(key, f"must be positive, got {value!r}")
    return number


def _choice(key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(key, f"must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(key, f"expected text, got {value!r}")
    return value


def _kinds(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not value:
        raise ConfigError(key, "expected a non-empty list of card kinds")
    known = tuple(k.value for k in CardKind)
    return tuple(_choice(key, v, known) for v in value)


def parse_entry(table: Mapping[str, Any], prefix: str = "entry") -> EntrySettings:
    known = {f.name for f in fields(EntrySettings)}
    values: dict[str, Any] = {}
    for name, value in table.items():
        key = f"{prefix}.{name}"
        if name == "branch":
            continue
        if name not in known:
            raise ConfigError(key, f"unknown setting (known: {', '.join(sorted(known))})")
        if name in ("enabled", "register_on_first_entry", "enforce_capacity"):
            values[name] = _bool(key, value)
        elif name in ("night_from", "night_to"):
            values[name] = parse_hhmm(key, value)
        elif name == "schedule":
            values[name] = _choice(key, value, SCHEDULES)
        elif name == "db_outage":
            values[name] = _choice(key, value, OUTAGE_POLICIES)
        elif name == "relay_protocol":
            values[name] = _choice(key, value, RELAY_PROTOCOLS)
        elif name == "card_kinds":
            values[name] = _kinds(key, value)
        elif name == "relay_channel":
            values[name] = _number(key, value, integer=True)
        elif name in ("cache_refresh_s", "pulse_s", "held_open_s", "open_window_s"):
            values[name] = _number(key, value)
        else:
            values[name] = _text(key, value)
    cfg = EntrySettings(**values)
    if cfg.schedule == "night" and cfg.night_from == cfg.night_to:
        raise ConfigError(f"{prefix}.night_to", "must differ from night_from (use schedule = \"always_card\")")
    if cfg.open_window_s < cfg.pulse_s:
        raise ConfigError(f"{prefix}.open_window_s", "must be at least pulse_s")
    return cfg


def entry_settings(settings: Settings | Mapping[str, Any] | None, branch: str | None = None) -> EntrySettings:
    """`[entry]` with this branch's `[entry.branch.<CODE>]` overrides (branch: default `kiosk.branch`)."""
    if settings is None:
        return EntrySettings()
    extra = settings.extra if isinstance(settings, Settings) else settings
    if branch is None and isinstance(settings, Settings):
        branch = settings.kiosk.branch
    table = extra.get("entry", {})
    if not isinstance(table, Mapping):
        raise ConfigError("entry", "must be a table ([entry])")
    branches = table.get("branch", {})
    if not isinstance(branches, Mapping):
        raise ConfigError("entry.branch", "must be a table of branch codes ([entry.branch.CODE])")
    merged = {k: v for k, v in table.items() if k != "branch"}
    parse_entry(merged)
    for code, overrides in branches.items():
        if not isinstance(overrides, Mapping):
            raise ConfigError(f"entry.branch.{code}", "must be a table")
        parse_entry({**merged, **overrides}, f"entry.branch.{code}")  # another branch's typo is still a typo
    if branch is not None and branch in branches:
        merged.update(branches[branch])
    return parse_entry(merged)
