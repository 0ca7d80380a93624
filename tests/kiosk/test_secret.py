from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kiosk.errors import ConfigError
from kiosk.secret import load_or_create_secret


def test_standalone_kiosk_creates_an_owner_only_secret_once(tmp_path: Path) -> None:
    path = tmp_path / "d" / "network.secret"
    first = load_or_create_secret(path, may_create=True)
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path, may_create=True) == first


def test_network_member_without_secret_is_told_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="copy the network's secret"):
        load_or_create_secret(tmp_path / "network.secret", may_create=False)


def test_world_readable_secret_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "network.secret"
    load_or_create_secret(path, may_create=True)
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_or_create_secret(path, may_create=True)


def test_garbage_secret_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "network.secret"
    path.write_text("not hex at all")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="hex"):
        load_or_create_secret(path, may_create=False)
