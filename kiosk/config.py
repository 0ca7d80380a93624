"""Settings: one TOML file (`kiosk.toml`, or `--config`/`KIOSK_CONFIG`) with `KIOSK_<SECTION>_<KEY>` overrides.

Every value is checked when loaded, so a kiosk with a typo stops at start with one line that names the key, instead
of failing at 3 a.m. when the setting is first used.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from kiosk.errors import ConfigError

APP_NAME = "reading-room-kiosk"
LANGUAGES = ("zh_CN", "en")


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""
    """Empty means the embedded SQLite file in the data directory."""
    auto_migrate: bool | None = None
    """None: migrate on start for SQLite, never for a shared server (there only `kiosk db upgrade` migrates)."""
    pool_size: int = 5
    connect_timeout_s: float = 3.0
    statement_timeout_s: float = 5.0


@dataclass(frozen=True)
class KioskSettings:
    id: str = "kiosk-1"
    branch: str = "DEMO"
    language: str = "zh_CN"
    timezone: str = "Asia/Shanghai"
    idle_timeout_s: float = 60.0
    idle_warning_s: float = 15.0
    demo_data_titles: int = 2000


@dataclass(frozen=True)
class DeviceSettings:
    """Each device is a URL (see `devices.transport`); empty means "not installed"."""

    idcard: str = ""
    card_reader: str = ""
    card_reader_kind: str = "em4100"
    """Which protocol the card-number reader speaks: em4100 (RDM6300-class frames) or card-line (number + CR/LF)."""
    scanner: str = ""
    camera: str = ""
    door_counter: str = ""
    printer: str = ""
    door_relay: str = ""
    idcard_poll_interval_s: float = 0.3
    scanner_terminator: str = "\r\n"
    printer_encoding: str = "gb18030"


@dataclass(frozen=True)
class UiSettings:
    font_path: str = ""
    """Empty: find a Simplified-Chinese font through fontconfig."""
    fullscreen: bool = True
    width: int = 1920
    height: int = 1080
    elder_mode: bool = False
    night_dim_from: str = "22:00"
    night_dim_to: str = "06:00"
    multisamples: int = 0
    """Anti-aliasing samples per pixel (0, 2, 4, 8). Off by default: only the small rounded corners would gain from
    it (text is drawn from textures either way), and on software GL (llvmpipe on a box without a GPU driver) two
    samples make every frame 2.5 times as slow, which breaks the "visible response within 100 ms" rule."""


@dataclass(frozen=True)
class Settings:
    config_file: Path | None
    data_dir: Path
    secret_file: Path
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    kiosk: KioskSettings = field(default_factory=KioskSettings)
    devices: DeviceSettings = field(default_factory=DeviceSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Sections owned by later features (lending, sip2, alerts, …), validated by their owners."""

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{self.data_dir / 'kiosk.sqlite3'}"

    @property
    def is_embedded_database(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def should_auto_migrate(self) -> bool:
        if self.database.auto_migrate is not None:
            return self.database.auto_migrate
        return self.is_embedded_database

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.kiosk.timezone)


SECTIONS: dict[str, type] = {
    "database": DatabaseSettings,
    "kiosk": KioskSettings,
    "devices": DeviceSettings,
    "ui": UiSettings,
}


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def find_config_file(explicit: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path | None:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError("--config", f"file not found: {path}")
        return path
    if env.get("KIOSK_CONFIG"):
        path = Path(env["KIOSK_CONFIG"])
        if not path.is_file():
            raise ConfigError("KIOSK_CONFIG", f"file not found: {path}")
        return path
    local = Path("kiosk.toml")
    return local if local.is_file() else None


def _coerce(setting: str, value: Any, target: Any) -> Any:
    """Convert a TOML or environment value to the dataclass field's type, or say exactly what is wrong."""
    wanted = str(target)
    if "bool" in wanted:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(value, str) and value.lower() in {"0", "false", "no", "off"}:
            return False
        if "None" in wanted and isinstance(value, str) and value.lower() in {"", "auto", "none"}:
            return None
        raise ConfigError(setting, f"expected true or false, got {value!r}")
    if wanted == "int":
        try:
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(setting, f"expected a whole number, got {value!r}") from None
    if wanted == "float":
        try:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(setting, f"expected a number, got {value!r}") from None
    if not isinstance(value, str):
        raise ConfigError(setting, f"expected text, got {value!r}")
    return value


def _section(name: str, cls: type, table: Mapping[str, Any], env: Mapping[str, str]) -> Any:
    known = {f.name: f for f in fields(cls)}
    for key in table:
        if key not in known:
            raise ConfigError(f"{name}.{key}", f"unknown setting (known: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    for key, spec in known.items():
        env_name = f"KIOSK_{name}_{key}".upper()
        if env_name in env:
            values[key] = _coerce(env_name, env[env_name], spec.type)
        elif key in table:
            values[key] = _coerce(f"{name}.{key}", table[key], spec.type)
    return cls(**values)


def _validate(settings: Settings) -> None:
    k = settings.kiosk
    if k.language not in LANGUAGES:
        raise ConfigError("kiosk.language", f"must be one of {', '.join(LANGUAGES)}, got {k.language!r}")
    try:
        ZoneInfo(k.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("kiosk.timezone", f"unknown time zone {k.timezone!r} (e.g. Asia/Shanghai)") from None
    if not k.id.strip():
        raise ConfigError("kiosk.id", "must not be empty")
    if k.idle_timeout_s <= 0:
        raise ConfigError("kiosk.idle_timeout_s", "must be positive")
    if not 0 <= k.idle_warning_s < k.idle_timeout_s:
        raise ConfigError("kiosk.idle_warning_s", "must be at least 0 and less than kiosk.idle_timeout_s")
    if settings.devices.idcard_poll_interval_s < 0.05:
        raise ConfigError("devices.idcard_poll_interval_s", "must be at least 0.05 s")
    url = settings.database_url
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise ConfigError("database.url", "only sqlite:/// and postgresql+psycopg:// URLs are supported")
    if settings.database.pool_size < 1:
        raise ConfigError("database.pool_size", "must be at least 1")
    if settings.ui.multisamples not in (0, 2, 4, 8):
        raise ConfigError("ui.multisamples", f"must be 0, 2, 4 or 8, got {settings.ui.multisamples}")
    for key in ("night_dim_from", "night_dim_to"):
        value = getattr(settings.ui, key)
        parts = value.split(":")
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[0]) > 23 or int(parts[1]) > 59:
            raise ConfigError(f"ui.{key}", f"expected HH:MM, got {value!r}")


def load_settings(
    config: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Read the file, apply environment overrides, validate. `overrides` replace whole sections (tests, CLI)."""
    env = os.environ if env is None else env
    path = find_config_file(config, env)
    document: dict[str, Any] = {}
    if path is not None:
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(path), f"not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(str(path), "not UTF-8 text") from None
    data_dir = Path(env.get("KIOSK_DATA_DIR") or document.get("data_dir") or default_data_dir()).expanduser()
    secret_file = Path(
        env.get("KIOSK_SECRET_FILE") or document.get("secret_file") or data_dir / "network.secret"
    ).expanduser()
    sections: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        table = document.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(name, "must be a table ([" + name + "])")
        sections[name] = _section(name, cls, table, env)
    extra = {k: v for k, v in document.items() if k not in SECTIONS and k not in {"data_dir", "secret_file"}}
    settings = Settings(config_file=path, data_dir=data_dir, secret_file=secret_file, extra=extra, **sections)
    if overrides:
        settings = replace(settings, **overrides)
    _validate(settings)
    return settings
