"""Catalog import: CSV/TSV/XLSX exports and MARC21/CNMARC/MARCXML files → idempotent upserts.

`read_file` turns one file into records and per-record errors (format chosen by extension, else by content);
`CatalogWriter` writes them. A mapping file (TOML or JSON) may hold a `[headers]` table (export header → field)
and `[marc21]` / `[unimarc]` tables that override the MARC field map; bare top-level `header = field` pairs are
read as headers too.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.importers import marc, tabular
from catalog.importers.ahead import read_file_ahead
from catalog.importers.prepared import PreparedRecord
from catalog.importers.records import (
    CatalogImportError,
    Holding,
    MappingError,
    RecordError,
    TitleRecord,
    UnreadableFile,
    build_record,
)
from catalog.importers.writer import CatalogWriter, ImportSummary, UnknownBranch

__all__ = [
    "CatalogImportError",
    "CatalogWriter",
    "Holding",
    "ImportMapping",
    "ImportSummary",
    "MappingError",
    "PreparedRecord",
    "RecordError",
    "TitleRecord",
    "UnknownBranch",
    "UnreadableFile",
    "build_record",
    "load_mapping",
    "read_bytes",
    "read_file",
    "read_file_ahead",
]

MAX_FILE_BYTES = 1 << 30


@dataclass(frozen=True)
class ImportMapping:
    headers: dict[str, str] = field(default_factory=dict)
    marc21: marc.FieldMap | None = None
    unimarc: marc.FieldMap | None = None


def load_mapping(path: Path) -> ImportMapping:
    try:
        text = path.read_text(encoding="utf-8")
        data: Any = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"{path}: cannot read the mapping ({exc})") from None
    if not isinstance(data, dict):
        raise MappingError(f"{path}: a mapping is a table")
    headers_table = dict(data.get("headers", {}))
    headers_table.update({k: v for k, v in data.items() if not isinstance(v, dict)})
    headers: dict[str, str] = {}
    for header, name in headers_table.items():
        if not isinstance(name, str) or name not in tabular.FIELDS:
            raise MappingError(f"{path}: header {header!r} maps to {name!r}, not one of {', '.join(tabular.FIELDS)}")
        headers[str(header)] = name
    maps: dict[str, marc.FieldMap | None] = {"marc21": None, "unimarc": None}
    for name, base in (("marc21", marc.MARC21_MAP), ("unimarc", marc.UNIMARC_MAP)):
        if name in data:
            try:
                maps[name] = marc.field_map_from(data[name], base)
            except (TypeError, ValueError) as exc:
                raise MappingError(f"{path}: [{name}] {exc}") from None
    return ImportMapping(headers, maps["marc21"], maps["unimarc"])


def _kind(path: Path, data: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".tsv", ".tab"):
        return "tsv"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".mrc", ".marc", ".iso", ".iso2709", ".dat", ".xml", ".marcxml"):
        return "marc"
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data[:5].isdigit() and b"\x1d" in data[:200_000]:
        return "marc"
    if data.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<"):
        return "marc"
    return "csv"


def read_bytes(data: bytes, source: str, kind: str, mapping: ImportMapping | None = None,
               ) -> Iterator[TitleRecord | RecordError]:
    """Records of one file's bytes; `kind` is csv, tsv, xlsx or marc. Raises only `CatalogImportError`s."""
    mapping = mapping or ImportMapping()
    if kind == "csv":
        return tabular.read_delimited(data, source, mapping=mapping.headers)
    if kind == "tsv":
        return tabular.read_delimited(data, source, delimiter="\t", mapping=mapping.headers)
    if kind == "xlsx":
        return tabular.read_xlsx(data, source, mapping=mapping.headers)
    if kind == "marc":
        return _marc(data, source, mapping)
    raise UnreadableFile(source, f"unknown file kind {kind!r}")


def _marc(data: bytes, source: str, mapping: ImportMapping) -> Iterator[TitleRecord | RecordError]:
    for number, record in (marc.read_marcxml(data, source) if data.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<")
                           else marc.read_iso2709(data)):
        if isinstance(record, str):
            yield RecordError(source, number, f"damaged MARC record: {record}")
            continue
        field_map = mapping.unimarc if marc.is_unimarc(record) else mapping.marc21
        yield marc.to_title_record(source, number, record, field_map)


def read_file(path: Path, mapping: ImportMapping | None = None) -> Iterator[TitleRecord | RecordError]:
    source = path.name
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UnreadableFile(source, "larger than 1 GiB: split the file")
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(source, f"cannot read ({exc.strerror or exc})") from None
    return read_bytes(data, source, _kind(path, data), mapping)
