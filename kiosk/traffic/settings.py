"""The `[traffic]` section of kiosk.toml (and its `[traffic.index]` table), checked when read.

Lives in `Settings.extra` because the core settings module does not know this feature; every value is validated
here with `ConfigError` so a typo stops the start with one line that names the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from kiosk.config import Settings
from kiosk.errors import ConfigError

POINT_SIX_MAX = 16_777_215
"""24-bit counters (Point Six style) wrap here."""


@dataclass(frozen=True)
class IndexSettings:
    """Weights and targets of the popularity index; see docs/POPULARITY_INDEX.md."""

    flow_weight: float = 0.4
    activity_weight: float = 0.2
    service_weight: float = 0.4
    target_daily_visits: float = 100.0
    """到访率: average daily visits that score 100."""
    target_events_per_month: float = 4.0
    """活动: events held per 30 days that score 100."""
    completion_actions: tuple[str, ...] = ()
    """办结率: audit actions that count as service requests; empty means every action."""
    completion_outcomes: tuple[str, ...] = ("ok",)
    """办结率: audit outcomes that mean the request was completed."""
    neutral_counts_as_satisfied: bool = False
    """满意率: whether 一般 (neutral) ratings count as satisfied; the default counts only 好评."""


@dataclass(frozen=True)
class TrafficSettings:
    counter_max: int = POINT_SIX_MAX
    """Largest value a counter holds before it wraps to zero."""
    max_plausible_delta: int = 10_000
    """A drop in the total is a wrap only if the wrapped delta is at most this; otherwise it is a reset."""
    gap_after_s: float = 1800.0
    """Samples of one counter further apart than this leave a gap (the counter is expected to report more often)."""
    single_direction_devices: tuple[str, ...] = ()
    """Counters that count every pass (in and out alike) in total_in: halved into visits."""
    retention_days: int = 400
    """Raw samples older than this are purged by `kiosk traffic purge`; rollups are kept forever."""
    quiet_hour: int | None = 4
    """Local hour at which the room is assumed empty and occupancy is recalibrated to zero (-1 in TOML: never)."""
    empty_after_s: float = 4 * 3600.0
    """No movement for this long means the room is empty: occupancy recalibrates to zero."""
    busy_ratio: float = 0.6
    full_ratio: float = 0.9
    index: IndexSettings = field(default_factory=IndexSettings)


def _number(key: str, value: Any, *, integer: bool = False) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(key, f"expected a number, got {value!r}")
    if integer:
        if isinstance(value, float) and not value.is_integer():
            raise ConfigError(key, f"expected a whole number, got {value!r}")
        return int(value)
    return float(value)


def _strings(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(key, f"expected a list of texts, got {value!r}")
    return tuple(value)


def _parse(prefix: str, cls: type, table: Mapping[str, Any]) -> dict[str, Any]:
    known = {f.name: f for f in fields(cls) if f.name != "index"}
    values: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}"
        if key == "index" and cls is TrafficSettings:
            continue
        if key not in known:
            raise ConfigError(name, f"unknown setting (known: {', '.join(sorted(known))})")
        wanted = str(known[key].type)
        if "tuple" in wanted:
            values[key] = _strings(name, value)
        elif wanted == "bool":
            if not isinstance(value, bool):
                raise ConfigError(name, f"expected true or false, got {value!r}")
            values[key] = value
        elif "int" in wanted:
            values[key] = None if value is None or value == "" else _number(name, value, integer=True)
        else:
            values[key] = _number(name, value)
    return values


def traffic_settings(settings: Settings | Mapping[str, Any] | None) -> TrafficSettings:
    """Read and validate `[traffic]` from the settings' extra sections (or a plain mapping, for tests)."""
    if settings is None:
        return TrafficSettings()
    extra = settings.extra if isinstance(settings, Settings) else settings
    table = extra.get("traffic", {})
    if not isinstance(table, Mapping):
        raise ConfigError("traffic", "must be a table ([traffic])")
    index_table = table.get("index", {})
    if not isinstance(index_table, Mapping):
        raise ConfigError("traffic.index", "must be a table ([traffic.index])")
    index = IndexSettings(**_parse("traffic.index", IndexSettings, index_table))
    values = _parse("traffic", TrafficSettings, table)
    if values.get("quiet_hour") == -1:
        values["quiet_hour"] = None
    result = TrafficSettings(index=index, **values)
    _validate(result)
    return result


def _validate(s: TrafficSettings) -> None:
    if s.counter_max < 1:
        raise ConfigError("traffic.counter_max", "must be at least 1")
    if not 0 < s.max_plausible_delta < s.counter_max:
        raise ConfigError("traffic.max_plausible_delta", "must be positive and below traffic.counter_max")
    if s.gap_after_s <= 0:
        raise ConfigError("traffic.gap_after_s", "must be positive")
    if s.retention_days < 1:
        raise ConfigError("traffic.retention_days", "must be at least 1 day")
    if s.quiet_hour is not None and not 0 <= s.quiet_hour <= 23:
        raise ConfigError("traffic.quiet_hour", "must be an hour 0–23")
    if s.empty_after_s <= 0:
        raise ConfigError("traffic.empty_after_s", "must be positive")
    if not 0 < s.busy_ratio < s.full_ratio:
        raise ConfigError("traffic.busy_ratio", "must be positive and below traffic.full_ratio")
    ix = s.index
    for key in ("flow_weight", "activity_weight", "service_weight"):
        if getattr(ix, key) < 0:
            raise ConfigError(f"traffic.index.{key}", "must not be negative")
    if ix.flow_weight + ix.activity_weight + ix.service_weight <= 0:
        raise ConfigError("traffic.index", "at least one board weight must be positive")
    if ix.target_daily_visits <= 0:
        raise ConfigError("traffic.index.target_daily_visits", "must be positive")
    if ix.target_events_per_month <= 0:
        raise ConfigError("traffic.index.target_events_per_month", "must be positive")
