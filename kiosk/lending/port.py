"""What the visit machine needs from a lending backend, as one typed interface.

The visit machine (and so the touch screen) must not care *where* a loan is made: in this kiosk's own database
(`kiosk.lending.service.Circulation`), through the offline journal while a shared database is unreachable, or in a
city library's system over SIP2. Each backend implements this protocol; `kiosk.lending.backends.build_circulation`
is the one place that picks one from the settings. Results and refusals are the same plain values and typed
`Refusal`s everywhere, so every screen, message and receipt works unchanged on every backend.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from devices.events import CardPresented
from kiosk.lending.errors import RenewalRefused
from kiosk.lending.policy import LendingPolicy
from kiosk.lending.service import BranchRef, CheckinResult, CheckoutResult, PatronStanding, RenewResult


@runtime_checkable
class CirculationPort(Protocol):
    """Borrow, return, renew and identify, each one committed action (or a raised `Refusal`)."""

    kiosk_id: str
    clock: Callable[[], datetime]

    def branch(self) -> BranchRef: ...

    def standing(self, patron_id: int) -> PatronStanding: ...

    def find_patron(self, card_key: str) -> int | None: ...

    def touch_patron(self, patron_id: int, *, card_valid_until: date | None) -> None: ...

    def register(self, *, card_kind: str, card_key: str, masked_card: str, display_name: str,
                 card_valid_until: date | None) -> int: ...

    def checkout(self, patron_id: int, barcode: str) -> CheckoutResult: ...

    def checkin(self, barcode: str) -> CheckinResult: ...

    def renew(self, patron_id: int, loan_id: int) -> RenewResult: ...

    def renewal_refusal(self, patron: Any, loan: Any, reserved: bool, policy: LendingPolicy, now: datetime,
                        title: str) -> RenewalRefused | None: ...

    def record_rating(self, score: str, tags: tuple[str, ...] = ()) -> None: ...


@runtime_checkable
class IdentifiesByCard(Protocol):
    """A backend that needs the card itself, not just its key: a library system over SIP2 only knows the number
    printed on its own cards (`CardPresented.patron_identifier`, which never leaves memory otherwise)."""

    def find_card(self, card: CardPresented) -> int | None: ...


def find_patron_for(circulation: CirculationPort, card: CardPresented) -> int | None:
    """The patron a presented card belongs to, asking the backend in the way it can answer."""
    if isinstance(circulation, IdentifiesByCard):
        return circulation.find_card(card)
    return circulation.find_patron(card.key)
