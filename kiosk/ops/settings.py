"""`[alerts]` and `[ops]` sections of kiosk.toml (they live in `Settings.extra`; validated here, by their owner).

Checked at start like every other section, so a typo in a webhook URL stops the kiosk at install time with one line,
not at 3 a.m. when the first paper-out alert silently goes nowhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from kiosk.config import Settings
from kiosk.errors import ConfigError


@dataclass(frozen=True)
class AlertSettings:
    webhook_url: str = ""
    """HTTP(S) endpoint that receives each alert as a JSON POST; empty: no webhook."""
    webhook_timeout_s: float = 5.0
    mqtt_host: str = ""
    """MQTT broker host; empty: no MQTT."""
    mqtt_port: int = 1883
    mqtt_topic: str = "reading-room/{kiosk}/alerts"
    """`{kiosk}` and `{branch}` are filled in."""
    mqtt_username: str = ""
    mqtt_password: str = ""
    mqtt_timeout_s: float = 5.0
    remind_after_s: float = 3600.0
    """An ongoing condition (paper out, door held open) is reminded after this long, never more often."""
    event_min_interval_s: float = 60.0
    """Events (help button, forced door) with the same key are sent at most once per this interval."""
    retry_initial_s: float = 5.0
    retry_max_s: float = 600.0

    @property
    def channels_configured(self) -> bool:
        return bool(self.webhook_url or self.mqtt_host)


@dataclass(frozen=True)
class OpsSettings:
    disk_warn_free_percent: float = 10.0
    disk_warn_free_mb: int = 1024
    """Warn when free space drops below EITHER threshold (small SD cards hit the MB one first)."""
    disk_check_interval_s: float = 300.0
    backup_keep: int = 7
    backup_interval_h: float = 24.0
    log_max_bytes: int = 5_000_000
    log_backups: int = 10
    log_level: str = "INFO"


def _coerce(setting: str, value: Any, wanted: str) -> Any:
    if wanted == "float":
        if isinstance(value, bool):
            raise ConfigError(setting, f"expected a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(setting, f"expected a number, got {value!r}") from None
    if wanted == "int":
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ConfigError(setting, f"expected a whole number, got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(setting, f"expected a whole number, got {value!r}") from None
    if not isinstance(value, str):
        raise ConfigError(setting, f"expected text, got {value!r}")
    return value


def _read_section(name: str, cls: type, settings: Settings, env: Mapping[str, str]) -> Any:
    table = settings.extra.get(name, {})
    if not isinstance(table, Mapping):
        raise ConfigError(name, f"must be a table ([{name}])")
    known = {f.name: str(f.type) for f in fields(cls)}
    for key in table:
        if key not in known:
            raise ConfigError(f"{name}.{key}", f"unknown setting (known: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    for key, wanted in known.items():
        env_name = f"KIOSK_{name}_{key}".upper()
        if env_name in env:
            values[key] = _coerce(env_name, env[env_name], wanted)
        elif key in table:
            values[key] = _coerce(f"{name}.{key}", table[key], wanted)
    return cls(**values)


def alert_settings(settings: Settings, env: Mapping[str, str] | None = None) -> AlertSettings:
    env = os.environ if env is None else env
    alerts: AlertSettings = _read_section("alerts", AlertSettings, settings, env)
    if alerts.webhook_url:
        parts = urlsplit(alerts.webhook_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError("alerts.webhook_url", f"expected an http:// or https:// URL, got {alerts.webhook_url!r}")
    if not 0 < alerts.mqtt_port < 65536:
        raise ConfigError("alerts.mqtt_port", "must be between 1 and 65535")
    topic = alerts.mqtt_topic
    if not topic or "+" in topic or "#" in topic:
        raise ConfigError("alerts.mqtt_topic", "must be a topic name without wildcards (+ or #)")
    try:
        topic.format(kiosk="k", branch="b")
    except (KeyError, IndexError, ValueError):
        raise ConfigError("alerts.mqtt_topic", "only {kiosk} and {branch} may be filled in") from None
    for key in ("webhook_timeout_s", "mqtt_timeout_s", "remind_after_s", "retry_initial_s", "retry_max_s"):
        if getattr(alerts, key) <= 0:
            raise ConfigError(f"alerts.{key}", "must be positive")
    if alerts.event_min_interval_s < 0:
        raise ConfigError("alerts.event_min_interval_s", "must not be negative")
    if alerts.retry_max_s < alerts.retry_initial_s:
        raise ConfigError("alerts.retry_max_s", "must be at least alerts.retry_initial_s")
    return alerts


def ops_settings(settings: Settings, env: Mapping[str, str] | None = None) -> OpsSettings:
    env = os.environ if env is None else env
    ops: OpsSettings = _read_section("ops", OpsSettings, settings, env)
    if not 0 <= ops.disk_warn_free_percent < 100:
        raise ConfigError("ops.disk_warn_free_percent", "must be between 0 and 100")
    if ops.disk_warn_free_mb < 0:
        raise ConfigError("ops.disk_warn_free_mb", "must not be negative")
    if ops.disk_check_interval_s <= 0:
        raise ConfigError("ops.disk_check_interval_s", "must be positive")
    if ops.backup_keep < 1:
        raise ConfigError("ops.backup_keep", "must be at least 1")
    if ops.backup_interval_h <= 0:
        raise ConfigError("ops.backup_interval_h", "must be positive")
    if ops.log_max_bytes < 10_000:
        raise ConfigError("ops.log_max_bytes", "must be at least 10000")
    if ops.log_backups < 1:
        raise ConfigError("ops.log_backups", "must be at least 1")
    if ops.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("ops.log_level", "must be DEBUG, INFO, WARNING or ERROR")
    return ops
