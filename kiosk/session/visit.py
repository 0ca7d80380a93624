"""One visitor's visit as an explicit state machine: the only place the kiosk's screen state changes.

Pure and single-threaded: it is fed device events and taps (by `kiosk.session.runner`, on one worker thread) and a
clock, calls the lending rules, and produces an immutable `SessionView`. Personal data lives here only for the length
of a visit: every finish, cancel and idle timeout replaces the whole view with a blank one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, Protocol

from devices.events import CardKind, CardPresented
from kiosk.lending.errors import (
    AlreadyOnYourCard,
    ItemNotLoanable,
    NotOnLoan,
    PatronBlocked,
    Refusal,
    RenewalRefused,
    UnknownCard,
)
from kiosk.lending.port import CirculationPort, find_patron_for
from kiosk.lending.service import PatronStanding
from kiosk.session.view import (
    LoanLine,
    Message,
    PatronView,
    ReceiptLine,
    ReceiptView,
    ScanLine,
    Screen,
    SessionView,
    Severity,
)

log = logging.getLogger(__name__)

VISIT_SCREENS = {Screen.MENU, Screen.BORROWING, Screen.RETURNING, Screen.ACCOUNT}
RECEIPT_WARNINGS = {
    "receipt.paper_out": "receipt.choose.paper_out",
    "receipt.offline": "receipt.choose.offline",
    "receipt.printer_failed": "receipt.choose.printer_failed",
}
"""A printer problem known before the receipt choice → what the choice screen says about it."""


class ReceiptPrinterPort(Protocol):
    """A receipt printer as the session sees it: print or say why not, quickly (the driver prints off-thread)."""

    def print_receipt(self, lines: list[str], qr: str | None) -> str | None:
        """Print; return None on success or a message key (`receipt.paper_out`, …) when it could not."""
        ...

    def known_problem(self) -> str | None:
        """What the printer reported last (`receipt.paper_out`, `receipt.offline`, …), or None, without asking it
        again: the resident is told before choosing paper, and printing stays offered (paper may have been put in
        since; trying is what clears the fault)."""
        ...


class LibrarianPort(Protocol):
    """Staff-mode item work (`kiosk.librarian.Librarian`): one transaction per scan, raises Refusal."""

    def set_status(self, barcode: str, mode: str, *, staff: str = "") -> Any: ...
    def title_for_isbn(self, code: str) -> Any: ...
    def add_copy(self, title: Any, barcode: str, *, staff: str = "") -> str: ...


class StaffPort(Protocol):
    def is_staff_card(self, card_key: str) -> bool: ...
    def login(self, pin: str, card_key: str | None) -> str:
        """The staff member's display name; raises Refusal (wrong PIN, locked out)."""
        ...


@dataclass
class _Visit:
    """Everything personal about the current visit; dropped whole at its end."""

    patron_id: int | None = None
    card: CardPresented | None = None
    scanned_ok: set[str] = field(default_factory=set)
    receipt: list[ReceiptLine] = field(default_factory=list)


def _iso_day(value: datetime, tz: Any) -> str:
    return value.astimezone(tz).date().isoformat()


RECEIPT_ACTIONS = {"borrowed": "借出", "returned": "归还", "renewed": "续借"}


def receipt_qr_text(branch_name: str, at: datetime, lines: Sequence[ReceiptLine], tz: Any) -> str:
    """What the receipt's QR code holds: the receipt itself, as plain text a phone shows and keeps (a scan showed
    "XW01|2026-11-22 10:30|borrowed:TS0001021:2026-12-22", which told the resident nothing). Titles and dates
    only: the masked name and the copies' barcodes are for the printed slip and the librarians."""
    out = [f"{branch_name} 自助借还凭条", at.astimezone(tz).strftime("%Y-%m-%d %H:%M")]
    for line in lines:
        title = f"《{line.title}》" if line.title else line.barcode
        due = f" 应还 {_iso_day(line.due_at, tz)}" if line.due_at else ""
        out.append(f"{RECEIPT_ACTIONS.get(line.action, line.action)} {title}{due}")
    return "\n".join(out)


def _local_day(value: datetime, tz: Any) -> date:
    """Due dates travel as dates: each language formats them its own way ("2026年12月23日", "23 Dec 2026")."""
    return value.astimezone(tz).date()


class VisitMachine:
    def __init__(self, circulation: CirculationPort, *, idle_timeout_s: float, idle_warning_s: float,
                 printer: ReceiptPrinterPort | None = None, staff: StaffPort | None = None,
                 monotonic: Callable[[], float] = time.monotonic, librarian: LibrarianPort | None = None) -> None:
        self.circulation = circulation
        self.idle_timeout_s = idle_timeout_s
        self.idle_warning_s = idle_warning_s
        self.printer = printer
        self.staff = staff
        self.librarian = librarian
        self._staff_title: Any = None
        """Adding a copy: the title whose ISBN was scanned, waiting for the new copy's barcode."""
        self.monotonic = monotonic
        self.view = SessionView()
        self._visit = _Visit()
        self._last_activity = monotonic()
        self._offline = False

    # ------------------------------------------------------------------ helpers
    @property
    def tz(self) -> Any:
        return self.circulation.branch().tz

    def _set(self, **changes: Any) -> SessionView:
        self.view = replace(self.view, sequence=self.view.sequence + 1, **changes)
        return self.view

    def _activity(self) -> None:
        self._last_activity = self.monotonic()
        if self.view.idle_warning_remaining_s is not None:
            self._set(idle_warning_remaining_s=None)

    def _reset(self, last: Message | None = None) -> SessionView:
        """End the visit: no personal data survives on any screen."""
        self._visit = _Visit()
        self._staff_title = None
        self.view = SessionView(screen=Screen.ATTRACT, last=last, offline=self._offline,
                                sequence=self.view.sequence + 1)
        return self.view

    @staticmethod
    def refusal_message(refusal: Refusal) -> Message:
        params = dict(refusal.params)
        key = refusal.key
        if isinstance(refusal, ItemNotLoanable):
            key = f"{key}.{params.get('status', '')}"
        elif isinstance(refusal, PatronBlocked | RenewalRefused):
            key = f"{key}.{params.get('reason', '')}"
        severity = Severity.WARNING if isinstance(refusal, AlreadyOnYourCard | NotOnLoan) else Severity.ERROR
        return Message(key, params, severity)

    def _patron_view(self, standing: PatronStanding) -> PatronView:
        return PatronView(
            masked_name=standing.patron.display_name,
            masked_card=standing.patron.masked_card,
            loans_count=len(standing.loans),
            max_loans=standing.max_loans,
            overdue_count=standing.overdue,
            blocks=tuple(self.refusal_message(b) for b in standing.blocks),
        )

    def _loan_lines(self, standing: PatronStanding) -> tuple[LoanLine, ...]:
        now = self.circulation.clock()
        policy = self.circulation.branch().policy
        lines = []
        for loan in standing.loans:
            refusal = self.circulation.renewal_refusal(standing.patron, loan, loan.reserved, policy, now, loan.title)
            lines.append(LoanLine(loan.loan_id, loan.barcode, loan.title, loan.due_at, loan.due_at < now,
                                  refusal is None, loan.renewals,
                                  None if refusal is None else self.refusal_message(refusal)))
        return tuple(lines)

    def _refresh_patron(self) -> None:
        if self._visit.patron_id is None:
            return
        standing = self.circulation.standing(self._visit.patron_id)
        self._set(patron=self._patron_view(standing), loans=self._loan_lines(standing))

    # ------------------------------------------------------------------ device events
    def card(self, event: CardPresented) -> SessionView:
        self._activity()
        if self.staff is not None and (event.kind == CardKind.STAFF_CARD or self.staff.is_staff_card(event.key)):
            self._visit = _Visit(card=event)
            return self._set(screen=Screen.STAFF_LOGIN, patron=None, scans=(), loans=(), last=None)
        if self._visit.card is not None and self._visit.card.key == event.key and self.view.screen != Screen.ATTRACT:
            return self.view  # the same card again during its own visit: nothing new
        if self.view.screen != Screen.ATTRACT:
            self._reset()
        if event.expired:
            return self._set(last=Message("session.card_expired", {}, Severity.ERROR))
        try:
            patron_id = find_patron_for(self.circulation, event)
        except Refusal as refusal:  # a remote library system that does not answer
            return self._set(last=self.refusal_message(refusal))
        if patron_id is None:
            policy = self.circulation.branch().policy
            if not policy.self_registration:
                return self._set(last=self.refusal_message(UnknownCard()))
            self._visit = _Visit(card=event)
            return self._set(screen=Screen.CONSENT, last=None)
        try:
            return self._welcome(patron_id, event)
        except Refusal as refusal:
            self._reset()
            return self._set(last=self.refusal_message(refusal))

    def _welcome(self, patron_id: int, event: CardPresented) -> SessionView:
        self.circulation.touch_patron(patron_id, card_valid_until=event.valid_until)
        self._visit = _Visit(patron_id=patron_id, card=event)
        standing = self.circulation.standing(patron_id)
        patron = self._patron_view(standing)
        last = patron.blocks[0] if patron.blocks else Message("session.welcome", {"name": patron.masked_name},
                                                               Severity.INFO)
        return self._set(screen=Screen.MENU, patron=patron, loans=self._loan_lines(standing), scans=(), last=last)

    def accept_consent(self) -> SessionView:
        self._activity()
        card = self._visit.card
        if self.view.screen != Screen.CONSENT or card is None:
            return self.view
        valid: date | None = card.valid_until
        patron_id = self.circulation.register(card_kind=str(card.kind), card_key=card.key,
                                              masked_card=card.masked_number, display_name=card.display_name,
                                              card_valid_until=valid)
        return self._welcome(patron_id, card)

    def decline_consent(self) -> SessionView:
        return self._reset(Message("session.consent_declined", {}, Severity.INFO))

    def scan(self, code: str) -> SessionView:
        self._activity()
        code = code.strip()
        if not code:
            return self.view
        screen = self.view.screen
        if screen in (Screen.ATTRACT, Screen.RETURNING):
            return self._return(code)
        if screen in (Screen.MENU, Screen.BORROWING, Screen.ACCOUNT) and self._visit.patron_id is not None:
            if screen != Screen.BORROWING:
                self._set(screen=Screen.BORROWING)
            return self._borrow(code)
        if screen == Screen.STAFF and self.view.staff_mode and self.librarian is not None:
            return self._staff_scan(code)
        return self._set(last=Message("session.scan_not_now", {}, Severity.INFO))

    def staff_action(self, mode: str) -> SessionView:
        """Staff mode: choose what the next scans do ("" stops). Only while a librarian is signed in."""
        self._activity()
        if self.view.screen != Screen.STAFF:
            return self.view
        self._staff_title = None
        if not mode:
            return self._set(staff_mode="", scans=(), last=None)
        return self._set(staff_mode=mode, scans=(), last=Message(f"librarian.prompt.{mode}", {}, Severity.INFO))

    def _staff_add_copy(self, code: str) -> SessionView:
        """Two scans per copy: the book's ISBN (its title must be in the catalog), then the new copy's barcode."""
        assert self.librarian is not None
        try:
            if self._staff_title is None:
                self._staff_title = self.librarian.title_for_isbn(code)
                title = str(self._staff_title.title)
                return self._set(last=Message("librarian.add_copy.scan_barcode", {"title": title}, Severity.INFO))
            title = self.librarian.add_copy(self._staff_title, code, staff=self.view.staff_name)
        except Refusal as refusal:
            message = Message(refusal.key, dict(refusal.params), Severity.ERROR)
            return self._add_scan(ScanLine(code, "", message, False), message)
        self._staff_title = None
        message = Message("librarian.add_copy.added", {"title": title, "barcode": code}, Severity.SUCCESS)
        return self._add_scan(ScanLine(code, title, message, True), message)

    def _staff_scan(self, code: str) -> SessionView:
        assert self.librarian is not None
        mode = self.view.staff_mode
        if mode == "add_copy":
            return self._staff_add_copy(code)
        try:
            change = self.librarian.set_status(code, mode, staff=self.view.staff_name)
        except Refusal as refusal:
            message = Message(refusal.key, dict(refusal.params), Severity.ERROR)
            return self._add_scan(ScanLine(code, str(refusal.params.get("title", "")), message, False), message)
        key = f"librarian.status_set.{change.after}" if change.changed else f"librarian.status_same.{change.after}"
        message = Message(key, {"title": change.title}, Severity.SUCCESS if change.changed else Severity.INFO)
        return self._add_scan(ScanLine(code, change.title, message, True), message)

    def _add_scan(self, line: ScanLine, last: Message) -> SessionView:
        scans = (*self.view.scans, line)[-50:]
        return self._set(scans=scans, last=last)

    def _borrow(self, code: str) -> SessionView:
        assert self._visit.patron_id is not None
        if code in self._visit.scanned_ok:
            # The same book scanned twice in one visit is one loan: say so instead of "already on your card".
            return self._set(last=Message("loan.already_scanned", {"barcode": code}, Severity.INFO))
        try:
            result = self.circulation.checkout(self._visit.patron_id, code)
        except Refusal as refusal:
            message = self.refusal_message(refusal)
            if isinstance(refusal, AlreadyOnYourCard):
                message = Message("loan.offer_renewal", refusal.params, Severity.WARNING)
            title = str(refusal.params.get("title", ""))
            self._refresh_patron()
            return self._add_scan(ScanLine(code, title, message, False), message)
        self._visit.scanned_ok.add(code)
        self._visit.receipt.append(ReceiptLine(result.title, code, result.due_at, "borrowed"))
        due = _local_day(result.due_at, self.tz)
        # A loan made offline (the backend's result says `pending`) is confirmed when the database is back.
        key = "loan.lent_offline" if getattr(result, "pending", False) else "loan.lent"
        message = Message(key, {"title": result.title, "due": due, "count": result.loans_after,
                                "max": result.max_loans}, Severity.SUCCESS)
        self._refresh_patron()
        return self._add_scan(ScanLine(code, result.title, message, True, result.due_at), message)

    def _return(self, code: str) -> SessionView:
        if self.view.screen == Screen.ATTRACT:
            self._set(screen=Screen.RETURNING, scans=())
        try:
            result = self.circulation.checkin(code)
        except Refusal as refusal:
            message = self.refusal_message(refusal)
            return self._add_scan(ScanLine(code, str(refusal.params.get("title", "")), message, False), message)
        self._visit.receipt.append(ReceiptLine(result.title, code, None, "returned"))
        if result.in_transit:
            message = Message("return.in_transit", {"title": result.title, "home": result.home_branch},
                              Severity.SUCCESS)
        elif result.transit_received:
            message = Message("return.transit_received", {"title": result.title, "shelf": result.shelf_location},
                              Severity.SUCCESS)
        elif result.fine_cents:
            message = Message("return.fine", {"title": result.title, "days": result.days_late,
                                              "amount": f"{result.fine_cents / 100:.2f}"}, Severity.WARNING)
        elif result.was_overdue:
            message = Message("return.overdue", {"title": result.title}, Severity.SUCCESS)
        else:
            key = "return.ok_offline" if getattr(result, "pending", False) else "return.ok"
            message = Message(key, {"title": result.title}, Severity.SUCCESS)
        self._refresh_patron()
        return self._add_scan(ScanLine(code, result.title, message, True), message)

    # ------------------------------------------------------------------ taps
    def choose(self, screen: Screen) -> SessionView:
        self._activity()
        if screen == Screen.RETURNING:
            if self.view.screen not in (Screen.ATTRACT, *VISIT_SCREENS):
                return self.view  # not from the middle of finishing, the receipt or the rating
            return self._set(screen=Screen.RETURNING, last=Message("return.prompt", {}, Severity.INFO))
        if screen in (Screen.BORROWING, Screen.ACCOUNT, Screen.MENU):
            if self._visit.patron_id is None:
                return self._set(last=Message("session.card_first", {}, Severity.INFO))
            self._refresh_patron()
            prompt = {Screen.BORROWING: "loan.prompt", Screen.ACCOUNT: "account.prompt",
                      Screen.MENU: "session.menu_prompt"}[screen]
            return self._set(screen=screen, last=Message(prompt, {}, Severity.INFO))
        if screen == Screen.STAFF_LOGIN:
            return self._set(screen=Screen.STAFF_LOGIN, last=None)
        return self.view

    def renew(self, loan_id: int) -> SessionView:
        self._activity()
        if self._visit.patron_id is None:
            return self.view
        try:
            result = self.circulation.renew(self._visit.patron_id, loan_id)
        except Refusal as refusal:
            self._refresh_patron()
            return self._set(last=self.refusal_message(refusal))
        self._visit.receipt.append(ReceiptLine(result.title, result.barcode, result.due_at, "renewed"))
        self._refresh_patron()
        return self._set(last=Message("renew.ok", {"title": result.title, "due": _local_day(result.due_at, self.tz)},
                                      Severity.SUCCESS))

    def renew_all(self) -> SessionView:
        self._activity()
        if self._visit.patron_id is None:
            return self.view
        renewed, refused = 0, 0
        for line in self.view.loans:
            if not line.renewable:
                refused += 1
                continue
            try:
                result = self.circulation.renew(self._visit.patron_id, line.loan_id)
            except Refusal:
                refused += 1
                continue
            renewed += 1
            self._visit.receipt.append(ReceiptLine(result.title, result.barcode, result.due_at, "renewed"))
        self._refresh_patron()
        severity = Severity.SUCCESS if renewed and not refused else Severity.WARNING
        return self._set(last=Message("renew.all_done", {"renewed": renewed, "refused": refused}, severity))

    def finish(self) -> SessionView:
        self._activity()
        screen = self.view.screen
        if screen in VISIT_SCREENS or screen == Screen.CONSENT:
            if self._visit.receipt:
                return self._set(screen=Screen.FINISHING, can_print=self.printer is not None,
                                 last=self._receipt_question())
            return self._rating()
        if screen == Screen.FINISHING:
            return self.choose_receipt("none")
        if screen == Screen.RECEIPT:
            return self._rating()
        if screen == Screen.RATING:
            return self._reset(Message("session.goodbye", {}, Severity.INFO))
        return self.view

    def _rating(self) -> SessionView:
        # The rating is anonymous: drop the patron from the view before asking.
        self._visit = _Visit()
        return self._set(screen=Screen.RATING, patron=None, loans=(), scans=(), receipt=None,
                         last=Message("rating.prompt", {}, Severity.INFO))

    def _receipt_view(self) -> ReceiptView:
        branch = self.circulation.branch()
        name = self.view.patron.masked_name if self.view.patron else ""
        at = self.circulation.clock()
        lines = tuple(self._visit.receipt)
        return ReceiptView(branch.name, name, at, lines, receipt_qr_text(branch.name, at, lines, branch.tz))

    def receipt_text(self, receipt: ReceiptView) -> list[str]:
        """Printed receipt lines (Chinese, as most residents read them); the masked name, never the ID number."""
        tz = self.tz
        out = [receipt.branch_name, "自助借还凭条", f"读者: {receipt.masked_name}",
               f"时间: {receipt.at.astimezone(tz).strftime('%Y-%m-%d %H:%M')}", "-" * 24]
        for line in receipt.lines:
            out.append(f"{RECEIPT_ACTIONS.get(line.action, line.action)} {line.title}")
            out.append(f"  {line.barcode}" + (f"  应还 {_iso_day(line.due_at, tz)}" if line.due_at else ""))
        out += ["-" * 24, "请按时归还，谢谢！"]
        return out

    def _receipt_question(self) -> Message:
        """"Would you like a receipt?", or, when the printer has already said it cannot print, that and what to do
        instead."""
        problem = None
        if self.printer is not None:
            try:
                problem = self.printer.known_problem()
            except Exception:
                log.exception("could not read the receipt printer's state")
        if problem in RECEIPT_WARNINGS:
            return Message(RECEIPT_WARNINGS[problem], {}, Severity.WARNING)
        return Message("receipt.choose", {}, Severity.INFO)

    def choose_receipt(self, kind: str) -> SessionView:
        self._activity()
        if self.view.screen != Screen.FINISHING:
            return self.view
        if kind == "none":
            return self._rating()
        receipt = self._receipt_view()
        if kind == "print":
            if self.printer is None:
                problem: str | None = "receipt.no_printer"
            else:
                try:
                    problem = self.printer.print_receipt(self.receipt_text(receipt), receipt.qr_payload)
                except Exception:
                    log.exception("receipt printer failed")
                    problem = "receipt.printer_failed"
            if problem is None:
                receipt = replace(receipt, printed=True)
                return self._set(screen=Screen.RECEIPT, receipt=receipt,
                                 last=Message("receipt.printed", {}, Severity.SUCCESS))
            receipt = replace(receipt, print_problem=Message(problem, {}, Severity.WARNING))
            return self._set(screen=Screen.RECEIPT, receipt=receipt, last=receipt.print_problem)
        return self._set(screen=Screen.RECEIPT, receipt=receipt, last=Message("receipt.on_screen", {},
                                                                                  Severity.INFO))

    def rate(self, score: str, tags: tuple[str, ...] = ()) -> SessionView:
        self._activity()
        if self.view.screen != Screen.RATING or score not in ("good", "neutral", "bad"):
            return self.view
        self.circulation.record_rating(score, tags)
        return self._reset(Message("rating.thanks", {}, Severity.SUCCESS))

    def cancel(self) -> SessionView:
        return self._reset(Message("session.cancelled", {}, Severity.INFO))

    def touch(self) -> SessionView:
        self._activity()
        return self.view

    def staff_login(self, pin: str) -> SessionView:
        self._activity()
        if self.staff is None:
            return self._set(last=Message("staff.unavailable", {}, Severity.ERROR))
        card_key = self._visit.card.key if self._visit.card is not None else None
        try:
            name = self.staff.login(pin, card_key)
        except Refusal as refusal:
            return self._set(screen=Screen.STAFF_LOGIN, last=Message(refusal.key, refusal.params, Severity.ERROR))
        self._visit = _Visit()
        return self._set(screen=Screen.STAFF, staff_name=name, patron=None, loans=(), scans=(),
                         last=Message("staff.welcome", {"name": name}, Severity.INFO))

    def staff_exit(self) -> SessionView:
        return self._reset()

    def notice(self, message: Message) -> SessionView:
        """Something the room wants said on the idle screen (the door station's welcome or refusal)."""
        if self.view.screen != Screen.ATTRACT:
            return self.view  # never interrupt a resident's visit
        self._last_activity = self.monotonic()
        return self._set(last=message)

    def set_offline(self, offline: bool) -> SessionView:
        self._offline = offline
        return self._set(offline=offline) if self.view.offline != offline else self.view

    # ------------------------------------------------------------------ time
    def tick(self) -> SessionView:
        """Called about twice a second: runs the idle warning countdown and the timeout."""
        if self.view.screen == Screen.ATTRACT:
            if self.view.last is not None and self.monotonic() - self._last_activity > 10:
                return self._set(last=None)  # feedback for a walk-up return fades after a while
            return self.view
        idle = self.monotonic() - self._last_activity
        timeout = self.idle_timeout_s
        if self.view.screen == Screen.STAFF:
            timeout *= 5  # librarians read lists; still never left open all night
        if idle >= timeout:
            return self._reset(Message("session.timed_out", {}, Severity.INFO))
        if idle >= timeout - self.idle_warning_s:
            remaining = float(int(timeout - idle + 0.999))
            if self.view.idle_warning_remaining_s != remaining:
                return self._set(idle_warning_remaining_s=remaining)
        return self.view


def utc_now() -> datetime:
    return datetime.now(UTC)
