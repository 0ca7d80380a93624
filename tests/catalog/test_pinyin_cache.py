"""Reading pinyin word by word through a cache must give exactly what one pypinyin call on the whole string gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.demo import generate_titles
from catalog.pinyin import _reference_syllables, _syllables

POLYPHONES = ["长城长大", "重庆重要", "银行行走", "音乐快乐", "Python编程（第3版）", "红楼梦（上）", "朝阳朝代",
              "《乐队》长", "中华人民共和国史", "觉得睡觉", "都市都是", "还钱还有"]


@pytest.mark.parametrize("text", POLYPHONES)
def test_cached_reading_matches_pypinyin_on_polyphones(text: str) -> None:
    assert _syllables(text) == _reference_syllables(text)


def test_cached_reading_matches_pypinyin_on_demo_catalog() -> None:
    for title in generate_titles(2000):
        for text in (title.title, title.authors, title.publisher):
            assert _syllables(text) == _reference_syllables(text), text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("长城大重庆要银行走音乐快中国历史党建 abc12（）《》·")), max_size=20))
def test_cached_reading_matches_pypinyin_on_any_mix(text: str) -> None:
    assert _syllables(text) == _reference_syllables(text)
