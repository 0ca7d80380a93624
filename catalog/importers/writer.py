"""Writing imported records: idempotent upserts in chunks, one transaction per chunk, nothing half-written.

Identity: a title is the same title when its ISBN-13 matches; without an ISBN, when one of its copies' barcodes
matches, or else when title and authors match exactly. Rows of one title (exports often list one row per copy) add
copies to it. A record either fully applies (title fields + its copies + its index tokens) or is rejected with its
reason: everything is decided in Python against what the chunk's three look-up queries returned, then written with
bulk statements; if the database still refuses the chunk (another writer got there first), the chunk is replayed
one record per transaction so that only the offending record is rejected.

Fields are only ever filled or changed, never blanked: an export without a summary column does not erase the
summaries librarians wrote.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog import clc
from catalog.db import BATCH_STATEMENT_TIMEOUT_S, Database
from catalog.importers.prepared import PreparedRecord
from catalog.importers.records import RecordError, TitleRecord
from catalog.model import Branch, Item, ItemStatus, Title
from catalog.search.index import index_titles, insert_title_tokens, pinyin_columns

CHUNK = 5000
SQLITE_CACHE_KIB = 262144
"""Page cache of the importing SQLite connection: the token index outgrows SQLite's 2 MiB default early in a
100,000-record import, after which every insert into it would read its b-tree pages back from the file."""
TITLE_FIELDS = ("title", "authors", "publisher", "pub_year", "clc_class", "category", "call_number", "summary",
                "language")


class UnknownBranch(LookupError):
    def __init__(self, code: str) -> None:
        super().__init__(f"branch {code!r} does not exist (create it with `kiosk branch edit` or demo-data)")
        self.code = code


@dataclass
class ImportSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RecordError] = field(default_factory=list)
    copies_added: int = 0

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged + self.rejected


@dataclass
class _Plan:
    new_titles: list[tuple[PreparedRecord, dict[str, Any]]] = field(default_factory=list)
    title_updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    new_items: list[tuple[Any, TitleRecord, dict[str, Any]]] = field(default_factory=list)
    """(title id, or the new-title record it belongs to, record, item row)."""
    item_updates: list[dict[str, Any]] = field(default_factory=list)


def _key(record: TitleRecord) -> tuple[str, ...]:
    return ("isbn", record.isbn13) if record.isbn13 else ("ta", record.title, record.authors)


class _Copy(NamedTuple):
    id: int
    barcode: str
    title_id: int
    shelf_location: str


class CatalogWriter:
    def __init__(self, db: Database, branch_code: str, *, dry_run: bool = False) -> None:
        self.db = db
        self.dry_run = dry_run
        with db.read() as session:
            branch_id = session.scalar(select(Branch.id).where(Branch.code == branch_code))
        if branch_id is None:
            raise UnknownBranch(branch_code)
        self.branch_id: int = branch_id
        self._planned: dict[tuple[str, ...], int] = {}
        """Keys of titles created by this import (dry run: never written, so remembered here)."""
        self._planned_barcodes: dict[str, tuple[str, ...]] = {}

    def stored_isbns(self) -> set[str]:
        """ISBNs of the titles in the catalog (for `read_file_ahead`, which need not prepare their records)."""
        with self.db.read() as session:
            return set(session.scalars(select(Title.isbn13).where(Title.isbn13.is_not(None))))

    def write(self, records: Iterable[TitleRecord | PreparedRecord | RecordError],
              progress: Callable[[ImportSummary], None] | None = None) -> ImportSummary:
        """Records as a parser yields them, or prepared ahead (`catalog.importers.ahead.read_file_ahead`)."""
        summary = ImportSummary()
        chunk: list[PreparedRecord] = []
        for record in records:
            if isinstance(record, RecordError):
                summary.rejected += 1
                summary.errors.append(record)
                continue
            chunk.append(record if isinstance(record, PreparedRecord) else PreparedRecord(record))
            if len(chunk) >= CHUNK:
                self._write_chunk(chunk, summary)
                chunk = []
                if progress is not None:
                    progress(summary)
        if chunk:
            self._write_chunk(chunk, summary)
        if progress is not None:
            progress(summary)
        return summary

    def _write_chunk(self, chunk: list[PreparedRecord], summary: ImportSummary) -> None:
        # A chunk allocates ~100,000 small tuples (tokens, rows) that live until it is written; the cyclic
        # collector would walk the whole heap again and again for none of them (measured: a fifth of the time).
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._write_chunk_once(chunk, summary)
        finally:
            if collecting:
                gc.enable()

    def _write_chunk_once(self, chunk: list[PreparedRecord], summary: ImportSummary) -> None:
        try:
            with self.db.unit_of_work(statement_timeout_s=BATCH_STATEMENT_TIMEOUT_S) as session:
                outcomes, copies = self._apply(session, chunk)
                if self.dry_run:
                    session.rollback()
        except IntegrityError:
            if len(chunk) == 1:
                summary.rejected += 1
                summary.errors.append(RecordError(chunk[0].record.source, chunk[0].record.line,
                                                  "conflicts with a record written meanwhile (duplicate barcode?)"))
                return
            for record in chunk:
                self._write_chunk_once([record], summary)
            return
        summary.copies_added += copies
        for outcome in outcomes:
            if isinstance(outcome, RecordError):
                summary.rejected += 1
                summary.errors.append(outcome)
            else:
                setattr(summary, outcome, getattr(summary, outcome) + 1)

    def _apply(self, session: Session, chunk: list[PreparedRecord]) -> tuple[list[str | RecordError], int]:
        if self.db.engine.dialect.name == "sqlite":
            session.connection().exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        records = [p.record for p in chunk]
        isbns = {r.isbn13 for r in records if r.isbn13}
        barcodes = {h.barcode for r in records for h in r.holdings}
        names = {r.title for r in records if not r.isbn13}
        columns = (Title.id, Title.isbn13, *(getattr(Title, f) for f in TITLE_FIELDS))
        by_key: dict[tuple[str, ...], dict[str, Any]] = {}
        for row in session.execute(select(*columns).where(Title.isbn13.in_(isbns))).mappings():
            by_key[("isbn", row["isbn13"])] = dict(row)
        if names:
            for row in session.execute(select(*columns).where(Title.isbn13.is_(None),
                                                              Title.title.in_(names))).mappings():
                by_key.setdefault(("ta", row["title"], row["authors"]), dict(row))
        items = {row.barcode: _Copy(*row) for row in session.execute(
            select(Item.id, Item.barcode, Item.title_id, Item.shelf_location).where(Item.barcode.in_(barcodes)))}
        by_id = {row["id"]: row for row in by_key.values()}
        missing = {i.title_id for i in items.values()} - set(by_id)
        if missing:
            for row in session.execute(select(*columns).where(Title.id.in_(missing))).mappings():
                by_id[row["id"]] = dict(row)

        plan = _Plan()
        outcomes: list[str | RecordError] = []
        new_by_key: dict[tuple[str, ...], TitleRecord] = {}
        for prepared in chunk:
            outcomes.append(self._decide(prepared, by_key, by_id, items, new_by_key, plan))
        self._execute(session, plan)
        return outcomes, len(plan.new_items)

    def _decide(self, prepared: PreparedRecord, by_key: dict[tuple[str, ...], dict[str, Any]],
                by_id: dict[int, dict[str, Any]], items: dict[str, _Copy],
                new_by_key: dict[tuple[str, ...], TitleRecord], plan: _Plan) -> str | RecordError:
        record = prepared.record
        key = _key(record)
        existing = by_key.get(key)
        if existing is None and not record.isbn13:
            owner = next((items[h.barcode].title_id for h in record.holdings if h.barcode in items), None)
            if owner is not None and by_id.get(owner, {}).get("isbn13") is None:
                existing = by_id.get(owner)
        target: Any = existing["id"] if existing else new_by_key.get(key) or self._planned.get(key)
        for holding in record.holdings:
            item = items.get(holding.barcode)
            if item is not None and item.title_id != target:
                other = by_id.get(item.title_id, {}).get("title", "?")
                return RecordError(record.source, record.line,
                                   f"barcode {holding.barcode} already belongs to another title «{other}»")
            planned_owner = self._planned_barcodes.get(holding.barcode)
            if item is None and planned_owner is not None and planned_owner != key:
                return RecordError(record.source, record.line,
                                   f"barcode {holding.barcode} is given to two different titles in this import")
        outcome = "unchanged"
        if target is None:
            row = {f: getattr(record, f) for f in TITLE_FIELDS}
            row.update(isbn13=record.isbn13,
                       category=record.category or (clc.category_for(record.clc_class) if record.clc_class
                                                    else "culture_art"),
                       language=record.language or "chi", **prepared.pinyin_columns())
            plan.new_titles.append((prepared, row))
            new_by_key[key] = record
            target = record
            outcome = "added"
        elif existing is not None:
            changes = {f: getattr(record, f) for f in TITLE_FIELDS
                       if getattr(record, f) not in (None, "") and getattr(record, f) != existing[f]}
            if changes:
                existing.update(changes)
                plan.title_updates.setdefault(existing["id"], {}).update(changes)
                outcome = "updated"
        for holding in record.holdings:
            item = items.get(holding.barcode)
            if item is None:
                if holding.barcode in self._planned_barcodes:
                    continue
                self._planned_barcodes[holding.barcode] = key
                plan.new_items.append((target, record, {
                    "barcode": holding.barcode, "shelf_location": holding.shelf_location,
                    "home_branch_id": self.branch_id, "current_branch_id": self.branch_id,
                    "status": ItemStatus.AVAILABLE.value}))
                outcome = outcome if outcome == "added" else "updated"
            elif holding.shelf_location and holding.shelf_location != item.shelf_location:
                plan.item_updates.append({"item_id": item.id, "shelf": holding.shelf_location})
                items[holding.barcode] = item._replace(shelf_location=holding.shelf_location)
                outcome = outcome if outcome == "added" else "updated"
        return outcome

    def _execute(self, session: Session, plan: _Plan) -> None:
        connection = session.connection()
        new_ids: dict[int, int] = {}
        if plan.new_titles:
            rows = [row for _, row in plan.new_titles]
            if self.dry_run:
                ids = [-(i + 1) for i in range(len(rows))]
            else:
                ids = list(connection.scalars(insert(Title).returning(Title.id, sort_by_parameter_order=True),
                                              rows))
            for title_id, (prepared, _row) in zip(ids, plan.new_titles, strict=True):
                new_ids[id(prepared.record)] = title_id
                self._planned[_key(prepared.record)] = title_id
            if not self.dry_run:
                # In key order (`insert_title_tokens`): each b-tree page of the token index is then filled once
                # per chunk, not once per title (tokens of one title are spread over the whole index).
                insert_title_tokens(connection, [(title_id, prepared.index_tokens())
                                                 for title_id, (prepared, _row) in zip(ids, plan.new_titles,
                                                                                       strict=True)])
        if self.dry_run:
            return
        for title_id, changes in plan.title_updates.items():
            if {"title", "authors"} & changes.keys():
                stored = connection.execute(select(Title.title, Title.authors).where(Title.id == title_id)).one()
                changes = {**changes, **pinyin_columns(changes.get("title", stored.title),
                                                       changes.get("authors", stored.authors))}
            connection.execute(update(Title).where(Title.id == title_id).values(**changes))
        if plan.title_updates:
            index_titles(session, list(plan.title_updates))
        if plan.new_items:
            rows = []
            for target, _record, row in plan.new_items:
                title_id = target if isinstance(target, int) else new_ids[id(target)]
                rows.append({**row, "title_id": title_id})
            connection.execute(insert(Item), rows)
        if plan.item_updates:
            items = Item.__table__
            connection.execute(
                update(items).where(items.c.id == bindparam("item_id"))  # type: ignore[arg-type]
                .values(shelf_location=bindparam("shelf")), plan.item_updates)
