"""Staff accounts: who may leave the kiosk screen or enter librarian mode, with a card plus a PIN.

PINs are hashed with argon2id (argon2-cffi's defaults, about 50 ms here: slow for a guesser, quick for a librarian).
After `MAX_FAILURES` wrong PINs the account locks for `LOCK_MINUTES`; the counter and the lock live in the database,
so restarting the kiosk does not reset them. A PIN alone never logs in: the staff card says whose PIN it is, so one
guessed PIN cannot open every account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.db import Database
from catalog.model import AuditEntry, Staff
from devices.identity import card_key, person_key
from kiosk.lending.errors import Refusal

MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PIN_LENGTH = 4


class StaffError(ValueError):
    """A librarian's command that cannot be carried out (unknown user, weak PIN, card in use)."""


@dataclass(frozen=True)
class StaffView:
    username: str
    display_name: str
    role: str
    has_card: bool
    locked: bool
    active: bool


def _utcnow() -> datetime:
    return datetime.now(UTC)


def staff_card_key(secret: bytes, *, card_number: str | None = None, id_number: str | None = None) -> str:
    """A staff member's card is hashed like a patron's: a library card by its number, an ID card by the person."""
    if id_number:
        return person_key(secret, id_number)
    if card_number:
        return card_key(secret, "card", card_number.strip())
    raise StaffError("give a card number or an ID number")


class StaffDirectory:
    def __init__(self, db: Database, *, kiosk_id: str = "cli", clock: Callable[[], datetime] = _utcnow,
                 hasher: PasswordHasher | None = None) -> None:
        self.db = db
        self.kiosk_id = kiosk_id
        self.clock = clock
        self.hasher = hasher or PasswordHasher()

    @staticmethod
    def check_pin(pin: str) -> None:
        if len(pin) < MIN_PIN_LENGTH:
            raise StaffError(f"a PIN needs at least {MIN_PIN_LENGTH} characters")
        if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
            raise StaffError("that PIN is too easy to guess (no repeated or sequential digits)")

    def add(self, username: str, pin: str, *, display_name: str = "", role: str = "librarian",
            card_key_value: str | None = None) -> None:
        self.check_pin(pin)
        with self.db.unit_of_work() as s:
            if s.scalar(select(Staff.id).where(Staff.username == username)) is not None:
                raise StaffError(f"staff {username!r} exists already")
            if card_key_value and s.scalar(select(Staff.id).where(Staff.card_key == card_key_value)) is not None:
                raise StaffError("that card belongs to another staff member")
            s.add(Staff(username=username, display_name=display_name or username, role=role,
                        card_key=card_key_value, secret_hash=self.hasher.hash(pin), created_at=self.clock()))
            s.add(AuditEntry(at=self.clock(), kiosk_id=self.kiosk_id, action="staff_add", outcome="ok",
                             detail={"username": username}))

    def passwd(self, username: str, pin: str) -> None:
        self.check_pin(pin)
        with self.db.unit_of_work() as s:
            staff = self._get(s, username)
            staff.secret_hash = self.hasher.hash(pin)
            staff.failed_attempts = 0
            staff.locked_until = None
            s.add(AuditEntry(at=self.clock(), kiosk_id=self.kiosk_id, action="staff_passwd", outcome="ok",
                             detail={"username": username}))

    def remove(self, username: str) -> None:
        """Deactivate rather than delete: the audit log keeps pointing at who did what."""
        with self.db.unit_of_work() as s:
            staff = self._get(s, username)
            staff.active = False
            staff.card_key = None
            s.add(AuditEntry(at=self.clock(), kiosk_id=self.kiosk_id, action="staff_remove", outcome="ok",
                             detail={"username": username}))

    def list(self) -> list[StaffView]:
        now = self.clock()
        with self.db.read() as s:
            return [StaffView(st.username, st.display_name, st.role, st.card_key is not None,
                              st.locked_until is not None and st.locked_until > now, st.active)
                    for st in s.scalars(select(Staff).order_by(Staff.username))]

    @staticmethod
    def _get(s: Session, username: str) -> Staff:
        staff = s.scalars(select(Staff).where(Staff.username == username)).one_or_none()
        if staff is None:
            raise StaffError(f"no staff member {username!r}")
        return staff

    # ------------------------------------------------------------------ the kiosk's side (StaffPort)
    def is_staff_card(self, card_key_value: str) -> bool:
        with self.db.read() as s:
            return s.scalar(select(Staff.id).where(Staff.card_key == card_key_value,
                                                   Staff.active.is_(True))) is not None

    def login(self, pin: str, card_key_value: str | None) -> str:
        if not card_key_value:
            raise Refusal("staff.card_first")
        now = self.clock()
        with self.db.unit_of_work() as s:
            staff = s.scalars(select(Staff).where(Staff.card_key == card_key_value, Staff.active.is_(True))
                              .with_for_update()).one_or_none()
            if staff is None:
                raise Refusal("staff.card_first")
            if staff.locked_until is not None and staff.locked_until > now:
                minutes = max(1, int((staff.locked_until - now).total_seconds() // 60) + 1)
                raise Refusal("staff.locked", minutes=minutes)
            try:
                self.hasher.verify(staff.secret_hash, pin)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                staff.failed_attempts += 1
                left = MAX_FAILURES - staff.failed_attempts
                outcome = "wrong_pin"
                if left <= 0:
                    staff.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                    staff.failed_attempts = 0
                    outcome = "locked"
                s.add(AuditEntry(at=now, kiosk_id=self.kiosk_id, action="staff_login", outcome=outcome,
                                 detail={"username": staff.username}))
                s.commit()
                if left <= 0:
                    raise Refusal("staff.locked", minutes=LOCK_MINUTES) from None
                raise Refusal("staff.wrong_pin", left=left) from None
            staff.failed_attempts = 0
            staff.locked_until = None
            if self.hasher.check_needs_rehash(staff.secret_hash):
                staff.secret_hash = self.hasher.hash(pin)
            s.add(AuditEntry(at=now, kiosk_id=self.kiosk_id, action="staff_login", outcome="ok",
                             detail={"username": staff.username}))
            return staff.display_name
