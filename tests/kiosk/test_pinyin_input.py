"""The announcement keyboard's pinyin candidates: the usual character first, words of a notice before rare words,
letters that spell no syllable give nothing, and only common (GB2312) characters are ever offered."""

from __future__ import annotations

from kiosk.pinyin_input import candidates, first_syllable


def test_the_usual_character_comes_first() -> None:
    assert candidates("de")[0].text == "的"
    assert candidates("shu")[0].text == "书"
    assert "省" not in [c.text for c in candidates("xing", 10)]  # 省 is read shěng; xǐng only in 反省


def test_words_then_characters_of_the_first_syllable() -> None:
    found = candidates("xinshu")
    assert found[0].text == "新书" and found[0].consumes == 6
    chars = [c for c in found if len(c.text) == 1]
    assert chars and all(c.consumes == 3 for c in chars) and "新" in [c.text for c in chars]


def test_a_word_is_offered_before_its_last_syllable_is_typed() -> None:
    assert candidates("huany")[0].text == "欢迎"
    assert "今天" in [c.text for c in candidates("jint")]


def test_v_types_u_umlaut_and_bad_input_gives_nothing() -> None:
    assert {"绿", "旅"} <= {c.text for c in candidates("lv", 40)}
    assert candidates("zzz") == [] and candidates("12") == [] and candidates("") == []
    assert first_syllable("xiane") == "xian" and first_syllable("q") == ""


def test_only_common_characters_are_offered() -> None:
    for letters in ("a", "shi", "yi", "zhuang", "nv"):
        for candidate in candidates(letters, 50):
            candidate.text.encode("gb2312")
