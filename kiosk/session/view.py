"""What the UI is told: immutable snapshots of the session, plain values only (no ORM objects, no raw identity).

This is the contract between the core and the screens. The core publishes a new `SessionView` after every change;
the UI renders it and never asks the database anything itself. Text is carried as message keys + parameters
(`Message`) so the screen can switch language without asking the core again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class Screen(StrEnum):
    ATTRACT = "attract"
    CONSENT = "consent"
    """First use of a card: short privacy notice, consent before anything about the person is stored."""
    MENU = "menu"
    """Identified: choose borrow / return / my account."""
    BORROWING = "borrowing"
    RETURNING = "returning"
    ACCOUNT = "account"
    FINISHING = "finishing"
    """Receipt choice (print / on screen / none)."""
    RECEIPT = "receipt"
    """On-screen receipt with a QR code."""
    RATING = "rating"
    STAFF_LOGIN = "staff_login"
    STAFF = "staff"


class Severity(StrEnum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Message:
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)
    severity: Severity = Severity.INFO


@dataclass(frozen=True)
class PatronView:
    masked_name: str
    masked_card: str
    loans_count: int
    max_loans: int
    overdue_count: int = 0
    blocks: tuple[Message, ...] = ()

    @property
    def can_borrow(self) -> bool:
        return not self.blocks and self.loans_count < self.max_loans


@dataclass(frozen=True)
class LoanLine:
    loan_id: int
    barcode: str
    title: str
    due_at: datetime
    overdue: bool
    renewable: bool
    renewals: int
    refusal: Message | None = None
    """Why it cannot be renewed, when it cannot."""


@dataclass(frozen=True)
class ScanLine:
    """One scan in this visit, newest last: what was scanned and what happened."""

    barcode: str
    title: str
    outcome: Message
    ok: bool
    due_at: datetime | None = None


@dataclass(frozen=True)
class ReceiptLine:
    title: str
    barcode: str
    due_at: datetime | None
    action: str
    """borrowed / returned / renewed"""


@dataclass(frozen=True)
class ReceiptView:
    branch_name: str
    masked_name: str
    at: datetime
    lines: tuple[ReceiptLine, ...]
    qr_payload: str
    printed: bool = False
    print_problem: Message | None = None


@dataclass(frozen=True)
class SessionView:
    screen: Screen = Screen.ATTRACT
    patron: PatronView | None = None
    scans: tuple[ScanLine, ...] = ()
    loans: tuple[LoanLine, ...] = ()
    last: Message | None = None
    """The newest feedback, shown big: lent until …, limit reached 5/5, unknown barcode, …"""
    idle_warning_remaining_s: float | None = None
    """Set while the idle-timeout warning counts down."""
    receipt: ReceiptView | None = None
    can_print: bool = True
    """False on a kiosk without a receipt printer: the receipt choice offers the on-screen receipt only."""
    offline: bool = False
    busy: bool = False
    staff_name: str = ""
    staff_mode: str = ""
    """In staff mode: what a scan does (lost / in_repair / withdrawn / available); "" when scans are ignored."""
    sequence: int = 0


class SessionPort(Protocol):
    """What the UI may ask of the session. Every call returns at once; the work happens off the UI thread and the
    outcome arrives as a new `SessionView` through `subscribe`."""

    def subscribe(self, listener: Callable[[SessionView], None]) -> None: ...
    def current(self) -> SessionView: ...
    def choose(self, screen: Screen) -> None: ...
    def scan(self, code: str) -> None: ...
    def accept_consent(self) -> None: ...
    def decline_consent(self) -> None: ...
    def renew(self, loan_id: int) -> None: ...
    def renew_all(self) -> None: ...
    def finish(self) -> None: ...
    def choose_receipt(self, kind: str) -> None: ...
    def rate(self, score: str, tags: tuple[str, ...] = ()) -> None: ...
    def cancel(self) -> None: ...
    def touch(self) -> None: ...
    def staff_login(self, pin: str) -> None: ...
    def staff_exit(self) -> None: ...
