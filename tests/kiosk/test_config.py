from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import load_settings
from kiosk.errors import ConfigError


def test_defaults_use_embedded_sqlite_in_data_dir(kiosk_env: Path) -> None:
    settings = load_settings()
    assert settings.config_file is None
    assert settings.database_url == f"sqlite:///{kiosk_env / 'kiosk.sqlite3'}"
    assert settings.is_embedded_database and settings.should_auto_migrate
    assert settings.kiosk.language == "zh_CN"
    assert settings.kiosk.timezone == "Asia/Shanghai"


def test_file_then_environment_override(kiosk_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Path("kiosk.toml").write_text(
        '[kiosk]\nid = "front-desk"\nbranch = "XW01"\n[database]\nurl = "sqlite:////tmp/x.db"\n', encoding="utf-8"
    )
    monkeypatch.setenv("KIOSK_DATABASE_URL", "postgresql+psycopg://kiosk@db.example/kiosk")
    monkeypatch.setenv("KIOSK_KIOSK_IDLE_TIMEOUT_S", "90")
    settings = load_settings()
    assert settings.config_file == Path("kiosk.toml")
    assert settings.kiosk.id == "front-desk"
    assert settings.kiosk.idle_timeout_s == 90.0
    assert settings.database_url.startswith("postgresql")
    assert not settings.should_auto_migrate


@pytest.mark.parametrize(
    ("toml", "setting"),
    [
        ('[kiosk]\nlanguage = "fr"\n', "kiosk.language"),
        ('[kiosk]\ntimezone = "Mars/Olympus"\n', "kiosk.timezone"),
        ('[kiosk]\nidle_timeout_s = "soon"\n', "kiosk.idle_timeout_s"),
        ("[kiosk]\nidle_warning_s = 100\n", "kiosk.idle_warning_s"),
        ('[kiosk]\ncolour = "red"\n', "kiosk.colour"),
        ('[database]\nurl = "mysql://x"\n', "database.url"),
        ('[ui]\nfullscreen = "maybe"\n', "ui.fullscreen"),
        ('[ui]\nnight_dim_from = "25:00"\n', "ui.night_dim_from"),
        ("[ui]\nmultisamples = 3\n", "ui.multisamples"),
        ('kiosk = "oops"\n', "kiosk"),
    ],
)
def test_invalid_settings_name_the_key(kiosk_env: Path, toml: str, setting: str) -> None:
    Path("kiosk.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert err.value.setting == setting
    assert setting in str(err.value)


def test_broken_toml_is_one_clear_error(kiosk_env: Path) -> None:
    Path("kiosk.toml").write_text("[kiosk\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings()


def test_explicit_missing_config_file(kiosk_env: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings("nowhere.toml")


def test_bad_environment_value_names_the_variable(kiosk_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSK_UI_WIDTH", "wide")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert err.value.setting == "KIOSK_UI_WIDTH"


def test_example_config_is_valid(kiosk_env: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "kiosk.example.toml"
    settings = load_settings(example)
    assert settings.kiosk.branch
