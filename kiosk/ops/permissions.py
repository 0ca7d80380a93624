"""Only the kiosk user may read the data: the database, the offline journal, the network secret, the logs.

The secret turns card numbers into patron keys; whoever reads it can test ID numbers against the patron table. So:
umask 077 before anything is created (systemd's `UMask=0077` does the same for the service), the data directory
0700, and every file in it 0600, repaired at each start in case someone copied files in with a loose mode.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from kiosk.config import Settings

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def apply_private_umask() -> int:
    """Set umask 077 for this process; returns the previous one."""
    return os.umask(PRIVATE_UMASK)


def _tighten(path: Path, wanted: int) -> bool:
    mode = stat.S_IMODE(path.lstat().st_mode)
    if mode & ~wanted & 0o777:
        os.chmod(path, mode & wanted)
        log.warning("tightened permissions of %s from %o to %o", path, mode, mode & wanted)
        return True
    return False


def harden_data_dir(settings: Settings) -> list[Path]:
    """Create the data dir 0700 if missing, then remove group/other access from it, everything under it and the
    secret file (wherever it lives). Symlinks are not followed: a link out of the data dir is not ours to chmod.
    Returns the paths whose mode was changed."""
    changed: list[Path] = []
    data = settings.data_dir
    data.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if _tighten(data, DIR_MODE):
        changed.append(data)
    for root, dirs, files in os.walk(data):
        for name in dirs:
            path = Path(root, name)
            if not path.is_symlink() and _tighten(path, DIR_MODE):
                changed.append(path)
        for name in files:
            path = Path(root, name)
            if not path.is_symlink() and _tighten(path, FILE_MODE):
                changed.append(path)
    secret = settings.secret_file
    if secret.exists() and not secret.is_symlink() and _tighten(secret, FILE_MODE):
        changed.append(secret)
    return changed
