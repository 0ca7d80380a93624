"""CSV, TSV and XLSX exports from library systems: encoding detection and Chinese/English header mapping.

Encodings, in the order they are tried: a UTF-8 BOM (Excel's "CSV UTF-8"), strict UTF-8, then GB18030 (a superset
of GBK and GB2312, what Chinese Excel and most city-library systems write), and only then charset-normalizer's
guess. Trying GB18030 before guessing matters: statistical detectors often call short GBK files Big5 or cp1252.

Headers are matched after removing spaces, brackets and case, against the synonyms below (题名/书名/正题名 → title);
a mapping file (TOML or JSON, `{"原表头" = "field"}`) adds or overrides synonyms for one library's export.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from charset_normalizer import from_bytes

from catalog.importers.records import MappingError, RecordError, TitleRecord, UnreadableFile, build_record

FIELDS = ("title", "authors", "isbn", "publisher", "pub_year", "clc_class", "call_number", "barcode",
          "shelf_location", "category", "summary", "language")

SYNONYMS: dict[str, tuple[str, ...]] = {
    "title": ("题名", "书名", "正题名", "题名与责任者", "图书名称", "名称", "title", "booktitle"),
    "authors": ("责任者", "作者", "著者", "第一责任者", "作者译者", "author", "authors", "creator"),
    "isbn": ("isbn", "isbn号", "标准号", "国际标准书号", "书号", "isbn13", "isbn10"),
    "publisher": ("出版社", "出版者", "出版发行者", "出版单位", "publisher"),
    "pub_year": ("出版年", "出版日期", "出版时间", "出版年月", "year", "pubyear", "publicationyear", "date"),
    "clc_class": ("分类号", "中图分类号", "中图法分类号", "clc", "clcclass", "class", "classification"),
    "call_number": ("索书号", "索取号", "callnumber", "callno"),
    "barcode": ("条码号", "条码", "条形码", "登录号", "登记号", "财产号", "barcode", "itembarcode"),
    "shelf_location": ("馆藏地", "馆藏地点", "馆藏位置", "架位", "书架", "location", "shelf", "shelflocation"),
    "category": ("类别", "图书类别", "分类", "category"),
    "summary": ("摘要", "内容简介", "简介", "提要", "summary", "abstract"),
    "language": ("语种", "语言", "language"),
}
_NOISE = re.compile(r"[\s_\-()（）\[\]【】:：/]+")
MAX_ROWS = 2_000_000


def _key(header: str) -> str:
    return _NOISE.sub("", header).lower()


def load_mapping(path: Path) -> dict[str, str]:
    """A mapping file: `"原表头" = "field"` pairs (TOML, or JSON object)."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"{path}: cannot read mapping ({exc})") from None
    if not isinstance(data, dict):
        raise MappingError(f"{path}: a mapping is a table of header = field")
    mapping: dict[str, str] = {}
    for header, field in data.items():
        if not isinstance(field, str) or field not in FIELDS:
            raise MappingError(f"{path}: {header!r} maps to {field!r}, not one of {', '.join(FIELDS)}")
        mapping[str(header)] = field
    return mapping


def map_headers(headers: list[str], extra: Mapping[str, str] | None = None) -> dict[int, str]:
    """Column index → field, for the columns we understand; the first column claiming a field wins."""
    table = {_key(s): field for field, names in SYNONYMS.items() for s in names}
    table.update({_key(h): f for h, f in (extra or {}).items()})
    columns: dict[int, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        field = table.get(_key(header or ""))
        if field and field not in taken:
            columns[index] = field
            taken.add(field)
    return columns


def decode(data: bytes, source: str) -> tuple[str, str]:
    """(text, encoding name) of a text export."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    best = from_bytes(data[:200_000]).best()
    if best is None or best.encoding is None:
        raise UnreadableFile(source, "cannot tell the text encoding (save it as UTF-8 or GB18030)")
    return data.decode(best.encoding, errors="replace"), best.encoding


def _rows_to_records(source: str, rows: Iterator[tuple[int, list[str]]],
                     mapping: Mapping[str, str] | None) -> Iterator[TitleRecord | RecordError]:
    header: tuple[int, list[str]] | None = None
    for line, row in rows:
        if any(cell.strip() for cell in row):
            header = (line, row)
            break
    if header is None:
        return
    columns = map_headers(header[1], mapping)
    if "title" not in columns.values():
        raise UnreadableFile(source, f"line {header[0]}: no title column (题名/书名/title) among the headers "
                                     f"{', '.join(h for h in header[1] if h)[:200]}")
    for count, (line, row) in enumerate(rows):
        if count >= MAX_ROWS:
            yield RecordError(source, line, f"more than {MAX_ROWS} rows: split the file")
            return
        if not any(cell.strip() for cell in row):
            continue
        values = {field: row[i] for i, field in columns.items() if i < len(row)}
        yield build_record(source, line, values)


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield reader.line_num, []
            line = reader.line_num + 1
            continue
        yield line, [cell.replace("\x00", "") for cell in row]
        line = reader.line_num + 1


def read_delimited(data: bytes, source: str, *, delimiter: str | None = None,
                   mapping: Mapping[str, str] | None = None) -> Iterator[TitleRecord | RecordError]:
    """Records of a CSV or TSV export (delimiter sniffed from the header line when not given)."""
    text, _encoding = decode(data, source)
    text = text.replace("\x00", "")
    if delimiter is None:
        first = text.split("\n", 1)[0]
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
    csv.field_size_limit(1_000_000)
    return _rows_to_records(source, _csv_rows(text, delimiter), mapping)


def read_xlsx(data: bytes, source: str, *, mapping: Mapping[str, str] | None = None,
              ) -> Iterator[TitleRecord | RecordError]:
    """Records of the first worksheet of an .xlsx file."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError, TypeError, AttributeError) as exc:
        raise UnreadableFile(source, f"not a readable .xlsx workbook ({type(exc).__name__})") from None
    except Exception as exc:  # openpyxl raises many undocumented errors on damaged files
        raise UnreadableFile(source, f"not a readable .xlsx workbook ({type(exc).__name__})") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for index, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield index, [_cell(v) for v in row]
        except Exception as exc:  # a damaged sheet part: report where it broke, keep what was read
            raise UnreadableFile(source, f"damaged worksheet ({type(exc).__name__})") from None
        finally:
            workbook.close()

    return _rows_to_records(source, rows(), mapping)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # ISBNs and years typed as numbers come back as 9787020002207.0
    return str(value)
