"""Pinyin of titles and authors, for visitors who type on an on-screen letter keyboard without an IME.

pypinyin resolves most polyphones from its phrase dictionary (长城 chang-cheng / 长大 zhang-da, 重庆 chong / 重要
zhong, 银行 hang / 行走 xing, 音乐 yue / 快乐 le). Two things it does not know are fixed here:

* Surnames read differently from the common word: 曾 (zeng, not ceng), 单 (shan), 解 (xie), 仇 (qiu), 朴 (piao),
  区 (ou), 查 (zha), 乐 (yue), 盖 (ge), 缪 (miao), 覃 (qin), 翟 (zhai), 召 (shao), 尉迟 (yuchi), 万俟 (moqi), 单于
  (chanyu). An author's name is read in surname mode.
* Authorship marks and nationality tags are not part of a name: "[英] 狄更斯 著" is read as 狄更斯.

Punctuation and brackets are dropped; Latin words and digits are kept in lower case, so "Python编程" →
"python bian cheng". Strings are segmented once and read word by word through a cache (initials are the first
letters of the syllables) because imports of 100,000 records spent most of their time here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from pypinyin.core import Pinyin

_DOUBLE_SURNAMES = {"尉迟": ["yu", "chi"], "万俟": ["mo", "qi"], "单于": ["chan", "yu"], "长孙": ["zhang", "sun"]}
_SURNAMES = {
    "曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "朴": "piao", "区": "ou", "查": "zha", "乐": "yue",
    "盖": "ge", "缪": "miao", "覃": "qin", "翟": "zhai", "召": "shao", "员": "yun", "过": "guo", "繁": "po",
    "宓": "fu", "秘": "bi", "祭": "zhai", "句": "gou", "黑": "he", "钟": "zhong", "种": "chong", "重": "chong",
}
_ROLE = re.compile(r"(主编|副主编|编著|编写组|编写|编译|编选|编绘|原著|改编|整理|校注|注释|选注|评注|口述|撰文|绘图|"
                   r"绘|译注|翻译|译|著|编|撰|等)$")
_NATIONALITY = re.compile(r"[\[［【(（〔][^\]］】)）〕]{1,6}[\]］】)）〕]")
_TOKEN = re.compile(r"[a-z0-9]+")
_NAME_SPLIT = re.compile(r"[,，;；、/|&]+|\s{2,}")


@dataclass(frozen=True)
class PinyinForms:
    full: str
    """Syllables separated by spaces: "hong lou meng"."""
    initials: str
    """First letters run together: "hlm"."""

    @property
    def compact(self) -> str:
        return self.full.replace(" ", "")


_SEGMENTER = Pinyin()


def _syllables(text: str) -> list[str]:
    """Segment once (pypinyin's own word segmentation), then read each word through a cache.

    pypinyin reads a string word by word after segmenting it, so reading each segment on its own gives the same
    syllables; titles of one catalog share most of their words, so an import of 100,000 titles looks up a few
    thousand words instead of converting 800,000 characters (tests/catalog check the equivalence).
    """
    if not text:
        return []
    out: list[str] = []
    for word in _SEGMENTER.seg(text):
        out.extend(_word_syllables(word))
    return out


@lru_cache(maxsize=262144)
def _word_syllables(word: str) -> tuple[str, ...]:
    out: list[str] = []
    for piece in lazy_pinyin(word, style=Style.NORMAL, errors="default", v_to_u=False):
        out.extend(_TOKEN.findall(unicodedata.normalize("NFKC", piece).lower()))
    return tuple(out)


def _reference_syllables(text: str) -> list[str]:
    """One pypinyin call for the whole string: what `_syllables` must equal (kept for the tests)."""
    out: list[str] = []
    for piece in lazy_pinyin(text, style=Style.NORMAL, errors="default", v_to_u=False):
        out.extend(_TOKEN.findall(unicodedata.normalize("NFKC", piece).lower()))
    return out


def _forms(syllables: list[str]) -> PinyinForms:
    return PinyinForms(" ".join(syllables), "".join(s[0] for s in syllables))


@lru_cache(maxsize=65536)
def title_pinyin(title: str) -> PinyinForms:
    """Pinyin of a title: "红楼梦（上）" → "hong lou meng shang" / "hlms"."""
    return _forms(_syllables(unicodedata.normalize("NFKC", title)))


def clean_author(name: str) -> str:
    """Drop nationality tags and authorship marks: "[英] 狄更斯 著" → "狄更斯"."""
    name = _NATIONALITY.sub(" ", unicodedata.normalize("NFKC", name)).strip()
    previous = None
    while previous != name:
        previous = name
        name = _ROLE.sub("", name).strip()
    return name


def _name_syllables(name: str) -> list[str]:
    name = clean_author(name)
    if not name:
        return []
    for double, reading in _DOUBLE_SURNAMES.items():
        if name.startswith(double):
            return reading + _syllables(name[2:])
    if name[0] in _SURNAMES:
        return [_SURNAMES[name[0]], *_syllables(name[1:])]
    return _syllables(name)


@lru_cache(maxsize=65536)
def author_pinyin(authors: str) -> PinyinForms:
    """Pinyin of one or more authors ("曾国藩, 单田芳 著"), each read in surname mode."""
    syllables: list[str] = []
    for name in _NAME_SPLIT.split(authors):
        syllables.extend(_name_syllables(name))
    return _forms(syllables)


def join_forms(*parts: PinyinForms) -> PinyinForms:
    """Pinyin of a string made of parts whose pinyin is known (the demo generator builds titles from words)."""
    syllables = [s for part in parts for s in part.full.split()]
    return _forms(syllables)
