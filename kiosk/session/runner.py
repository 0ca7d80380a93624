"""Runs the visit machine on ONE worker thread and tells subscribers about every new view.

Device threads and the UI thread only enqueue; the worker does the database work, so a slow disk or a network
database never freezes the screen and two events can never interleave inside the machine (the locked-machine
advice of `transitions`, done with a queue). Listeners are called on the worker thread: the UI hops to its own
thread with `Clock.schedule_once`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devices.events import BarcodeScanned, CardPresented, DeviceEvent
from kiosk.session.view import Message, Screen, SessionView, Severity
from kiosk.session.visit import VisitMachine

log = logging.getLogger(__name__)

TICK_S = 0.25
_STOP = object()


class SessionRunner:
    """A `SessionPort` (see `kiosk.session.view`) over a `VisitMachine`."""

    def __init__(self, machine: VisitMachine) -> None:
        self.machine = machine
        self._queue: queue.Queue[Any] = queue.Queue()
        self._listeners: list[Callable[[SessionView], None]] = []
        self._lock = threading.Lock()
        self._view = machine.view
        self._thread: threading.Thread | None = None
        self.reporter: Callable[[], dict[str, Any]] | None = None
        """Today's counts and device health for the staff screen; set by the runtime."""
        self.help_handler: Callable[[], None] | None = None
        """Raises the alert for the librarian on duty; set by the runtime."""

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kiosk-session", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until everything queued so far has been handled (tests and scripted demos)."""
        done = threading.Event()
        self._queue.put(done.set)
        return done.wait(timeout)

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=TICK_S)
            except queue.Empty:
                item = self.machine.tick
            if item is _STOP:
                return
            before = self.machine.view
            try:
                item()
            except Exception:
                # Nothing a resident does may crash the kiosk: report it on screen, keep the worker alive.
                log.exception("session step failed")
                self.machine.view = SessionView(
                    screen=self.machine.view.screen, patron=self.machine.view.patron,
                    scans=self.machine.view.scans, loans=self.machine.view.loans,
                    last=Message("error.unexpected", {}, Severity.ERROR), sequence=before.sequence + 1)
            if self.machine.view is not before:
                self._publish(self.machine.view)

    def _publish(self, view: SessionView) -> None:
        with self._lock:
            self._view = view
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(view)
            except Exception:
                log.exception("session listener failed")

    def _do(self, action: Callable[[], object]) -> None:
        self._queue.put(action)

    # ------------------------------------------------------------------ devices
    def post(self, event: DeviceEvent) -> None:
        """Thread-safe entry for device events; anything but cards and scans is ignored here."""
        if isinstance(event, CardPresented):
            self._do(lambda: self.machine.card(event))
        elif isinstance(event, BarcodeScanned):
            self._do(lambda: self.machine.scan(event.code))

    # ------------------------------------------------------------------ SessionPort
    def subscribe(self, listener: Callable[[SessionView], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def current(self) -> SessionView:
        with self._lock:
            return self._view

    def choose(self, screen: Screen) -> None:
        self._do(lambda: self.machine.choose(screen))

    def scan(self, code: str) -> None:
        self._do(lambda: self.machine.scan(code))

    def accept_consent(self) -> None:
        self._do(self.machine.accept_consent)

    def decline_consent(self) -> None:
        self._do(self.machine.decline_consent)

    def renew(self, loan_id: int) -> None:
        self._do(lambda: self.machine.renew(loan_id))

    def renew_all(self) -> None:
        self._do(self.machine.renew_all)

    def finish(self) -> None:
        self._do(self.machine.finish)

    def choose_receipt(self, kind: str) -> None:
        self._do(lambda: self.machine.choose_receipt(kind))

    def rate(self, score: str, tags: tuple[str, ...] = ()) -> None:
        self._do(lambda: self.machine.rate(score, tags))

    def cancel(self) -> None:
        self._do(self.machine.cancel)

    def touch(self) -> None:
        self._do(self.machine.touch)

    def staff_login(self, pin: str) -> None:
        self._do(lambda: self.machine.staff_login(pin))

    def staff_exit(self) -> None:
        self._do(self.machine.staff_exit)

    def staff_action(self, mode: str) -> None:
        """Staff mode: what the next scans do (lost / in_repair / withdrawn / available; "" to stop)."""
        self._do(lambda: self.machine.staff_action(mode))

    def staff_dashboard(self, out_dir: Path, language: str, frame: Any = None) -> Any:
        """Called off the UI thread by the dashboard: `kiosk.librarian.Dashboard`, or None outside staff mode;
        `frame` (`kiosk.traffic.charts.ChartFrame`) is the chart's size on the screen."""
        librarian = getattr(self.machine, "librarian", None)
        if self.current().screen is not Screen.STAFF or librarian is None:
            return None
        return librarian.dashboard(out_dir, language, frame)

    def staff_overdue(self, offset: int, limit: int) -> Any:
        """Called off the UI thread by the overdue list: `kiosk.librarian.OverduePage`, or None outside staff mode."""
        librarian = getattr(self.machine, "librarian", None)
        if self.current().screen is not Screen.STAFF or librarian is None:
            return None
        return librarian.overdue(offset, limit)

    def staff_announcement(self) -> Any:
        """Called off the UI thread by the announcement panel: `kiosk.librarian.TodaysAnnouncement`, or None outside
        staff mode."""
        librarian = getattr(self.machine, "librarian", None)
        if self.current().screen is not Screen.STAFF or librarian is None:
            return None
        return librarian.todays_announcement()

    def staff_save_announcement(self, text: str, text_en: str) -> Any:
        """Called off the UI thread: saves today's announcement in the signed-in librarian's name (audited); raises
        `kiosk.librarian.AnnouncementTooLong`. None (nothing saved) outside staff mode."""
        librarian = getattr(self.machine, "librarian", None)
        view = self.current()
        if view.screen is not Screen.STAFF or librarian is None:
            return None
        return librarian.save_todays_announcement(text, text_en, staff=view.staff_name)

    def notice(self, message: Message) -> None:
        """Thread-safe: show a message on the attract screen (ignored while someone is using the kiosk)."""
        self._do(lambda: self.machine.notice(message))

    def staff_report(self) -> dict[str, Any]:
        """Called off the UI thread by the staff screen; only while a staff member is signed in."""
        if self.current().screen is not Screen.STAFF or self.reporter is None:
            return {}
        return self.reporter()

    def call_help(self) -> None:
        """The help button: never blocks the screen, never fails it."""
        log.info("help requested at the kiosk")
        handler = self.help_handler
        if handler is not None:
            self._do(handler)
