"""`OpsRuntime`: everything an unattended kiosk runs beside its core, started and stopped in one place.

Order matters at start: the umask before any file exists, permissions before the lock file is written, the
instance lock before the database opens (so `kiosk db restore` can see us), logging before anything logs (and the
redacting crash hooks right after it), READY to
systemd last, once the caller's core is up (`ready()`). The caller (kiosk.app) owns the heartbeat wiring: it calls
`heartbeat.beat()` from the core's main loop (the UI's Clock), because only the core can prove it is not hung.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path

from kiosk.config import Settings
from kiosk.ops.alerts.dispatcher import AlertDispatcher
from kiosk.ops.alerts.model import AlertKind, AlertSink
from kiosk.ops.backup import BackupError, backup_due, scheduled_backup
from kiosk.ops.crash_reports import CrashReporter
from kiosk.ops.disk import DiskAlerter, DiskSpace
from kiosk.ops.instance import KioskInstanceLock
from kiosk.ops.logging_setup import setup_logging
from kiosk.ops.permissions import apply_private_umask, harden_data_dir
from kiosk.ops.sdnotify import SystemdNotifier
from kiosk.ops.settings import ops_settings
from kiosk.ops.watchdog import Heartbeat, ServiceWatchdog

log = logging.getLogger(__name__)


class OpsRuntime:
    def __init__(self, settings: Settings, *, notifier: SystemdNotifier | None = None) -> None:
        self.settings = settings
        self.ops = ops_settings(settings)
        self.heartbeat = Heartbeat()
        self.notifier = notifier or SystemdNotifier()
        self.watchdog = ServiceWatchdog(self.notifier, self.heartbeat)
        self.lock = KioskInstanceLock(settings)
        self.dispatcher: AlertDispatcher | None = None
        self.disk = DiskAlerter(self, self.ops)
        self._log_handler: RotatingFileHandler | None = None
        self.crash_reports = CrashReporter(settings.data_dir / "crash")
        self._stop = threading.Event()
        self._maintenance: threading.Thread | None = None
        self._previous_umask: int | None = None

    @property
    def alerts(self) -> AlertSink:
        """What device, door and journal code report conditions to."""
        return self

    def raise_alert(self, kind: AlertKind, subject: str = "kiosk", /, **params: object) -> bool:
        return self.dispatcher.raise_alert(kind, subject, **params) if self.dispatcher else False

    def resolve(self, kind: AlertKind, subject: str = "kiosk", /) -> bool:
        return self.dispatcher.resolve(kind, subject) if self.dispatcher else False

    def start(self, *, maintenance: bool = True) -> None:
        self._previous_umask = apply_private_umask()
        harden_data_dir(self.settings)
        self.lock.acquire()
        self._log_handler = setup_logging(self.settings)
        self.crash_reports.install()
        self.dispatcher = AlertDispatcher.from_settings(self.settings)
        self.dispatcher.start()
        if maintenance:
            self._maintenance = threading.Thread(target=self._maintain, name="ops-maintenance", daemon=True)
            self._maintenance.start()

    def ready(self, status: str = "serving") -> None:
        """Call once the core and screen are up: READY=1, then watchdog pings while the heartbeat is fresh."""
        self.watchdog.start(status)

    def run_maintenance(self, now: datetime | None = None) -> tuple[DiskSpace, Path | None]:
        """One round: disk check (alert/resolve) and, for an embedded database, the daily backup if due.
        A shared PostgreSQL is backed up centrally (docs/OPERATIONS.md), not by each kiosk."""
        space = self.disk.check(self.settings.data_dir)
        made: Path | None = None
        if self.settings.is_embedded_database and backup_due(self.settings, self.ops.backup_interval_h, now):
            try:
                made, removed = scheduled_backup(self.settings, self.ops.backup_keep, now)
                log.info("backup written to %s (%d old removed)", made, len(removed))
            except (BackupError, OSError) as exc:
                log.error("scheduled backup failed: %s", exc)
        return space, made

    def _maintain(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_maintenance()
            except Exception:
                log.exception("maintenance round failed")
            self._stop.wait(self.ops.disk_check_interval_s)

    def stop(self) -> None:
        self.watchdog.stop()
        self._stop.set()
        if self._maintenance is not None:
            self._maintenance.join(timeout=30)
        if self.dispatcher is not None:
            self.dispatcher.stop()
            self.dispatcher = None
        self.crash_reports.uninstall()
        if self._log_handler is not None:
            logging.getLogger().removeHandler(self._log_handler)
            self._log_handler.close()
            self._log_handler = None
        self.lock.release()
        if self._previous_umask is not None:
            os.umask(self._previous_umask)
            self._previous_umask = None
