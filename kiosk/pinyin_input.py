"""Chinese text from an on-screen letter keyboard: typed pinyin → candidate characters and words, as a small IME.

The kiosk has no physical keyboard and no system IME (an IME needs one, and a TextInput drops a wedge scanner's fast
keys), so a librarian editing today's announcement types pinyin on our keyboard and taps a candidate. The readings
come from pypinyin's tables (the catalog already uses them for search): `pinyin_dict` for characters, `phrases_dict`
for words. Those tables carry no frequencies, so candidates are ranked by a short list of the most used characters
(and words of a reading room's notices), then by GB2312 level 1 (the 3,755 common characters, in pinyin order)
before level 2; characters outside GB2312 are never offered. The tables are built on first use, off the UI thread
(about a second).
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from functools import cache

COMMON = (
    "的一是不了在人有我他这个们中来上大和国地到以说时要就出也得里后自会家可下而过天去能对小多然于心学么之都好看起发"
    "当没成只如事把还用第样道想作种开美总从无情己面最女但现前些所同日手又行意动方期它头经长儿回位分爱老因很给名法间"
    "知世什两次使身者被高已亲其进此话常与活正感见明问力理尔点文几定本公特做外孩相西果走将月十实向声车全信重三机工物"
    "气每并别真打太新比才便夫再书部水像眼等体却加电主界门利海受听表德少克代员许稿先口由死安写性马光白或住难望教命"
    "花结乐色更拉东神记处让母父应直字场平报友关放至张认接告入笑内英军候民岁往何度山觉路带万男边风解叫任金快原吃妈"
    "变通师立象数四失满战远格士音轻目条呢病始达深完今提求清王化空业思切怎非找片罗钱吗语元喜曾离飞科言干流欢约各即"
    "指合反题必该论交终林请医晚制球决传画保读运及则房早院量苦火布品近坐产答星精视五连司巴奇管类未朋且婚台夜青北队"
    "馆借阅览室闭消毒暂停周末活讲座欢迎到新图社区服务中心注意安全谢预约开放时间节假日延长临时维修通知"
)
"""The most used characters (roughly in order), then the words of a reading room's notices: ranked first."""

PHRASES_EXTRA = (
    "今天", "明天", "本周", "周末", "图书", "新书", "到馆", "借阅", "归还", "阅览室", "闭馆", "开馆", "消毒", "暂停",
    "活动", "讲座", "欢迎", "社区", "服务", "中心", "注意", "安全", "谢谢", "预约", "开放", "时间", "通知", "维修",
    "读书会", "晚上", "上午", "下午", "小时", "居民", "老人", "儿童", "停电", "停水", "临时", "报名",
)
"""Words a notice needs that pypinyin's phrase table lacks (it lists only words whose reading needs it)."""


@dataclass(frozen=True)
class Candidate:
    text: str
    consumes: int
    """How many of the typed letters this candidate stands for (the rest stay typed for the next choice)."""


def _plain(reading: str) -> str:
    """`lǜ` → `lv`: tone marks off, ü as v (as every pinyin keyboard types it)."""
    decomposed = unicodedata.normalize("NFD", reading).replace("u\u0308", "v")
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _gb_rank(ch: str) -> tuple[int, bytes] | None:
    try:
        code = ch.encode("gb2312")
    except UnicodeEncodeError:
        return None
    return (1 if code[0] < 0xD8 else 2), code


@dataclass(frozen=True)
class _Tables:
    chars: dict[str, tuple[str, ...]]
    words: dict[str, tuple[str, ...]]
    syllables: frozenset[str]
    word_rank: dict[str, tuple[bool, int, int]]


_build_lock = threading.Lock()


@cache
def _tables() -> _Tables:
    from pypinyin import Style, lazy_pinyin
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    common = {ch: n for n, ch in enumerate(COMMON)}

    def rank(ch: str) -> tuple[int, int, bytes]:
        gb = _gb_rank(ch) or (9, b"")
        return (0 if ch in common else gb[0], common.get(ch, 0), gb[1])

    # A character's first reading is its usual one (省 shěng before xǐng): offered under a rarer reading, it comes
    # after every character that is usually read so.
    by_syllable: dict[str, set[tuple[bool, str]]] = {}
    for codepoint, readings in pinyin_dict.items():
        ch = chr(codepoint)
        if _gb_rank(ch) is None:
            continue
        for n, reading in enumerate(readings.split(",")):
            by_syllable.setdefault(_plain(reading), set()).add((n > 0, ch))
    chars = {syl: tuple(dict.fromkeys(ch for _rare, ch in sorted(found, key=lambda f: (f[0], *rank(f[1])))))
             for syl, found in by_syllable.items()}
    words: dict[str, list[str]] = {}
    for word in PHRASES_EXTRA:
        words.setdefault("".join(lazy_pinyin(word, style=Style.NORMAL)).replace("ü", "v"), []).append(word)
    for word, word_readings in phrases_dict.items():
        if 2 <= len(word) <= 4 and all((_gb_rank(c) or (9,))[0] == 1 for c in word):
            key = "".join(_plain(r[0]) for r in word_readings)
            if word not in words.get(key, ()):
                words.setdefault(key, []).append(word)
    def word_rank(word: str) -> tuple[bool, int, int]:
        return word not in PHRASES_EXTRA, sum(rank(c)[0] for c in word), sum(common.get(c, len(COMMON)) for c in word)

    ranked = {key: tuple(sorted(found, key=word_rank)) for key, found in words.items()}
    return _Tables(chars, ranked, frozenset(chars), {w: word_rank(w) for found in ranked.values() for w in found})


def warm_up() -> None:
    """Build the tables now (call it on a worker thread before the keyboard is shown)."""
    with _build_lock:
        _tables()


def first_syllable(letters: str) -> str:
    """The longest pinyin syllable the letters start with ("xian" → "xian"; "xiane" → "xian"); "" when none."""
    syllables = _tables().syllables
    for end in range(min(6, len(letters)), 0, -1):
        if letters[:end] in syllables:
            return letters[:end]
    return ""


def candidates(letters: str, limit: int = 10) -> list[Candidate]:
    """Words whose whole reading is the typed letters (or starts with them), then characters for the first
    syllable, best first. Letters that spell no syllable give none."""
    letters = letters.lower()
    if not letters.isascii() or not letters.isalpha():
        return []
    tables = _tables()
    out: list[Candidate] = []
    seen: set[str] = set()

    def add(text: str, consumes: int) -> None:
        if text not in seen and len(out) < limit:
            seen.add(text)
            out.append(Candidate(text, consumes))

    for word in tables.words.get(letters, ()):
        add(word, len(letters))
    syllable = first_syllable(letters)
    # A word for a reading that starts with the letters typed so far ("jint" → 今天) helps after two syllables.
    if len(letters) > len(syllable) > 0:
        longer = [tables.words[k][0] for k in tables.words if k.startswith(letters) and len(k) <= len(letters) + 6]
        for word in sorted(longer, key=tables.word_rank.__getitem__)[:3]:
            add(word, len(letters))
    for ch in tables.chars.get(syllable, ()):
        add(ch, len(syllable))
    return out
