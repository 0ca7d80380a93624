"""Catalog export: CSV (UTF-8 with BOM, or GB18030 for older Excel), XLSX and MARC21 (UTF-8, ISO 2709).

One row per copy (titles without copies get one row without a barcode), under the Chinese headers that the
importer maps back, so an export re-imported into another kiosk's database reproduces the catalog. MARC21 puts the
CLC class in 093 and each copy in an 852 (p barcode, c location, h call number), the fields the importer reads.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.model import Item, ItemStatus, Title

HEADERS = ("题名", "责任者", "ISBN", "出版社", "出版年", "中图分类号", "类别", "索书号", "条码号", "馆藏地", "状态",
           "摘要")
FORMATS = ("csv", "xlsx", "marc")
ENCODINGS = ("utf-8", "gb18030")
_BATCH = 2000
Progress = Callable[[int], None]


class ExportError(Exception):
    """An export that cannot be written (unknown format or encoding)."""


def _rows(session: Session, include_gone: bool) -> Iterator[tuple[Title, list[Item]]]:
    """Titles with their copies, in id order, a batch at a time so that 100,000 titles do not sit in memory."""
    last = 0
    while True:
        titles = session.scalars(select(Title).where(Title.id > last).order_by(Title.id).limit(_BATCH)).all()
        if not titles:
            return
        ids = [t.id for t in titles]
        query = select(Item).where(Item.title_id.in_(ids)).order_by(Item.id)
        if not include_gone:
            query = query.where(Item.status != ItemStatus.WITHDRAWN.value)
        copies: dict[int, list[Item]] = {}
        for item in session.scalars(query):
            copies.setdefault(item.title_id, []).append(item)
        for title in titles:
            yield title, copies.get(title.id, [])
        last = ids[-1]
        session.expunge_all()


def _table(session: Session, include_gone: bool) -> Iterator[tuple[Any, ...]]:
    from catalog.clc import category_name

    for title, items in _rows(session, include_gone):
        base = (title.title, title.authors, title.isbn13 or "", title.publisher, title.pub_year or "",
                title.clc_class, category_name(title.category), title.call_number)
        if not items:
            yield (*base, "", "", "", title.summary)
        for item in items:
            yield (*base, item.barcode, item.shelf_location, item.status, title.summary)


def export_csv(session: Session, path: Path, *, encoding: str = "utf-8", delimiter: str = ",",
               include_gone: bool = False, progress: Progress | None = None) -> int:
    if encoding not in ENCODINGS:
        raise ExportError(f"encoding {encoding!r}: use one of {', '.join(ENCODINGS)}")
    count = 0
    # utf-8-sig: Excel opens a UTF-8 CSV correctly only with the BOM.
    with path.open("w", encoding="utf-8-sig" if encoding == "utf-8" else "gb18030", newline="") as out:
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow(HEADERS)
        for row in _table(session, include_gone):
            writer.writerow(row)
            count += 1
            if progress is not None and count % 1000 == 0:
                progress(count)
    return count


def export_xlsx(session: Session, path: Path, *, include_gone: bool = False,
                progress: Progress | None = None) -> int:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("馆藏")
    sheet.append(list(HEADERS))
    count = 0
    for row in _table(session, include_gone):
        sheet.append(list(row))
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
    workbook.save(path)
    return count


def marc21_record(title: Title, items: list[Item]) -> Any:
    from pymarc import Field, Indicators, Record, Subfield

    record = Record(force_utf8=True)
    if title.isbn13:
        record.add_field(Field("020", Indicators(" ", " "), [Subfield("a", title.isbn13)]))
    # ISBD punctuation as MARC21 expects it ("题名 /" $c "责任者."): the importer drops exactly this one mark, so
    # a title that itself ends in ":" or "." survives the round trip.
    subfields = [Subfield("a", f"{title.title} /" if title.authors else f"{title.title}.")]
    if title.authors:
        subfields.append(Subfield("c", f"{title.authors}."))
    record.add_field(Field("245", Indicators("0", "0"), subfields))
    parts = [(code, value) for code, value in (("b", title.publisher), ("c", str(title.pub_year or ""))) if value]
    publication = [Subfield(code, value + ("." if i == len(parts) - 1 else ","))
                   for i, (code, value) in enumerate(parts)]
    if publication:
        record.add_field(Field("264", Indicators(" ", "1"), publication))
    if title.clc_class:
        record.add_field(Field("093", Indicators(" ", " "), [Subfield("a", title.clc_class)]))
    if title.summary:
        record.add_field(Field("520", Indicators(" ", " "), [Subfield("a", title.summary)]))
    for item in items:
        holding = [Subfield("p", item.barcode)]
        if item.shelf_location:
            holding.append(Subfield("c", item.shelf_location))
        if title.call_number:
            holding.append(Subfield("h", title.call_number))
        record.add_field(Field("852", Indicators(" ", " "), holding))
    return record


def export_marc21(session: Session, path: Path, *, include_gone: bool = False,
                  progress: Progress | None = None) -> int:
    count = 0
    with path.open("wb") as out:
        for title, items in _rows(session, include_gone):
            out.write(marc21_record(title, items).as_marc())
            count += 1
            if progress is not None and count % 1000 == 0:
                progress(count)
    return count


def export(session: Session, path: Path, fmt: str, *, encoding: str = "utf-8", include_gone: bool = False,
           progress: Progress | None = None) -> int:
    """Write the catalog; returns the number of rows (CSV/XLSX) or records (MARC) written."""
    if fmt == "csv":
        return export_csv(session, path, encoding=encoding, include_gone=include_gone, progress=progress)
    if fmt == "xlsx":
        return export_xlsx(session, path, include_gone=include_gone, progress=progress)
    if fmt == "marc":
        return export_marc21(session, path, include_gone=include_gone, progress=progress)
    raise ExportError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")


def marc_bytes(title: Title, items: list[Item]) -> bytes:
    """One record's ISO 2709 bytes (tests and single-title exports)."""
    return bytes(marc21_record(title, items).as_marc())


__all__ = ["ENCODINGS", "FORMATS", "HEADERS", "ExportError", "export", "export_csv", "export_marc21",
           "export_xlsx", "marc_bytes"]
