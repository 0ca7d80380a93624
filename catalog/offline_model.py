"""Central tables of the offline journal: which kiosk actions were replayed, and the conflicts left for librarians.

`offline_actions` is the idempotence ledger: a replayed action inserts its client-generated UUID here in the same
transaction as the loan or return it applies, so a kiosk killed between "applied centrally" and "marked applied in
its own journal" finds the UUID on its next replay and applies nothing twice. `circulation_exceptions` holds what
could not be applied as journaled (the copy was lent elsewhere meanwhile, it was already returned): a librarian
decides, the replay never overwrites.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from catalog.model import Base, utcnow


class OfflineAction(Base):
    __tablename__ = "offline_actions"

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(20))
    """checkout, checkin or renew."""
    outcome: Mapped[str] = mapped_column(String(20))
    """applied or exception."""
    at: Mapped[datetime] = mapped_column()
    """When the resident did it at the kiosk (kiosk clock, UTC)."""
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CirculationException(Base):
    """A journaled action the database could not take as it was: for a librarian to settle, never overwritten."""

    __tablename__ = "circulation_exceptions"
    __table_args__ = (Index("ix_circulation_exceptions_open", "resolved_at", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(20))
    barcode: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(60))
    """A message key: exception.on_loan_elsewhere, exception.already_returned, …"""
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolution: Mapped[str] = mapped_column(String(400), default="")
