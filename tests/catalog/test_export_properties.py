"""Export then re-import gives back the same fields, for any text a catalog can hold (hypothesis).

The exporters and the parsers are tested against each other without a database: a title exported as MARC21
(ISO 2709) or as CSV in either encoding must come back field for field as the importer normalises it
(whitespace collapsed), so that a re-import finds nothing to change.
"""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.exporters import HEADERS, marc_bytes
from catalog.importers import RecordError, TitleRecord, read_bytes
from catalog.importers.marc import strip_isbd
from catalog.model import Item, Title

_CHARS = st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs"),
                       exclude_characters="\x1d\x1e\x1f")
_TEXT = st.text(_CHARS, min_size=1, max_size=40).map(lambda s: " ".join(s.split())).filter(bool)
_BARCODE = st.text(st.sampled_from("ABCDEFGHJKTSWX0123456789-"), min_size=1, max_size=14)


def _normal(text: str) -> str:
    return " ".join(text.split())


@st.composite
def _titles(draw: st.DrawFn) -> tuple[Title, list[Item]]:
    title = Title(title=draw(_TEXT), authors=draw(st.one_of(st.just(""), _TEXT)),
                  publisher=draw(st.one_of(st.just(""), _TEXT)), isbn13=draw(st.sampled_from(
                      [None, "9787020002207", "9791032305690"])),
                  pub_year=draw(st.one_of(st.none(), st.integers(1000, 2100))), clc_class="", call_number="",
                  summary="")
    barcodes = draw(st.lists(_BARCODE, max_size=3, unique=True))
    items = [Item(barcode=b, shelf_location=draw(st.one_of(st.just(""), _TEXT))) for b in barcodes]
    return title, items


def _only(records: list[TitleRecord | RecordError]) -> TitleRecord:
    assert len(records) == 1, records
    (record,) = records
    assert isinstance(record, TitleRecord), record
    return record


@settings(max_examples=200, deadline=None)
@given(_titles())
def test_marc21_export_reads_back_the_same_fields(case: tuple[Title, list[Item]]) -> None:
    title, items = case
    record = _only(list(read_bytes(marc_bytes(title, items), "out.mrc", "marc")))
    assert record.title == _normal(title.title)[:500]
    assert record.authors == _normal(title.authors)[:500]
    assert record.publisher == _normal(title.publisher)[:300]
    assert (record.isbn13, record.pub_year) == (title.isbn13, title.pub_year)
    assert [(h.barcode, h.shelf_location) for h in record.holdings] == [
        (i.barcode, _normal(i.shelf_location)) for i in items]


@settings(max_examples=200, deadline=None)
@given(_titles(), st.sampled_from(["utf-8", "gb18030"]))
def test_csv_export_reads_back_the_same_fields(case: tuple[Title, list[Item]], encoding: str) -> None:
    title, items = case
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for item in items or [Item(barcode="", shelf_location="")]:
        row = {"题名": title.title, "责任者": title.authors, "ISBN": title.isbn13 or "", "出版社": title.publisher,
               "出版年": title.pub_year or "", "条码号": item.barcode, "馆藏地": item.shelf_location}
        writer.writerow([row.get(h, "") for h in HEADERS])
    records = list(read_bytes(out.getvalue().encode(encoding), "out.csv", "csv"))
    assert all(isinstance(r, TitleRecord) for r in records), records
    for record, item in zip(records, items, strict=False):
        assert isinstance(record, TitleRecord)
        assert (record.title, record.authors, record.publisher) == (
            _normal(title.title)[:500], _normal(title.authors)[:500], _normal(title.publisher)[:300])
        assert [h.barcode for h in record.holdings] == [item.barcode]


def test_one_isbd_mark_is_dropped_and_only_one() -> None:
    assert [strip_isbd(v) for v in ("红楼梦 /", "曹雪芹 著.", "人民文学出版社,", "What is it: /", "Mr.", "")] == [
        "红楼梦", "曹雪芹 著", "人民文学出版社", "What is it:", "Mr", ""]
