"""One running kiosk: settings → database → devices → session, wired in one place (cosmicpython's bootstrap).

The UI is attached by `kiosk.app` (it needs Kivy); everything here runs without a window, so `simulate-day`, the
first-loan scenario and the tests drive the very same objects the touch screen does.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.db import Database
from catalog.model import AuditEntry
from devices.events import BarcodeScanned, DeviceEvent, DeviceHealth, DoorCount, HealthState
from devices.scanner.wedge import WedgeAssembler
from devices.transport import url_scheme
from kiosk.bootstrap import network_secret, open_database
from kiosk.browse_view import OccupancyView
from kiosk.config import Settings
from kiosk.device_manager import DeviceManager
from kiosk.entry.settings import entry_settings
from kiosk.entry.station import EntryOutcome, EntryStation, open_entry_station
from kiosk.lending.backends import build_circulation
from kiosk.librarian import Librarian
from kiosk.offline.backend import OfflineCirculation
from kiosk.offline.connectivity import is_connectivity_error, reason_of
from kiosk.offline.journal import has_offline_cache
from kiosk.offline.settings import offline_settings
from kiosk.offline.staff import StaffWhileOffline
from kiosk.ops.alerts.model import AlertKind, AlertSink
from kiosk.session.runner import SessionRunner
from kiosk.session.view import Message, Severity
from kiosk.session.visit import VisitMachine
from kiosk.sip2.circulation import Sip2Circulation
from kiosk.staff_accounts import StaffDirectory
from kiosk.traffic.ingest import UnknownBranch, ingest
from kiosk.traffic.occupancy import occupancy_now
from kiosk.traffic.reports import daily_rollups, resolve_scope
from kiosk.traffic.settings import traffic_settings

log = logging.getLogger(__name__)

PRINT_WAIT_S = 4.0
PRINT_PROBLEMS = {
    "paper_out": "receipt.paper_out",
    "unavailable": "receipt.offline",
    "not_configured": "receipt.no_printer",
}


class PrinterAdapter:
    """The session's view of the ESC/POS driver: wait briefly for the outcome, never longer than PRINT_WAIT_S."""

    def __init__(self, printer: Any) -> None:
        self.printer = printer

    def print_receipt(self, lines: list[str], qr: str | None) -> str | None:
        future = self.printer.print_lines(lines, qr)
        try:
            outcome = future.result(timeout=PRINT_WAIT_S)
        except FutureTimeout:
            return "receipt.offline"
        if outcome.printed:
            return None
        return PRINT_PROBLEMS.get(str(outcome.status), "receipt.printer_failed")

    def known_problem(self) -> str | None:
        """From the driver's health after its last job or check (no new query: the question must show at once)."""
        health = self.printer.health
        if health.state in (HealthState.CONNECTED, HealthState.CONNECTING):
            return None
        if health.state is HealthState.FAILED:
            return PRINT_PROBLEMS.get(health.reason, "receipt.printer_failed")
        return "receipt.offline"


def open_database_or_offline(settings: Settings) -> tuple[Database, bool]:
    """The database as `open_database` opens it, or, when it is unreachable and this kiosk can lend offline from a
    cache it already has, an engine that will reach it later: (database, started offline).

    A kiosk restarted during an outage (a power cut, a watchdog kill) must come back up lending, not loop in
    systemd until the network returns. The schema is then checked when the database answers, before the journal
    replays (`OfflineCirculation.started_unreachable`)."""
    try:
        return open_database(settings), False
    except Exception as error:
        offline = offline_settings(settings)
        if not (offline.enabled and is_connectivity_error(error) and has_offline_cache(offline.journal_path)):
            raise
        log.warning("database unreachable at start (%s): starting offline from the journal's cache",
                    reason_of(error))
        return Database.from_url(settings.database_url, pool_size=settings.database.pool_size,
                                 connect_timeout_s=settings.database.connect_timeout_s,
                                 statement_timeout_s=settings.database.statement_timeout_s), True


class KioskRuntime:
    def __init__(self, settings: Settings, *, db: Database | None = None, alerts: AlertSink | None = None) -> None:
        self.settings = settings
        self.alerts = alerts
        """Where night-time problems go (webhook/MQTT through kiosk.ops); None: logged only."""
        self._paper_out: set[str] = set()
        started_offline = False
        if db is None:
            db, started_offline = open_database_or_offline(settings)
        self.db = db
        self.secret = network_secret(settings)
        self.circulation = build_circulation(settings, self.db)
        self.devices = DeviceManager(settings, self.secret, self._route)
        self.staff = StaffDirectory(self.db, kiosk_id=settings.kiosk.id)
        self.traffic_settings = traffic_settings(settings)
        self.librarian = Librarian(self.db, branch_code=settings.kiosk.branch, kiosk_id=settings.kiosk.id,
                                   traffic=self.traffic_settings)
        self.machine = VisitMachine(self.circulation, idle_timeout_s=settings.kiosk.idle_timeout_s,
                                    idle_warning_s=settings.kiosk.idle_warning_s,
                                    staff=StaffWhileOffline(self.staff, self.circulation)
                                    if isinstance(self.circulation, OfflineCirculation) else self.staff,
                                    librarian=self.librarian)
        self.session = SessionRunner(self.machine)
        self.session.reporter = self.staff_report
        self.session.help_handler = self.help_requested
        if started_offline and isinstance(self.circulation, OfflineCirculation):
            self.circulation.started_unreachable()
        if isinstance(self.circulation, OfflineCirculation):
            # The offline backend notices outages on its own threads; the machine is single-threaded, so the change
            # is queued to the session's worker like any other event.
            self.circulation.alerts = alerts
            self.circulation.on_connectivity = self._connectivity_changed
            self._connectivity_changed(self.circulation.is_online)
        if isinstance(self.circulation, Sip2Circulation):
            self.circulation.on_connectivity = self._connectivity_changed  # the library system's SIP2 server
        self.wedge = WedgeAssembler() if url_scheme(settings.devices.scanner or "x") == "hid" else None
        self._traffic_queue = ThreadPoolExecutor(max_workers=1, thread_name_prefix="traffic")
        self.entry: EntryStation | None = None
        """The night door (reader outside + relay), when `[entry] enabled = true`."""
        self._started = False

    def _connectivity_changed(self, online: bool) -> None:
        self.session._do(lambda: self.machine.set_offline(not online))

    def _route(self, event: DeviceEvent) -> None:
        if isinstance(event, DeviceHealth):
            self._report_health(event)
        if isinstance(event, DoorCount):
            self.record_door_count(event)
            return
        self.session.post(event)

    def record_door_count(self, event: DoorCount) -> None:
        """Store door-counter totals off the driver's thread (a slow disk must not stall the counter's port).

        Counters report cumulative totals, so a sample lost to a database hiccup loses no visits: the next sample
        carries them. That is why a failed ingest is logged and not retried.
        """
        self._traffic_queue.submit(self._ingest, event)

    def _ingest(self, event: DoorCount) -> None:
        try:
            ingest(self.db, self.settings.kiosk.branch, [event], self.traffic_settings)
        except Exception:
            log.exception("door count from %s not stored", event.device)

    def occupancy(self) -> OccupancyView | None:
        """People in the room now, for the attract screen; None until the counter has reported anything."""
        try:
            return occupancy_now(self.db, self.settings.kiosk.branch, self.traffic_settings)
        except Exception:
            log.exception("occupancy not available")
            return None

    def staff_report(self) -> dict[str, Any]:
        """What the librarian on the staff screen wants first: today's numbers and whether every device answers."""
        tz = self.circulation.branch().tz
        start = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
        with self.db.read() as s:
            def count(action: str) -> int:
                return int(s.scalar(select(func.count()).select_from(AuditEntry).where(
                    AuditEntry.action == action, AuditEntry.outcome.in_(("ok", "in_transit")),
                    AuditEntry.at >= start, AuditEntry.kiosk_id == self.settings.kiosk.id)) or 0)

            report: dict[str, Any] = {"今日借出 Loans today": count("checkout"),
                                      "今日归还 Returns today": count("checkin"),
                                      "今日续借 Renewals today": count("renew")}
            visits = self._visits_today(s)
            if visits is not None:
                report["今日到访 Visits today"] = visits
        occupancy = self.occupancy()
        if occupancy is not None and occupancy.people is not None:
            report["当前在馆 In the room"] = occupancy.people
        for name, health in sorted(self.devices.health().items()):
            report[f"设备 {name}"] = f"{health.state}" + (f" ({health.reason})" if health.reason else "")
        return report

    def _visits_today(self, s: Session) -> int | None:
        """People counted in at the door today (local day); None before the counter has reported today.

        From the day rollup the door-counter ingest keeps, so the number is the one the traffic reports show, and
        never a made-up zero when there is no counter."""
        try:
            scope = resolve_scope(s, self.settings.kiosk.branch)
        except UnknownBranch:
            return None
        today = datetime.now(scope.tz).date()
        row = daily_rollups(s, scope, today, today).get(today)
        return None if row is None else round(row[0])

    def help_requested(self) -> None:
        log.warning("HELP requested at kiosk %s (branch %s)", self.settings.kiosk.id, self.settings.kiosk.branch)
        if self.alerts is not None:
            self.alerts.raise_alert(AlertKind.HELP_BUTTON, self.settings.kiosk.id)

    def _report_health(self, event: DeviceHealth) -> None:
        """A device that failed (not one reconnecting for a moment) is a condition for the librarian on duty."""
        if self.alerts is None:
            return
        if event.state is HealthState.FAILED and event.reason == "paper_out":
            # Its own kind: the librarian brings a paper roll, not a technician.
            self._paper_out.add(event.device)
            self.alerts.raise_alert(AlertKind.PAPER_OUT, event.device)
        elif event.state is HealthState.FAILED:
            self.alerts.raise_alert(AlertKind.DEVICE_FAILURE, event.device, reason=event.reason[:120])
        elif event.state is HealthState.CONNECTED:
            self.alerts.resolve(AlertKind.DEVICE_FAILURE, event.device)
            if event.device in self._paper_out:
                self._paper_out.discard(event.device)
                self.alerts.resolve(AlertKind.PAPER_OUT, event.device)

    def feed_key(self, key: str, at: float | None = None) -> None:
        """Raw key events from the touch screen's window, for a keyboard-wedge scanner (`devices.scanner = "hid:"`)."""
        if self.wedge is None:
            return
        code = self.wedge.feed(key, time.monotonic() if at is None else at)
        if code:
            self.session.post(BarcodeScanned("wedge", code, "keyboard"))

    def _entry_outcome(self, outcome: EntryOutcome) -> None:
        severity = Severity.SUCCESS if outcome.allowed else Severity.WARNING
        self.session.notice(Message(outcome.message_key, {}, severity))

    def start(self) -> None:
        if self._started:
            return
        self.circulation.branch()  # fail early, with a clear message, when the branch is not set up
        if entry_settings(self.settings, self.settings.kiosk.branch).enabled:
            self.entry = open_entry_station(self.settings, self.db, self.secret, alerts=self.alerts,
                                            on_outcome=self._entry_outcome)
            self.entry.start()
        self.devices.start()
        printer = self.devices.drivers.get("printer")
        if printer is not None and hasattr(printer, "print_lines"):
            self.machine.printer = PrinterAdapter(printer)
        self.session.start()
        self._started = True

    def stop(self) -> None:
        if self.entry is not None:
            self.entry.stop()  # switches the door relay off
            self.entry = None
        self.session.stop()
        self.devices.stop()
        self._traffic_queue.shutdown(wait=True)
        if isinstance(self.circulation, OfflineCirculation):
            self.circulation.close()
        self.db.dispose()
        self._started = False
