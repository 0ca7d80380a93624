"""Circulation exceptions: journaled actions the database could not take as they happened, for librarians.

A replay never decides who really has a book when the database disagrees with the kiosk; it records the conflict
and a librarian settles it at the shelf (`kiosk exceptions list`, then `kiosk exceptions resolve ID`). Resolving
writes who did it and what they decided, and an audit entry, but changes no loan: the fix itself is an ordinary
desk action (a return, a status change), so every change of a loan still has exactly one audited cause.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from catalog.db import Database
from catalog.model import AuditEntry
from catalog.offline_model import CirculationException
from kiosk.errors import KioskError


class ExceptionNotFound(KioskError):
    key = "exception.not_found"


class ExceptionAlreadyResolved(KioskError):
    key = "exception.already_resolved"


@dataclass(frozen=True)
class ExceptionRecord:
    id: int
    uuid: str
    kiosk_id: str
    action: str
    barcode: str
    reason: str
    detail: dict[str, Any]
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str

    @classmethod
    def of(cls, row: CirculationException) -> ExceptionRecord:
        return cls(row.id, row.uuid, row.kiosk_id, row.action, row.barcode, row.reason, dict(row.detail or {}),
                   row.created_at, row.resolved_at, row.resolved_by, row.resolution)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "uuid": self.uuid, "kiosk_id": self.kiosk_id, "action": self.action,
                "barcode": self.barcode, "reason": self.reason, "detail": self.detail,
                "created_at": self.created_at.isoformat(),
                "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
                "resolved_by": self.resolved_by, "resolution": self.resolution}


def list_exceptions(db: Database, *, include_resolved: bool = False) -> list[ExceptionRecord]:
    with db.read() as s:
        query = select(CirculationException).order_by(CirculationException.created_at, CirculationException.id)
        if not include_resolved:
            query = query.where(CirculationException.resolved_at.is_(None))
        return [ExceptionRecord.of(row) for row in s.scalars(query)]


def open_exception_count(db: Database) -> int:
    return len(list_exceptions(db))


def resolve_exception(db: Database, exception_id: int, *, staff: str, note: str = "",
                      now: datetime | None = None) -> ExceptionRecord:
    if not staff.strip():
        raise ValueError("say who resolved it (--by)")
    at = now or datetime.now(UTC)
    with db.unit_of_work() as s:
        row = s.scalars(select(CirculationException).where(CirculationException.id == exception_id)
                        .with_for_update()).one_or_none()
        if row is None:
            raise ExceptionNotFound(id=exception_id)
        if row.resolved_at is not None:
            raise ExceptionAlreadyResolved(id=exception_id, by=row.resolved_by or "")
        row.resolved_at = at
        row.resolved_by = staff.strip()[:64]
        row.resolution = note.strip()[:400]
        s.add(AuditEntry(at=at, kiosk_id=row.kiosk_id, action="exception_resolve", outcome="ok",
                         detail={"exception_id": row.id, "uuid": row.uuid, "reason": row.reason,
                                 "staff": row.resolved_by}))
        s.flush()
        return ExceptionRecord.of(row)
