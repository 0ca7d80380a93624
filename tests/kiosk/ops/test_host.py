"""Disk-space warnings, redacting rotating logs, private file permissions, [ops] settings."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.config import Settings
from kiosk.errors import ConfigError
from kiosk.ops.alerts.model import AlertKind
from kiosk.ops.disk import DiskAlerter, disk_space, is_low
from kiosk.ops.logging_setup import REDACTED, redact, setup_logging
from kiosk.ops.permissions import apply_private_umask, harden_data_dir
from kiosk.ops.settings import OpsSettings, ops_settings


class RecordingSink:
    """Collects what a producer reports (the dispatcher's own behaviour is tested in test_alerts)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, AlertKind, str, dict[str, Any]]] = []

    def raise_alert(self, kind: AlertKind, subject: str = "kiosk", /, **params: Any) -> bool:
        self.calls.append(("raise", kind, subject, params))
        return True

    def resolve(self, kind: AlertKind, subject: str = "kiosk", /) -> bool:
        self.calls.append(("resolve", kind, subject, {}))
        return True


def test_low_when_either_threshold_trips() -> None:
    ops = OpsSettings(disk_warn_free_percent=10, disk_warn_free_mb=1000)
    assert not is_low(100_000_000_000, 50_000_000_000, ops)
    assert is_low(100_000_000_000, 9_000_000_000, ops)  # 9 % of a big disk
    assert is_low(8_000_000_000, 900_000_000, ops)  # 11 % of an SD card, but under 1000 MB
    assert not is_low(8_000_000_000, 1_100_000_000, ops)


def test_disk_alerter_raises_then_resolves(tmp_path: Path) -> None:
    sink = RecordingSink()
    usage = os.statvfs(tmp_path)
    free_percent = 100 * usage.f_bavail / usage.f_blocks
    DiskAlerter(sink, OpsSettings(disk_warn_free_percent=min(99.9, free_percent + 5), disk_warn_free_mb=0)).check(
        tmp_path / "not-yet-created")
    DiskAlerter(sink, OpsSettings(disk_warn_free_percent=0, disk_warn_free_mb=0)).check(tmp_path)
    (action, kind, subject, params), resolved = sink.calls
    assert (action, kind, subject) == ("raise", AlertKind.DISK_NEARLY_FULL, "data_dir")
    assert set(params) == {"free_mb", "free_percent"}
    assert resolved[:3] == ("resolve", AlertKind.DISK_NEARLY_FULL, "data_dir")
    assert disk_space(tmp_path, OpsSettings()).total_bytes > 0


@pytest.fixture
def isolated_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("kiosk.test.ops.redaction")
    logger.propagate = False
    yield logger
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


def test_logged_id_number_comes_out_redacted(make_settings: Callable[..., Settings],
                                             isolated_logger: logging.Logger) -> None:
    settings = make_settings()
    handler = setup_logging(settings, logger=isolated_logger)
    isolated_logger.info("card read: %s", "11010519491231002X")
    isolated_logger.warning("raw frame 110105194912310021 then barcode 12345678901234567890123")
    try:
        raise ValueError("bad id 440524188001010014")
    except ValueError:
        isolated_logger.exception("decoder failed")
    handler.flush()
    text = (settings.data_dir / "logs" / "kiosk.log").read_text(encoding="utf-8")
    assert "11010519491231002X" not in text and "110105194912310021" not in text
    assert "440524188001010014" not in text
    assert text.count(REDACTED) == 4  # message, frame, exception text and its traceback line
    assert "12345678901234567890123" in text  # a long barcode is not an ID number


def test_logs_rotate(make_settings: Callable[..., Settings], isolated_logger: logging.Logger) -> None:
    settings = make_settings(ops={"log_max_bytes": 10_000, "log_backups": 2})
    handler = setup_logging(settings, logger=isolated_logger)
    for n in range(1000):
        isolated_logger.info("line %d %s", n, "x" * 50)
    handler.flush()
    names = sorted(p.name for p in (settings.data_dir / "logs").iterdir())
    assert names == ["kiosk.log", "kiosk.log.1", "kiosk.log.2"]
    assert all(p.stat().st_size <= 10_000 for p in (settings.data_dir / "logs").iterdir())


@given(st.text(max_size=60), st.from_regex(r"\d{17}[\dXx]", fullmatch=True), st.text(max_size=60))
def test_redaction_catches_an_id_number_anywhere(before: str, number: str, after: str) -> None:
    separated = f"{before} {number} {after}"
    assert number not in redact(separated)


def test_harden_data_dir_makes_everything_private(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    settings = make_settings()
    data = settings.data_dir
    (data / "logs").mkdir(parents=True)
    os.chmod(data, 0o755)
    os.chmod(data / "logs", 0o775)
    db = data / "kiosk.sqlite3"
    db.write_bytes(b"x")
    os.chmod(db, 0o644)
    settings.secret_file.write_text("00" * 32)
    os.chmod(settings.secret_file, 0o640)
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("not ours")
    os.chmod(outside, 0o644)
    (data / "link").symlink_to(outside)

    changed = harden_data_dir(settings)
    assert set(changed) == {data, data / "logs", db, settings.secret_file}
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "logs").stat().st_mode) == 0o700
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.secret_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644
    assert harden_data_dir(settings) == []


def test_private_umask_makes_new_files_owner_only(tmp_path: Path) -> None:
    previous = apply_private_umask()
    try:
        path = tmp_path / "new.sqlite3"
        path.write_bytes(b"")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(previous)


@pytest.mark.parametrize(("table", "setting"), [
    ({"disk_warn_free_percent": 100}, "ops.disk_warn_free_percent"),
    ({"backup_keep": 0}, "ops.backup_keep"),
    ({"backup_keep": 2.5}, "ops.backup_keep"),
    ({"log_level": "LOUD"}, "ops.log_level"),
    ({"log_max_bytes": 10}, "ops.log_max_bytes"),
    ({"disk_warn_mb": 1}, "ops.disk_warn_mb"),
])
def test_bad_ops_settings_name_the_key(make_settings: Callable[..., Settings], table: dict[str, object],
                                       setting: str) -> None:
    with pytest.raises(ConfigError) as info:
        ops_settings(make_settings(ops=table), env={})
    assert info.value.setting == setting
