"""Staff cards while the database is unreachable.

The visit machine asks "is this a staff card?" before anything else a card does, so an outage must not turn every
resident's card into an error (or, on a silent link, a wait for TCP to give up). Offline, no card is a staff card:
residents borrow and return from the journal, and a librarian's card is refused as unknown, since signing in
needs the database anyway (the PIN check and lock-out counters live there).
"""

from __future__ import annotations

from kiosk.lending.errors import Refusal
from kiosk.offline.backend import OfflineCirculation
from kiosk.session.visit import StaffPort


class StaffWhileOffline:
    def __init__(self, staff: StaffPort, circulation: OfflineCirculation) -> None:
        self.staff = staff
        self.circulation = circulation

    def is_staff_card(self, card_key: str) -> bool:
        return self.circulation.if_reachable(lambda: self.staff.is_staff_card(card_key), False)

    def login(self, pin: str, card_key: str | None) -> str:
        name: str | None = self.circulation.if_reachable(lambda: self.staff.login(pin, card_key), None)
        if name is None:
            raise Refusal("staff.unavailable")
        return name
