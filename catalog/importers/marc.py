"""MARC records: MARC21 and CNMARC/UNIMARC in ISO 2709, and MARCXML.

ISO 2709 is read by our own small parser rather than pymarc's reader: CNMARC files from Chinese union catalogs are
usually GB2312/GBK, which pymarc's MARC-8/UTF-8 decoding garbles, and a damaged record must cost only itself. Each
record is cut at its terminator (0x1D) instead of trusting its leader's length, decoded as UTF-8 or else GB18030,
and a record whose directory points outside it is reported and skipped. MARCXML goes through pymarc.

Which field means what differs between the two formats and between libraries, so the field map is data
(`MARC21_MAP`, `UNIMARC_MAP`), overridable per import: a field spec is "TTTs" (tag, subfield), several specs are
tried in order, and holdings specs name the repeated field whose subfields describe one copy.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from catalog.importers.records import Holding, RecordError, TitleRecord, UnreadableFile, build_record

RECORD_END = b"\x1d"
FIELD_END = b"\x1e"
SUBFIELD = b"\x1f"


@dataclass(frozen=True)
class HoldingsSpec:
    tag: str
    barcode: str
    location: str = ""
    call_class: str = ""
    call_item: str = ""


@dataclass(frozen=True)
class FieldMap:
    title: tuple[str, ...]
    subtitle: tuple[str, ...]
    isbn: tuple[str, ...]
    authors: tuple[str, ...]
    publisher: tuple[str, ...]
    pub_year: tuple[str, ...]
    clc_class: tuple[str, ...]
    summary: tuple[str, ...]
    call_number: tuple[str, ...]
    holdings: tuple[HoldingsSpec, ...] = field(default=())


MARC21_MAP = FieldMap(
    title=("245a",), subtitle=("245b",), isbn=("020a",), authors=("100a", "110a", "245c", "700a"),
    publisher=("264b", "260b"), pub_year=("264c", "260c", "008"), clc_class=("093a", "084a"),
    summary=("520a",), call_number=("905d", "852h", "090a"),
    holdings=(HoldingsSpec("852", barcode="p", location="c", call_class="h", call_item="i"),
              HoldingsSpec("952", barcode="p", location="c", call_class="o"),
              HoldingsSpec("905", barcode="b", location="c", call_class="d", call_item="e")),
)
"""MARC21 as Chinese libraries use it: 093 (or 084 with $2 clc) holds the CLC class, 905 the local holdings."""

UNIMARC_MAP = FieldMap(
    title=("200a",), subtitle=("200e",), isbn=("010a",), authors=("200f", "701a", "702a", "711a"),
    publisher=("210c",), pub_year=("210d",), clc_class=("690a",), summary=("330a",), call_number=(),
    holdings=(HoldingsSpec("905", barcode="b", location="c", call_class="d", call_item="e"),),
)
"""CNMARC: 010 ISBN, 200 title and responsibility, 210 publication, 690 CLC, 905 local holdings (b barcode,
c location, d class, e book number → call number d/e)."""


@dataclass
class MarcRecord:
    leader: str
    fields: list[tuple[str, str | list[tuple[str, str]]]]
    """(tag, control value) or (tag, [(code, value), …]), in file order."""

    def values(self, spec: str) -> list[str]:
        tag, code = spec[:3], spec[3:]
        out: list[str] = []
        for t, content in self.fields:
            if t != tag:
                continue
            if isinstance(content, str):
                out.append(content)
            else:
                out.extend(v for c, v in content if not code or c == code)
        return out

    def first(self, specs: tuple[str, ...]) -> str:
        for spec in specs:
            for value in self.values(spec):
                if spec.startswith("008"):
                    value = value[7:11] if len(value) >= 11 else ""
                if value.strip():
                    return value.strip()
        return ""

    def tags(self) -> set[str]:
        return {t for t, _ in self.fields}


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


def parse_iso2709(chunk: bytes) -> MarcRecord:
    """One record (without its terminator); raises ValueError with the reason when it is damaged."""
    if len(chunk) < 25:
        raise ValueError("record shorter than its 24-byte leader")
    leader = chunk[:24].decode("ascii", errors="replace")
    if not leader[12:17].isdigit():
        raise ValueError("leader has no base address of data (positions 12–16)")
    base = int(leader[12:17])
    directory_end = chunk.find(FIELD_END, 24)
    if directory_end < 0 or base > len(chunk) or base < directory_end:
        raise ValueError("directory or base address points outside the record (truncated record?)")
    directory = chunk[24:directory_end]
    if len(directory) % 12:
        raise ValueError("directory length is not a multiple of 12")
    fields: list[tuple[str, str | list[tuple[str, str]]]] = []
    for i in range(0, len(directory), 12):
        entry = directory[i : i + 12].decode("ascii", errors="replace")
        tag, length, start = entry[:3], entry[3:7], entry[7:12]
        if not (length.isdigit() and start.isdigit()):
            raise ValueError(f"directory entry {entry!r} is not numeric")
        begin = base + int(start)
        raw = chunk[begin : begin + int(length)]
        if begin + int(length) > len(chunk) or (int(length) and not raw.endswith(FIELD_END)):
            raise ValueError(f"field {tag} runs past the end of the record (truncated record?)")
        raw = raw.rstrip(FIELD_END)
        if tag < "010" and tag.isdigit():
            fields.append((tag, _decode(raw)))
            continue
        parts = raw.split(SUBFIELD)
        subfields = [(_decode(p[:1]), _decode(p[1:])) for p in parts[1:] if p]
        fields.append((tag, subfields))
    return MarcRecord(leader, fields)


def read_iso2709(data: bytes) -> Iterator[tuple[int, MarcRecord | str]]:
    """(record number, record or reason) for each record of an ISO 2709 file."""
    number = 0
    for chunk in data.split(RECORD_END):
        chunk = chunk.lstrip(b"\r\n")
        if not chunk.strip():
            continue
        number += 1
        try:
            yield number, parse_iso2709(chunk)
        except ValueError as exc:
            yield number, str(exc)


def read_marcxml(data: bytes, source: str) -> Iterator[tuple[int, MarcRecord | str]]:
    import xml.sax

    import pymarc

    try:
        records = pymarc.parse_xml_to_array(io.BytesIO(data), strict=False)
    except (xml.sax.SAXException, ValueError, UnicodeError) as exc:
        raise UnreadableFile(source, f"not well-formed MARCXML ({exc})") from None
    except Exception as exc:  # pymarc's handler trips over odd but well-formed XML in several ways
        raise UnreadableFile(source, f"not usable MARCXML ({type(exc).__name__})") from None
    for number, record in enumerate(records, start=1):
        if record is None:
            yield number, "empty record"
            continue
        try:
            fields: list[tuple[str, str | list[tuple[str, str]]]] = []
            for f in record.get_fields():
                if f.control_field:
                    fields.append((f.tag, f.data or ""))
                else:
                    fields.append((f.tag, [(s.code, s.value) for s in f.subfields]))
            yield number, MarcRecord(str(record.leader), fields)
        except Exception as exc:  # a record pymarc half-built
            yield number, f"unusable record ({type(exc).__name__})"


def is_unimarc(record: MarcRecord) -> bool:
    tags = record.tags()
    return "200" in tags and "245" not in tags


def _holdings(record: MarcRecord, specs: tuple[HoldingsSpec, ...]) -> list[Holding]:
    holdings: list[Holding] = []
    for spec in specs:
        for tag, content in record.fields:
            if tag != spec.tag or isinstance(content, str):
                continue
            sub: dict[str, str] = {}
            for code, value in content:
                sub.setdefault(code, value.strip())
            barcode = sub.get(spec.barcode, "")
            if not barcode:
                continue
            call = sub.get(spec.call_class, "") if spec.call_class else ""
            if spec.call_item and sub.get(spec.call_item):
                call = f"{call}/{sub[spec.call_item]}" if call else sub[spec.call_item]
            holdings.append(Holding(barcode, sub.get(spec.location, "") if spec.location else "", call))
        if holdings:
            break
    return holdings


ISBD_MARKS = "/:;=,."


def strip_isbd(value: str) -> str:
    """Drop the one ISBD mark that ends a MARC subfield ("红楼梦 /", "曹雪芹著."), and only one: a title that
    itself ends in a mark ("What is it:") keeps it, since our exporter (and a cataloguer) puts the separator after."""
    value = value.rstrip()
    if value and value[-1] in ISBD_MARKS:
        value = value[:-1].rstrip()
    return value


def to_title_record(source: str, number: int, record: MarcRecord,
                    field_map: FieldMap | None = None) -> TitleRecord | RecordError:
    fmap = field_map or (UNIMARC_MAP if is_unimarc(record) else MARC21_MAP)
    title = strip_isbd(record.first(fmap.title))
    subtitle = strip_isbd(record.first(fmap.subtitle))
    if subtitle:
        title = f"{title}：{subtitle}"
    authors = strip_isbd(record.first(fmap.authors))
    holdings = _holdings(record, fmap.holdings)
    call_number = record.first(fmap.call_number) or next((h.call_number for h in holdings if h.call_number), "")
    values = {
        "title": title, "isbn": record.first(fmap.isbn), "authors": authors,
        "publisher": strip_isbd(record.first(fmap.publisher)), "pub_year": record.first(fmap.pub_year),
        "clc_class": record.first(fmap.clc_class), "summary": record.first(fmap.summary),
        "call_number": call_number,
    }
    return build_record(source, number, values, holdings)


def read_marc(data: bytes, source: str, *, field_map: FieldMap | None = None,
              ) -> Iterator[TitleRecord | RecordError]:
    """Records of a MARC file: MARCXML when it looks like XML, ISO 2709 otherwise."""
    head = data[:200].lstrip(b"\xef\xbb\xbf \t\r\n")
    raw = read_marcxml(data, source) if head.startswith(b"<") else read_iso2709(data)
    for number, record in raw:
        if isinstance(record, str):
            yield RecordError(source, number, f"damaged MARC record: {record}")
        else:
            yield to_title_record(source, number, record, field_map)


def field_map_from(overrides: Mapping[str, Any], base: FieldMap) -> FieldMap:
    """A field map with some specs replaced, from a mapping file's [marc21] or [unimarc] table."""
    values: dict[str, Any] = {name: getattr(base, name) for name in base.__dataclass_fields__}
    for name, specs in overrides.items():
        if name not in values:
            raise ValueError(f"unknown MARC field name {name!r} (known: {', '.join(values)})")
        if name == "holdings":
            values[name] = tuple(HoldingsSpec(**spec) for spec in specs)
        else:
            values[name] = tuple(str(s) for s in ([specs] if isinstance(specs, str) else specs))
    return FieldMap(**values)
