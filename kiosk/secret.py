"""The network secret: the HMAC key that turns card numbers into patron keys.

Every kiosk of a network must hold the same secret or a resident becomes a stranger at the next branch. A standalone
kiosk creates its own on first start; a kiosk joining a network is given a copy (`kiosk secret show-path`, or a
backup made by `kiosk db backup`).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from kiosk.errors import ConfigError

SECRET_BYTES = 32


def create_secret(path: Path) -> bytes:
    """Write a fresh secret readable only by its owner. O_EXCL so two processes starting at once cannot race."""
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_bytes(SECRET_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, value.hex().encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    return value


def read_secret(path: Path) -> bytes:
    text = path.read_text(encoding="ascii").strip()
    try:
        value = bytes.fromhex(text)
    except ValueError:
        raise ConfigError("secret_file", f"{path} does not hold a hex secret") from None
    if len(value) < 16:
        raise ConfigError("secret_file", f"{path} holds a secret shorter than 16 bytes")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError("secret_file", f"{path} is readable by others (mode {mode:o}); run: chmod 600 {path}")
    return value


def load_or_create_secret(path: Path, *, may_create: bool) -> bytes:
    """Standalone kiosks may create the secret; members of a network must be given the shared one."""
    if path.exists():
        return read_secret(path)
    if not may_create:
        raise ConfigError(
            "secret_file",
            f"{path} is missing: copy the network's secret from another kiosk "
            "(or create it once for a new network with `kiosk secret init`)",
        )
    try:
        return create_secret(path)
    except FileExistsError:
        return read_secret(path)
