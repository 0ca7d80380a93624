"""Refusals a resident can meet at the kiosk. Each has a message key (`refusal.*` in core.po) and what to do next."""

from __future__ import annotations

from kiosk.errors import KioskError


class Refusal(KioskError):
    """Something the rules say no to; nothing was changed."""

    key = "refusal.generic"


class ItemNotFound(Refusal):
    key = "refusal.unknown_barcode"


class IsbnNotItem(Refusal):
    """A 978/979 EAN-13 identifies a title, not the copy in the resident's hands."""

    key = "refusal.isbn_not_item"


class ItemNotLoanable(Refusal):
    """Reference only, lost, withdrawn, in repair, in transit: `params["status"]` says which."""

    key = "refusal.not_loanable"


class ItemOnLoanElsewhere(Refusal):
    key = "refusal.on_loan_elsewhere"


class AlreadyOnYourCard(Refusal):
    key = "refusal.already_yours"


class LoanLimitReached(Refusal):
    key = "refusal.limit_reached"


class PatronBlocked(Refusal):
    """`params["reason"]`: barred, card_lost, card_expired, pending_approval, overdue, forgotten."""

    key = "refusal.patron_blocked"


class UnknownCard(Refusal):
    key = "refusal.unknown_card"


class NotOnLoan(Refusal):
    key = "refusal.not_on_loan"


class RenewalRefused(Refusal):
    """`params["reason"]`: reserved, max_renewals, too_overdue, blocked."""

    key = "refusal.renewal"
