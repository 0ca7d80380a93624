"""Shelf marks in English: "A区2架2层" → "Zone A, stack 2, shelf 2".

A copy's shelf location is free text from the library's export (馆藏地, 架位), so there is no English column to
fill. Yet nearly every mark a reading room writes is built from the same few parts: a zone (A区, 少儿区), a floor
(二楼, or 3层 before the rest), a row or bookcase (3排, 2架), a column (4列), a shelf level (2层), a side (A面),
a number (5号). A mark made only
of such parts is translated part by part; a mark with anything else in it (a donor's name, 东墙) is returned as
None, and the screen shows it as written: a wrong translation would send a visitor to the wrong shelf.
"""

from __future__ import annotations

import re
from functools import lru_cache

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

AREAS = {
    "少儿": "Children's",
    "儿童": "Children's",
    "绘本": "Picture-book",
    "期刊": "Periodicals",
    "报刊": "Newspapers and periodicals",
    "阅览": "Reading",
    "文学": "Literature",
    "社科": "Social sciences",
    "科技": "Science and technology",
    "党建": "Party-building",
    "新书": "New books",
    "外文": "Foreign-language",
    "古籍": "Rare books",
    "地方文献": "Local history",
    "自习": "Study",
    "综合": "General",
}
"""Named zones a community reading room uses, as "<name> area"."""

_NUMBER = r"(?:\d+|[零〇一二两三四五六七八九十]+)"
_PART = re.compile(
    rf"(?P<zone>[A-Za-z0-9]+)区"
    rf"|(?P<area>{'|'.join(sorted(AREAS, key=len, reverse=True))})区"
    rf"|第?(?P<floor>{_NUMBER})楼"
    rf"|第?(?P<row>{_NUMBER})排"
    rf"|第?(?P<stack>{_NUMBER})(?:号)?架"
    rf"|第?(?P<column>{_NUMBER})列"
    rf"|第?(?P<shelf>{_NUMBER})层"
    rf"|(?P<side>[A-Za-z]|{_NUMBER})面"
    rf"|第?(?P<number>{_NUMBER})号"
)
_SEPARATORS = " -—－·・,，、/"

_WORDS = {"floor": "floor", "row": "row", "stack": "stack", "column": "column", "shelf": "shelf", "side": "side",
          "number": "no."}


def chinese_number(text: str) -> int | None:
    """Digits or a Chinese numeral up to 99 (二, 十二, 二十, 二十三); None for anything else."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        if "十" in ones or (tens and tens not in _DIGITS) or (ones and ones not in _DIGITS):
            return None
        return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)
    if len(text) == 1 and text in _DIGITS:
        return _DIGITS[text]
    return None


@lru_cache(maxsize=4096)
def shelf_mark_en(mark: str) -> str | None:
    """The English for a shelf mark made only of the parts above; None when any of it is not such a part."""
    text = mark.strip()
    if not text:
        return None
    parts: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos] in _SEPARATORS:
            pos += 1
            continue
        match = _PART.match(text, pos)
        if match is None:
            return None
        kind = match.lastgroup
        value = match.group(kind) if kind else None
        if kind is None or value is None:
            return None
        if kind == "zone":
            parts.append(f"zone {value.upper()}")
        elif kind == "area":
            parts.append(f"{AREAS[value]} area")
        elif kind == "shelf" and not parts and match.end() < len(text):
            number = chinese_number(value)  # "3层A区": a level before everything else is the building's floor
            if number is None:
                return None
            parts.append(f"floor {number}")
        elif kind == "side" and value.isalpha() and value.isascii():
            parts.append(f"side {value.upper()}")
        else:
            number = chinese_number(value)
            if number is None:
                return None
            parts.append(f"{_WORDS[kind]} {number}")
        pos = match.end()
    if not parts:
        return None
    english = ", ".join(parts)
    return english[0].upper() + english[1:]
