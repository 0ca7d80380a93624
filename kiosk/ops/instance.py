"""One kiosk process per data directory, and a way for `kiosk db restore` to see that one is running.

An advisory `flock` on `data_dir/kiosk.lock`: the kernel drops it when the process dies (SIGKILL, power cut), so a
crashed kiosk never leaves a stale lock behind, unlike a PID file.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from kiosk.config import Settings
from kiosk.errors import KioskError

LOCK_FILE = "kiosk.lock"


class KioskAlreadyRunning(KioskError):
    key = "ops.already_running"


def lock_path(settings: Settings) -> Path:
    return settings.data_dir / LOCK_FILE


class KioskInstanceLock:
    """Held for the life of the kiosk process: `with KioskInstanceLock(settings): run()`."""

    def __init__(self, settings: Settings) -> None:
        self.path = lock_path(settings)
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise KioskAlreadyRunning(path=str(self.path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> KioskInstanceLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def kiosk_running(settings: Settings) -> bool:
    """True while some process holds the instance lock of this data directory."""
    path = lock_path(settings)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
