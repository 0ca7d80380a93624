"""The data model (SQLAlchemy 2 typed mappings).

Privacy shapes it: patrons are known by a keyed hash of their card (`card_key`) and a masked display name; the audit
log names them by surrogate id only, so `patrons forget` erases the key and the masks and the log no longer leads to a
person. Timestamps are stored in UTC (see `UtcDateTime`) and shown in the branch's time zone.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite has no time zones: store naive UTC, hand back aware UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the kiosk stores only aware UTC timestamps")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class ItemStatus(StrEnum):
    AVAILABLE = "available"
    ON_LOAN = "on_loan"
    REFERENCE_ONLY = "reference_only"
    LOST = "lost"
    WITHDRAWN = "withdrawn"
    IN_TRANSIT = "in_transit"
    IN_REPAIR = "in_repair"


class PatronStatus(StrEnum):
    ACTIVE = "active"
    PENDING_APPROVAL = "pending_approval"
    BARRED = "barred"
    CARD_LOST = "card_lost"
    FORGOTTEN = "forgotten"


class Branch(Base):
    __tablename__ = "branches"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(400), default="")
    address_en: Mapped[str] = mapped_column(String(400), default="")
    phone: Mapped[str] = mapped_column(String(64), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    capacity: Mapped[int | None] = mapped_column(Integer)
    hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Weekly opening hours: {"mon": [["08:30", "21:00"]], …, "note": "…"}; a 24-hour room has ["00:00", "24:00"]."""
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Rooms, services, contact, map image, nearby centers: edited by librarians, shown on "About this center"."""
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Lending-rule overrides for this branch (see kiosk.circulation.policy)."""


class Title(Base):
    __tablename__ = "titles"

    id: Mapped[int] = mapped_column(primary_key=True)
    isbn13: Mapped[str | None] = mapped_column(String(13), index=True)
    title: Mapped[str] = mapped_column(String(500))
    authors: Mapped[str] = mapped_column(String(500), default="")
    publisher: Mapped[str] = mapped_column(String(300), default="")
    pub_year: Mapped[int | None] = mapped_column(Integer)
    clc_class: Mapped[str] = mapped_column(String(64), default="")
    category: Mapped[str] = mapped_column(String(32), default="", index=True)
    call_number: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(16), default="chi")
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    """English summary for visitors reading in English; empty means show the Chinese one."""
    title_pinyin: Mapped[str] = mapped_column(String(1000), default="")
    title_initials: Mapped[str] = mapped_column(String(500), default="", index=True)
    author_pinyin: Mapped[str] = mapped_column(String(1000), default="")
    author_initials: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    items: Mapped[list[Item]] = relationship(back_populates="title")


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    barcode: Mapped[str] = mapped_column(String(64), unique=True)
    title_id: Mapped[int] = mapped_column(ForeignKey("titles.id"), index=True)
    home_branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    current_branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    shelf_location: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(20), default=ItemStatus.AVAILABLE, index=True)
    reserved: Mapped[bool] = mapped_column(Boolean, default=False)
    """A hold placed on this copy: renewals are refused while it is set."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    title: Mapped[Title] = relationship(back_populates="items")


class Patron(Base):
    __tablename__ = "patrons"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_kind: Mapped[str] = mapped_column(String(20))
    card_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    """HMAC-SHA256 of the normalised card number with the network secret; NULL once forgotten."""
    masked_card: Mapped[str] = mapped_column(String(32), default="")
    display_name: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(20), default=PatronStatus.ACTIVE, index=True)
    card_valid_until: Mapped[date | None] = mapped_column(Date)
    max_loans: Mapped[int | None] = mapped_column(Integer)
    home_branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    consent_at: Mapped[datetime | None] = mapped_column()
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column()
    forgotten_at: Mapped[datetime | None] = mapped_column()
    note: Mapped[str] = mapped_column(String(400), default="")


class Loan(Base):
    __tablename__ = "loans"
    __table_args__ = (
        # At most one open loan per item, enforced by the database itself on both backends.
        Index(
            "uq_loans_open_item",
            "item_id",
            unique=True,
            sqlite_where=text("returned_at IS NULL"),
            postgresql_where=text("returned_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    """Client-generated, so an offline journal can replay a loan idempotently."""
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id"), index=True)
    """NULL once the loan history is anonymised or the patron forgotten."""
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    kiosk_id: Mapped[str] = mapped_column(String(64))
    out_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime] = mapped_column(index=True)
    returned_at: Mapped[datetime | None] = mapped_column(index=True)
    return_branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    return_kiosk_id: Mapped[str | None] = mapped_column(String(64))
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    fine_cents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Set on return when the branch charges for late returns (most Chinese public libraries do not)."""
    fine_settled_at: Mapped[datetime | None] = mapped_column()

    item: Mapped[Item] = relationship()


class AuditEntry(Base):
    """Append-only record of every action: who (patron surrogate id), what, where, which kiosk, outcome."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    action: Mapped[str] = mapped_column(String(40), index=True)
    outcome: Mapped[str] = mapped_column(String(60))
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Rating(Base):
    """Satisfaction at the end of a session; deliberately not linked to the patron."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    kiosk_id: Mapped[str] = mapped_column(String(64))
    score: Mapped[str] = mapped_column(String(10))
    """good / neutral / bad (好评 / 一般 / 差评)."""
    tags: Mapped[list[Any]] = mapped_column(default=list)


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    card_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    """argon2 hash of the PIN or password."""
    role: Mapped[str] = mapped_column(String(20), default="librarian")
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Announcement(Base):
    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    text: Mapped[str] = mapped_column(String(500))
    text_en: Mapped[str] = mapped_column(String(500), default="")
    starts_at: Mapped[datetime | None] = mapped_column()
    ends_at: Mapped[datetime | None] = mapped_column()


class BranchEvent(Base):
    """A lecture (国学讲堂), reading club (读书会) or other activity of the center."""

    __tablename__ = "branch_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    room: Mapped[str] = mapped_column(String(100), default="")
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime] = mapped_column()
    description: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    attendance: Mapped[int | None] = mapped_column(Integer)


class AudioBook(Base):
    __tablename__ = "audio_books"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    title: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300), default="", server_default="")
    """The title in English (empty: the Chinese title is shown in English too)."""
    author: Mapped[str] = mapped_column(String(200), default="")
    narrator: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(32), default="")
    url: Mapped[str] = mapped_column(String(1000))
    duration_min: Mapped[int | None] = mapped_column(Integer)
