from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymarc import Field, Indicators, Record, Subfield

from catalog.importers import (
    CatalogImportError,
    ImportMapping,
    MappingError,
    RecordError,
    TitleRecord,
    UnreadableFile,
    load_mapping,
    read_bytes,
    read_file,
)
from tests.catalog.marc_helpers import iso2709

CSV_ZH = (
    "题名,责任者,ISBN,出版社,出版年,中图分类号,索书号,条码号,馆藏地\n"
    "红楼梦,曹雪芹 著,978-7-02-000220-7,人民文学出版社,2008,I242.4,I242.4/C12,TS0000001,F区 1排 2层\n"
    "坏书号,某人,978-7-02-000220-8,某社,2010,I247,,TS0000002,\n"
    ",无题名,,,,,,TS0000003,\n"
    "中国历史十五讲,张岂之 主编,7301058470,北京大学出版社,2003年5月,K20,K20/Z15,TS0000004,D区\n"
)


def _records(data: bytes, kind: str = "csv", mapping: ImportMapping | None = None) -> list[TitleRecord | RecordError]:
    return list(read_bytes(data, "books.csv", kind, mapping))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_in_every_encoding_with_chinese_headers(encoding: str) -> None:
    records = _records(CSV_ZH.encode(encoding))
    good = [r for r in records if isinstance(r, TitleRecord)]
    bad = [r for r in records if isinstance(r, RecordError)]
    assert [r.title for r in good] == ["红楼梦", "中国历史十五讲"]
    hlm = good[0]
    assert (hlm.isbn13, hlm.authors, hlm.pub_year, hlm.clc_class, hlm.call_number) == (
        "9787020002207", "曹雪芹 著", 2008, "I242.4", "I242.4/C12")
    assert hlm.holdings[0].barcode == "TS0000001" and hlm.holdings[0].shelf_location == "F区 1排 2层"
    assert good[1].isbn13 == "9787301058473" and good[1].pub_year == 2003
    assert [str(e) for e in bad] == [
        "books.csv:3: invalid ISBN '978-7-02-000220-8': ISBN-13 check digit should be 7",
        "books.csv:4: no title (题名)",
    ]


def test_tsv_and_english_headers_and_mapping_override(tmp_path: Path) -> None:
    tsv = "Title\tAuthor\tISBN\tYear\tBarcode\tShelf\n三体\t刘慈欣\t9787536692930\t2008\tTS9\tF区\n"
    (good,) = _records(tsv.encode(), "tsv")
    assert isinstance(good, TitleRecord) and good.authors == "刘慈欣" and good.holdings[0].barcode == "TS9"
    custom = "书目名称,写书的人,登记号\n活着,余华,WH/T 0001\n"
    mapping = tmp_path / "map.toml"
    mapping.write_text('[headers]\n"书目名称" = "title"\n"写书的人" = "authors"\n', encoding="utf-8")
    (rec,) = _records(custom.encode(), mapping=load_mapping(mapping))
    assert isinstance(rec, RecordError) and "spaces" in rec.reason  # "WH/T 0001" has a space
    custom_ok = custom.replace("WH/T 0001", "WHT0001")
    (rec,) = _records(custom_ok.encode(), mapping=load_mapping(mapping))
    assert isinstance(rec, TitleRecord) and (rec.title, rec.authors, rec.holdings[0].barcode) == (
        "活着", "余华", "WHT0001")


def test_file_without_a_title_column_is_unreadable() -> None:
    with pytest.raises(UnreadableFile, match="no title column"):
        _records(b"a,b\n1,2\n")


def test_bad_mapping_files(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('"题名" = "nonsense"\n', encoding="utf-8")
    with pytest.raises(MappingError, match="nonsense"):
        load_mapping(path)
    path.write_text("not = [toml", encoding="utf-8")
    with pytest.raises(MappingError):
        load_mapping(path)
    path.write_text('[unimarc]\nbogus = ["200a"]\n', encoding="utf-8")
    with pytest.raises(MappingError, match="bogus"):
        load_mapping(path)


def test_row_errors_name_the_field() -> None:
    rows = ("题名,出版年,中图分类号,类别,馆藏地\n"
            "甲,不详,,,\n"
            "乙,,123,,\n"
            "丙,,,小说,\n"
            "丁,,,,A区\n"
            "戊,2001,I247,文学,\n")
    records = _records(rows.encode())
    reasons = [r.reason for r in records if isinstance(r, RecordError)]
    assert len(reasons) == 4
    assert "publication year" in reasons[0] and "CLC" in reasons[1] and "category" in reasons[2]
    assert "barcode" in reasons[3]
    last = records[-1]
    assert isinstance(last, TitleRecord) and last.category == "literature"


def test_xlsx(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["书名", "作者", "ISBN", "出版年", "条码号"])
    sheet.append(["边城", "沈从文", 9787020002207, 2019, "TS1"])
    sheet.append([None, None, None, None, None])
    sheet.append(["无效", "某", "123", 2019, "TS2"])
    path = tmp_path / "books.xlsx"
    book.save(path)
    records = list(read_file(path))
    assert isinstance(records[0], TitleRecord) and records[0].isbn13 == "9787020002207"
    assert records[0].pub_year == 2019
    assert isinstance(records[1], RecordError) and records[1].line == 4


def _marc21(title: str, isbn: str, barcodes: list[str]) -> bytes:
    record = Record(force_utf8=True)
    record.add_field(Field("020", Indicators(" ", " "), [Subfield("a", isbn)]))
    record.add_field(Field("245", Indicators("0", "0"), [Subfield("a", title + " /"), Subfield("c", "鲁迅 著.")]))
    record.add_field(Field("264", Indicators(" ", "1"), [Subfield("b", "人民文学出版社,"), Subfield("c", "2018")]))
    record.add_field(Field("093", Indicators(" ", " "), [Subfield("a", "I210.6")]))
    for barcode in barcodes:
        record.add_field(Field("852", Indicators(" ", " "), [Subfield("p", barcode), Subfield("c", "F区"),
                                                              Subfield("h", "I210.6/L9")]))
    return bytes(record.as_marc())


def test_marc21_iso2709_and_marcxml() -> None:
    data = _marc21("呐喊", "9787020002207", ["TS1", "TS2"]) + _marc21("朝花夕拾", "bad", [])
    records = _records(data, "marc")
    first = records[0]
    assert isinstance(first, TitleRecord)
    assert (first.title, first.authors, first.publisher, first.pub_year, first.clc_class, first.category) == (
        "呐喊", "鲁迅 著", "人民文学出版社", 2018, "I210.6", "")
    assert [h.barcode for h in first.holdings] == ["TS1", "TS2"] and first.call_number == "I210.6/L9"
    assert isinstance(records[1], RecordError) and records[1].line == 2 and "ISBN" in records[1].reason
    from pymarc import MARCReader, record_to_xml

    record = next(iter(MARCReader(_marc21("呐喊", "9787020002207", ["TS1"]), to_unicode=True, force_utf8=True)))
    assert record is not None
    xml = b'<collection xmlns="http://www.loc.gov/MARC21/slim">' + record_to_xml(record, namespace=False) + \
        b"</collection>"
    (rec,) = _records(xml, "marc")
    assert isinstance(rec, TitleRecord) and rec.title == "呐喊" and rec.holdings[0].barcode == "TS1"


def test_cnmarc_in_gbk_with_local_holdings() -> None:
    fields: list[tuple[str, str | list[tuple[str, str]]]] = [
        ("001", "012345"),
        ("010", [("a", "978-7-02-000220-7"), ("d", "CNY59.70")]),
        ("200", [("a", "红楼梦"), ("e", "脂评汇校本"), ("f", "曹雪芹著")]),
        ("210", [("a", "北京"), ("c", "人民文学出版社"), ("d", "2008.7")]),
        ("330", [("a", "中国古典小说巅峰之作。")]),
        ("690", [("a", "I242.4"), ("v", "5")]),
        ("905", [("a", "NJXW"), ("b", "TS0000001"), ("c", "F区 1排"), ("d", "I242.4"), ("e", "C12")]),
        ("905", [("a", "NJXW"), ("b", "TS0000002"), ("d", "I242.4"), ("e", "C12")]),
    ]
    data = iso2709(fields, encoding="gbk")
    (rec,) = _records(data, "marc")
    assert isinstance(rec, TitleRecord)
    assert (rec.title, rec.authors, rec.publisher, rec.pub_year, rec.clc_class, rec.isbn13) == (
        "红楼梦：脂评汇校本", "曹雪芹著", "人民文学出版社", 2008, "I242.4", "9787020002207")
    assert rec.call_number == "I242.4/C12" and rec.summary == "中国古典小说巅峰之作。"
    assert [(h.barcode, h.shelf_location) for h in rec.holdings] == [("TS0000001", "F区 1排"), ("TS0000002", "")]


def test_truncated_and_damaged_marc_records_cost_only_themselves() -> None:
    good = iso2709([("200", [("a", "边城")])])
    truncated = good[:-20] + b"\x1d"
    junk = b"00042xxxxx\x1d"
    records = _records(truncated + junk + good, "marc")
    assert [type(r).__name__ for r in records] == ["RecordError", "RecordError", "TitleRecord"]
    assert records[0].line == 1 and "truncated" in records[0].reason  # type: ignore[union-attr]
    with pytest.raises(UnreadableFile):
        _records(b"<collection><record><unclosed></collection>", "marc")


def test_unimarc_field_map_is_configurable(tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text('[unimarc]\nholdings = [{tag = "995", barcode = "f", location = "k"}]\n', encoding="utf-8")
    data = iso2709([("200", [("a", "围城")]), ("995", [("f", "WH0001"), ("k", "文学区")])])
    (rec,) = _records(data, "marc", load_mapping(mapping))
    assert isinstance(rec, TitleRecord) and rec.holdings[0].barcode == "WH0001"
    assert rec.holdings[0].shelf_location == "文学区"


def _parse_all(data: bytes, kind: str) -> None:
    try:
        for record in read_bytes(data, "fuzz", kind):
            assert isinstance(record, TitleRecord | RecordError)
    except CatalogImportError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600), st.sampled_from(["csv", "tsv", "marc"]))
def test_arbitrary_bytes_raise_only_import_errors(data: bytes, kind: str) -> None:
    _parse_all(data, kind)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=8), st.binary(max_size=80))
def test_csv_with_arbitrary_cells(cells: list[str], tail: bytes) -> None:
    data = ("题名,ISBN,出版年,条码号\n" + ",".join(cells) + "\n").encode("utf-8", errors="replace") + tail
    _parse_all(data, "csv")


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=400), st.binary(max_size=40))
def test_marc_cut_or_corrupted_anywhere(cut: int, noise: bytes) -> None:
    record = iso2709([("010", [("a", "9787020002207")]), ("200", [("a", "红楼梦"), ("f", "曹雪芹")]),
                      ("905", [("b", "TS1")])], encoding="gbk")
    _parse_all(record[:cut] + noise + record, "marc")
    _parse_all(b"<record>" + noise, "marc")


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_as_xlsx(data: bytes) -> None:
    _parse_all(b"PK\x03\x04" + data, "xlsx")
    buffer = io.BytesIO()
    book = openpyxl.Workbook()
    book.save(buffer)
    raw = bytearray(buffer.getvalue())
    for i, b in enumerate(data[:50]):
        raw[(i * 97) % len(raw)] = b
    _parse_all(bytes(raw), "xlsx")


def _gbk_safe(text: str) -> bool:
    try:
        text.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


_MARC_TEXT = st.text(st.characters(categories=("L", "N", "P", "Zs"), exclude_characters="\x1d\x1e\x1f<>&"),
                     max_size=30)


@settings(max_examples=100, deadline=None)
@given(_MARC_TEXT.filter(_gbk_safe), st.integers(min_value=0, max_value=300))
def test_cnmarc_damaged_record_costs_only_itself(title: str, cut: int) -> None:
    """A CNMARC (GBK) record with any title, cut anywhere, is reported alone; the next record still imports."""
    full = iso2709([("010", [("a", "9787020002207")]), ("200", [("a", title), ("f", "曹雪芹")]),
                    ("905", [("b", "TS1")])], encoding="gbk")
    damaged = full[:cut].rstrip(b"\x1d")
    good = iso2709([("200", [("a", "围城")]), ("905", [("b", "TS2")])], encoding="gbk")
    records = list(read_bytes(damaged + b"\x1d" + good, "cn.mrc", "marc"))
    assert isinstance(records[-1], TitleRecord) and records[-1].title == "围城"
    assert len(records) == (2 if damaged.lstrip(b"\r\n").strip() else 1)
    if len(records) == 2 and len(damaged) < len(full) - 1:
        assert isinstance(records[0], RecordError) and records[0].line == 1


@settings(max_examples=100, deadline=None)
@given(_MARC_TEXT, st.integers(min_value=0, max_value=2000))
def test_marcxml_with_any_text_whole_or_cut(title: str, cut: int) -> None:
    import pymarc

    record = Record()
    record.add_field(Field("245", Indicators("0", "0"), [Subfield("a", title or "x")]))
    record.add_field(Field("852", Indicators(" ", " "), [Subfield("p", "TS1")]))
    xml = (b'<?xml version="1.0" encoding="UTF-8"?><collection xmlns="http://www.loc.gov/MARC21/slim">'
           + pymarc.record_to_xml(record) + b"</collection>")
    (whole,) = list(read_bytes(xml, "x.xml", "marc"))
    expected = " ".join((title or "x").split())
    if isinstance(whole, TitleRecord):
        assert whole.title.rstrip(" /:;=,.") == expected.rstrip(" /:;=,.") and whole.holdings[0].barcode == "TS1"
    else:
        assert whole.reason == "no title (题名)" and not expected.rstrip(" /:;=,.")
    _parse_all(xml[:cut], "marc")
