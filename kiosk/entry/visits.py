"""Card entries as a count next to the door counter's visits, never added to them (see docs/ENTRY.md).

Everyone who enters on a card also walks through the door counter's beam, so the counter's visits already include
them; adding card entries would count each night visitor twice. Card entries are therefore a separate figure
("of which on a card at night"), and the visit rate of a branch with no door counter at all can use them instead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from catalog.db import Database
from catalog.model import AuditEntry, Branch

ENTRY_ACTION = "entry"
COUNTED_OUTCOMES = ("ok",)
"""Allowed night entries (registered patrons, and first entries that registered). Entries let in from the cache
during a database outage are not in the audit log and not counted; day-mode card swipes are `day_open`."""


def card_entries(db: Database, *, start: datetime, end: datetime, branch: str | None = None) -> int:
    """Allowed card entries in [start, end) (aware datetimes), for one branch code or the whole network."""
    query = select(func.count(AuditEntry.id)).where(
        AuditEntry.action == ENTRY_ACTION, AuditEntry.outcome.in_(COUNTED_OUTCOMES),
        AuditEntry.at >= start, AuditEntry.at < end)
    if branch is not None:
        query = query.join(Branch, Branch.id == AuditEntry.branch_id).where(Branch.code == branch)
    with db.read() as session:
        return int(session.scalar(query) or 0)
