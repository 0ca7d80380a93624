"""Shelf marks in English: translated part by part, or not at all."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.shelf_marks import chinese_number, shelf_mark_en


@pytest.mark.parametrize(("mark", "english"), [
    ("A区2架2层", "Zone A, stack 2, shelf 2"),
    ("b区 12架 3层", "Zone B, stack 12, shelf 3"),
    ("少儿区3排", "Children's area, row 3"),
    ("二楼期刊区", "Floor 2, Periodicals area"),
    ("3层A区", "Floor 3, zone A"),
    ("第5排第2列", "Row 5, column 2"),
    ("12号架A面", "Stack 12, side A"),
    ("十二架三层", "Stack 12, shelf 3"),
    ("地方文献区-7号", "Local history area, no. 7"),
    ("2层", "Shelf 2"),
])
def test_marks_made_of_known_parts_are_translated(mark: str, english: str) -> None:
    assert shelf_mark_en(mark) == english


@pytest.mark.parametrize("mark", ["", "  ", "东墙", "A区东墙", "张三捐赠", "A区2架2层旁", "架", "区"])
def test_anything_else_is_left_as_written(mark: str) -> None:
    assert shelf_mark_en(mark) is None


@pytest.mark.parametrize(("text", "number"), [
    ("7", 7), ("二", 2), ("两", 2), ("十", 10), ("十二", 12), ("二十", 20), ("二十三", 23), ("十十", None),
    ("二三", None), ("百", None),
])
def test_chinese_numbers(text: str, number: int | None) -> None:
    assert chinese_number(text) == number


@given(st.text(alphabet=st.sampled_from("A区2架层排列楼面号第十二 -东少儿期刊x"), max_size=16) | st.text(max_size=16))
def test_any_text_gives_ascii_english_or_none(mark: str) -> None:
    english = shelf_mark_en(mark)
    assert english is None or (english.isascii() and english[:1].isupper())
