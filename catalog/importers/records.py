"""What every file parser produces: catalog records, or per-record errors that name the file and line.

A parser never raises for one bad row or record: it yields a `RecordError` and goes on, so one bad line in a
city-library export cannot cost a librarian the other 99,999. Only a file that cannot be read at all (unknown
format, not a spreadsheet, undecodable) raises `UnreadableFile`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog import clc
from catalog import isbn as isbn_rules


class CatalogImportError(Exception):
    """Base of the import errors."""


class UnreadableFile(CatalogImportError):
    """The whole file cannot be read (format, encoding, a damaged spreadsheet)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason

    def __reduce__(self) -> tuple[type[UnreadableFile], tuple[str, str]]:
        # Raised in the reading process of `catalog.importers.ahead` and re-raised in the importing one.
        return type(self), (self.source, self.reason)


class MappingError(CatalogImportError):
    """A mapping file that names unknown fields or is not valid TOML/JSON."""


@dataclass(frozen=True)
class RecordError:
    source: str
    line: int
    """Line of a CSV/TSV, row of a spreadsheet, or 1-based record number of a MARC file."""
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class Holding:
    barcode: str
    shelf_location: str = ""
    call_number: str = ""


@dataclass(frozen=True)
class TitleRecord:
    source: str
    line: int
    title: str
    isbn13: str | None = None
    authors: str = ""
    publisher: str = ""
    pub_year: int | None = None
    clc_class: str = ""
    category: str = ""
    """Only when the file names one: a class-derived category must not overwrite a librarian's choice."""
    call_number: str = ""
    summary: str = ""
    language: str = ""
    holdings: tuple[Holding, ...] = field(default=())


def _year(raw: str) -> int | None:
    digits = "".join(c if c.isdigit() else " " for c in raw).split()
    for chunk in digits:
        if len(chunk) >= 4 and 1000 <= int(chunk[:4]) <= 2100:
            return int(chunk[:4])
    return None


def build_record(source: str, line: int, values: dict[str, str],
                 holdings: list[Holding] | None = None) -> TitleRecord | RecordError:
    """Check and normalise one record's fields; the reason names the field a librarian must fix."""
    def value(key: str, limit: int) -> str:
        text = " ".join((values.get(key) or "").split())
        return text[:limit]

    title = value("title", 500)
    if not title:
        return RecordError(source, line, "no title (题名)")
    raw_isbn = value("isbn", 64)
    isbn13: str | None = None
    if raw_isbn:
        # Exports often carry a price or binding after the ISBN: "978-7-02-000220-7 : CNY39.00".
        candidate = raw_isbn.replace("：", ":").split(":")[0].split("(")[0].split("（")[0].strip()
        try:
            isbn13 = isbn_rules.to_isbn13(candidate)
        except isbn_rules.InvalidIsbn as exc:
            return RecordError(source, line, f"invalid ISBN {raw_isbn!r}: {str(exc).split(': ', 1)[-1]}")
    raw_year = value("pub_year", 32)
    year = _year(raw_year) if raw_year else None
    if raw_year and year is None:
        return RecordError(source, line, f"publication year {raw_year!r} has no year in it")
    clc_class = value("clc_class", 64)
    if clc_class:
        try:
            clc_class = clc.normalise_class(clc_class)
        except clc.InvalidClcClass:
            return RecordError(source, line, f"CLC class {clc_class!r} does not start with a CLC letter")
    raw_category = value("category", 32)
    category = ""
    if raw_category:
        try:
            category = clc.category_code(raw_category)
        except KeyError:
            return RecordError(source, line, f"unknown category {raw_category!r} "
                               f"(one of {', '.join(c.name for c in clc.CATEGORIES)})")
    call_number = value("call_number", 64)
    if holdings is None:
        holdings = []
        barcode = value("barcode", 64)
        if barcode:
            holdings.append(Holding(barcode, value("shelf_location", 100), call_number))
        elif value("shelf_location", 100):
            return RecordError(source, line, "a shelf location (馆藏地) without a barcode (条码号)")
    for holding in holdings:
        if not holding.barcode.isprintable() or " " in holding.barcode.strip():
            return RecordError(source, line, f"barcode {holding.barcode!r} contains spaces or control characters")
    barcodes = [h.barcode for h in holdings]
    if len(set(barcodes)) != len(barcodes):
        return RecordError(source, line, "the same barcode twice in one record")
    return TitleRecord(
        source, line, title, isbn13, value("authors", 500), value("publisher", 300), year, clc_class,
        category,
        call_number or next((h.call_number for h in holdings if h.call_number), ""),
        value("summary", 4000), value("language", 16), tuple(holdings),
    )
