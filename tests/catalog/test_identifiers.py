from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog import clc, isbn
from catalog.pinyin import author_pinyin, clean_author, title_pinyin


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("978-7-02-000220-7", "9787020002207"),
        ("9787020002207", "9787020002207"),
        ("ISBN 978 7 02 000220 7", "9787020002207"),
        ("ISBN：978-7-02-000220-7", "9787020002207"),
        ("7-02-000220-X", "9787020002207"),
        ("702000220x", "9787020002207"),
        ("7020002200", None),  # wrong ISBN-10 check digit
        ("0-306-40615-2", "9780306406157"),
        ("080442957x", "9780804429573"),
        ("9787020002207 51000", "9787020002207"),  # EAN-5 price add-on scanned with the barcode
        ("978702000220712", "9787020002207"),  # EAN-2 add-on
        ("979-10-90636-07-1", "9791090636071"),
    ],
)
def test_isbn13_normalisation(raw: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(isbn.InvalidIsbn):
            isbn.to_isbn13(raw)
    else:
        assert isbn.to_isbn13(raw) == expected


def test_isbn10_only_for_978() -> None:
    assert isbn.to_isbn10("978-7-02-000220-7") == "702000220X"
    assert isbn.to_isbn10("978-0-8044-2957-3") == "080442957X"
    with pytest.raises(isbn.InvalidIsbn, match="979"):
        isbn.to_isbn10("9791090636071")
    with pytest.raises(isbn.InvalidIsbn, match="979"):
        isbn.to_isbn10("979-0-060-11561-5")  # an ISMN (printed music)


@pytest.mark.parametrize("raw", ["9787020002208", "978702000220", "97870200022071", "1234567890123",
                                 "abcdefghij", "", "978-7-02-ABCDE-7", "702000220Y"])
def test_invalid_isbns_are_refused(raw: str) -> None:
    assert not isbn.is_valid(raw)
    with pytest.raises(isbn.InvalidIsbn):
        isbn.to_isbn13(raw)


@given(st.text(max_size=40))
def test_isbn_parser_raises_only_its_own_error(raw: str) -> None:
    try:
        code = isbn.to_isbn13(raw)
    except isbn.InvalidIsbn:
        return
    assert len(code) == 13 and code.isdigit()
    assert isbn.to_isbn13(code) == code


@given(st.integers(min_value=0, max_value=10**9 - 1))
def test_isbn10_and_13_round_trip(n: int) -> None:
    body = f"{n:09d}"
    isbn10 = body + isbn.isbn10_check_digit(body)
    assert isbn.to_isbn10(isbn.to_isbn13(isbn10)) == isbn10


@pytest.mark.parametrize(
    ("clc_class", "category"),
    [
        ("D26", "party"), ("D267.1", "party"), ("A811.22", "party"),
        ("D63", "military_politics"), ("D923", "military_politics"), ("E892.25", "military_politics"),
        ("F12", "economy"), ("K928.6", "history_geography"),
        ("J292", "culture_art"), ("G12", "culture_art"), ("B222.2", "culture_art"), ("h12", "culture_art"),
        ("I247.5", "literature"), ("I287.45", "children"),
        ("TP18", "science"), ("O41", "science"), ("R44", "science"), ("Q-49", "science"),
        ("TS972.12", "life"), ("R161.7", "life"), ("G852.11", "life"), ("S68", "life"),
        ("", "culture_art"), ("not a class", "culture_art"), ("L10", "culture_art"),
    ],
)
def test_clc_classes_map_to_display_categories(clc_class: str, category: str) -> None:
    assert clc.category_for(clc_class) == category


def test_children_by_audience_and_codes() -> None:
    assert clc.category_for("Q915", audience="children") == "children"
    assert clc.category_code("党建") == "party" and clc.category_code("life") == "life"
    assert [c.name for c in clc.CATEGORIES] == ["党建", "经济", "军事政治", "历史地理", "文化艺术", "文学", "少儿",
                                                "科普", "生活"]
    with pytest.raises(KeyError):
        clc.category_code("没有")
    with pytest.raises(clc.InvalidClcClass):
        clc.normalise_class("1234")


@pytest.mark.parametrize(
    ("title", "full", "initials"),
    [
        ("红楼梦（上）", "hong lou meng shang", "hlms"),
        ("长城", "chang cheng", "cc"),
        ("成长的烦恼", "cheng zhang de fan nao", "czdfn"),
        ("重庆火锅", "chong qing huo guo", "cqhg"),
        ("重要讲话", "zhong yao jiang hua", "zyjh"),
        ("银行", "yin hang", "yh"),
        ("行走的力量", "xing zou de li liang", "xzdll"),
        ("快乐音乐", "kuai le yin yue", "klyy"),
        ("Python编程：从入门到实践", "python bian cheng cong ru men dao shi jian", "pbccrmdsj"),
        ("繁星·春水", "fan xing chun shui", "fxcs"),
    ],
)
def test_title_pinyin_handles_polyphones_and_punctuation(title: str, full: str, initials: str) -> None:
    forms = title_pinyin(title)
    assert (forms.full, forms.initials) == (full, initials)


@pytest.mark.parametrize(
    ("authors", "full"),
    [
        ("曾国藩", "zeng guo fan"),
        ("单田芳 著", "shan tian fang"),
        ("[英] 史蒂芬·霍金 著", "shi di fen huo jin"),
        ("解缙, 仇英 编", "xie jin qiu ying"),
        ("尉迟恭", "yu chi gong"),
        ("曹雪芹 著", "cao xue qin"),
    ],
)
def test_author_pinyin_reads_surnames(authors: str, full: str) -> None:
    assert author_pinyin(authors).full == full


def test_clean_author_drops_roles_and_nationality() -> None:
    assert clean_author("（美）蕾切尔·卡森 著") == "蕾切尔·卡森"
    assert clean_author("杨伯峻 译注") == "杨伯峻"
