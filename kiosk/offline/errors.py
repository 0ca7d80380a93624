"""Refusals only an offline kiosk gives (message keys in core.po)."""

from __future__ import annotations

from kiosk.lending.errors import Refusal, RenewalRefused


class OfflineLimitReached(Refusal):
    """The per-patron offline loan limit (`[offline] max_loans`): the database cannot confirm more until it is back."""

    key = "refusal.offline_limit"


def offline_renewal_refused(title: str) -> RenewalRefused:
    """A loan made offline gets its loan number only at replay, so it cannot be renewed before."""
    return RenewalRefused(title=title, reason="offline")
