"""Warn before the data directory's disk fills: SQLite on a full disk cannot commit a loan (SQLITE_FULL).

Two thresholds, whichever trips first: a percentage (large disks) and an absolute floor in MB (an 8 GB SD card at 10 %
is already down to 800 MB, and one night of WAL plus logs can eat that).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from kiosk.ops.alerts.model import AlertKind, AlertSink
from kiosk.ops.settings import OpsSettings


@dataclass(frozen=True)
class DiskSpace:
    path: Path
    total_bytes: int
    free_bytes: int
    low: bool

    @property
    def free_percent(self) -> float:
        return 100.0 * self.free_bytes / self.total_bytes if self.total_bytes else 0.0

    @property
    def free_mb(self) -> int:
        return self.free_bytes // 1_000_000


def is_low(total_bytes: int, free_bytes: int, ops: OpsSettings) -> bool:
    percent = 100.0 * free_bytes / total_bytes if total_bytes else 0.0
    return percent < ops.disk_warn_free_percent or free_bytes < ops.disk_warn_free_mb * 1_000_000


def disk_space(path: Path, ops: OpsSettings) -> DiskSpace:
    """Measure the filesystem holding `path` (its nearest existing parent if it does not exist yet)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    return DiskSpace(path, usage.total, usage.free, is_low(usage.total, usage.free, ops))


class DiskAlerter:
    """Turns a measurement into an alert condition: raised while low (the dispatcher dedupes and reminds),
    resolved once space is back."""

    def __init__(self, dispatcher: AlertSink, ops: OpsSettings) -> None:
        self.dispatcher = dispatcher
        self.ops = ops

    def check(self, path: Path) -> DiskSpace:
        space = disk_space(path, self.ops)
        if space.low:
            self.dispatcher.raise_alert(AlertKind.DISK_NEARLY_FULL, "data_dir",
                                        free_mb=space.free_mb, free_percent=round(space.free_percent, 1))
        else:
            self.dispatcher.resolve(AlertKind.DISK_NEARLY_FULL, "data_dir")
        return space
