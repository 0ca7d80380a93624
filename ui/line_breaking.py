"""Where a wrapping label may break Chinese text (禁则, kinsoku): Kivy breaks a line without spaces at any character,
so "，全天开放" or "。" could start a line and "《" end one. GB/T 15834 and common Chinese typesetting practice (W3C
"Requirements for Chinese Text Layout", clq-req §3.1.7) keep closing punctuation off the start of a line and opening
punctuation off its end; the fix here is to push the character before a forbidden break down to the next line
(推出), which never makes a line wider than the label.

Break opportunities (a simplified UAX #14): after a space, and on either side of a CJK character; never inside a run
of Latin letters, digits and their punctuation ("0.8 km", "9:00-21:00", "ISBN 978-7-…" break only at their spaces),
unless such a run is wider than the whole line, which then breaks at any character that keeps the punctuation rules.
A date is one word too: "2026年12月22日" is all ideographs and digits, "22 Dec 2026" has spaces, yet a line that ends
in "2026年12月" or "22 Dec" makes the reader join the halves (the same rule as for a Latin run: a date wider than the
whole line still breaks). So are the few two-character words printed beside dates and titles (应还, 逾期: `WORDS`).
No line starts or ends with a lone ideograph of a Chinese run (孤字): a title beside Latin text ("借出 …学习纲要  due
22 Dec") must not leave "要" alone before "due", and a paragraph must not end in one character on a line of its own.

Pure functions of text and a width measure, so every rule is testable without a window; `WrapLabel` measures with
its own font.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from functools import lru_cache

CLOSING = frozenset(
    "，。、．：；！？）》」』】〕〉〗〙〛｝］”’…·・％‰℃々"  # full-width closing and middle punctuation
    ",.:;!?)]}%"  # their half-width forms, as they follow Chinese text in mixed titles
)
"""Never at the start of a line."""
OPENING = frozenset("（《「『【〔〈〖〘〚｛［“‘￥¥([{")
"""Never at the end of a line."""
INSEPARABLE = frozenset("—…")
"""Doubled in Chinese (破折号 ——, 省略号 ……): never split between the two halves."""

GLUE = frozenset("\u00a0\u202f\u2060\ufeff")
"""No-break space, narrow no-break space, word joiner: screens glue "约\u00a00.8\u00a0公里" and a separator to what
it follows with these, and no line breaks on either side of one."""

Measure = Callable[[str], float]

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_SPACE = "[ \u00a0\u202f]+"
DATE = re.compile(
    r"\d{1,4}年\d{1,2}月(?:\d{1,2}[日号])?|\d{1,2}月\d{1,2}[日号]"  # 2026年12月22日, 2026年12月, 12月22日
    rf"|\b\d{{1,2}}{_SPACE}{_MONTH}(?:{_SPACE}\d{{4}})?\b"  # 22 Dec 2026, 22 Dec
    rf"|\b{_MONTH}{_SPACE}\d{{1,2}}(?:,{_SPACE}\d{{4}})?\b"  # Dec 22, 2026
)
"""Dates the screens show (`KioskApp.fmt_date`) and the forms people write: no line breaks inside one."""

DUE = re.compile(rf"(?:应还|[Dd]ue){_SPACE}(?:{DATE.pattern})")
"""A due date with the word that says what it is: the receipt in large text read "…学习纲要  应还" / "2026年12月22日",
and the lone date on its line looked like an entry of its own."""

WORDS = re.compile("应还|归还|借出|续借|逾期|在馆|可借")
"""Two-character words the screens print beside titles and dates ("应还 2026年12月22日", "已逾期"): a line that ends
in "应" leaves the reader with half a word and the next line starting "还 2026…". No break inside one."""

PROMPT_WORDS = re.compile("身份证|社保卡|读卡器|读卡区|二维码|扫描|条码|图书|借书|还书|借阅|馆员|凭条|手机|屏幕|背面")
"""Words of the kiosk's own prompts: large text split "请扫" / "描…", and an elder reader stops at half a word.
(Not a dictionary: titles and names break by the rules alone.)"""

MASKED_NAME = re.compile(r"[\u4e00-\u9fff]\*+[\u4e00-\u9fff]?")
"""A masked name ("张*", "张*华"): the consent text in large text ended a line in "张" and began the next "*）"."""

QUANTITY = re.compile(
    r"\d+(?:/\d+)?[ \u00a0]?(?:本|册|人|次|天|分钟|小时|元|层|排|架|页|条)"  # 已借 5/5 本, 12 人, 35 分钟
    r"|\b\d+ of \d+ books?\b|\b\d+[ \u00a0](?:books?|min|days?|people)\b"  # (5 of 5 books), 12 people
)
"""A number and its unit: "（已借 5/5" / "本）" left the unit alone on the last line."""

SHORT_TITLE = re.compile("《[^《》]{1,8}》")
"""A short book title in its marks: "《红楼" / "梦》" splits a name readers know whole. A longer one may break."""


@lru_cache(maxsize=512)
def _unbreakable_spans(text: str, loose: bool = False) -> tuple[tuple[int, int], ...]:
    """Dates (with their "due", unless `loose`: a line too narrow for both), `WORDS`, `PROMPT_WORDS`, masked names,
    quantities and short titles: spans no line may break inside."""
    patterns: tuple[re.Pattern[str], ...] = (DATE, WORDS, PROMPT_WORDS, MASKED_NAME, QUANTITY, SHORT_TITLE)
    patterns = patterns if loose else (DUE, *patterns)
    return tuple(m.span() for pattern in patterns for m in pattern.finditer(text))


_SKIPPED = " \t\u00a0\u202f" + string.punctuation
"""What may stand between a Chinese run and the text it meets: spaces and ASCII punctuation."""


@lru_cache(maxsize=512)
def _orphan_breaks(text: str) -> frozenset[int]:
    """Breaks that would leave one ideograph of a CJK run on its own: after the run's first ideograph (up to its
    second) and before its last (from just after the one before it), at the ends of the run that meet a space and
    then Latin text, or the start or end of the text. A run is a maximal stretch of `is_cjk` characters, so
    punctuation inside it ("一层，全天开放") joins it, and a space or Latin text ends it."""
    breaks: set[int] = set()
    start, n = 0, len(text)
    while start < n:
        if not is_cjk(text[start]):
            start += 1
            continue
        end = start
        while end < n and is_cjk(text[end]):
            end += 1
        ideographs = [k for k in range(start, end) if _is_ideograph(text[k])]
        if len(ideographs) >= 2:
            # Only where the run meets a space before Latin text, or the end of the text: "或ISBN" is glued to its
            # Latin neighbour and not alone (keeping it from "作者" would split "作" / "者或ISBN" instead), and
            # "（如 张*）" goes on in Chinese after its space.
            # Chinese goes on only if an ideograph follows: "· 索书号" and "播音：王芳 · 35" meet separators, and
            # "(HLM finds 红楼梦), or" meets English after its ASCII punctuation.
            before = text[:start].rstrip(_SKIPPED)
            after = text[end:].lstrip(_SKIPPED)
            if start == 0 or (text[start - 1] in _SKIPPED and not (before and _is_ideograph(before[-1]))):
                breaks.update(range(ideographs[0] + 1, ideographs[1] + 1))
            if end == n or (text[end] in _SKIPPED and not (after and _is_ideograph(after[0]))):
                breaks.update(range(ideographs[-2] + 1, ideographs[-1] + 1))
        start = end
    return frozenset(breaks)


def _is_ideograph(ch: str) -> bool:
    """A CJK letter (hanzi, kana, hangul), not CJK punctuation."""
    return ch.isalpha() and is_cjk(ch)


def is_cjk(ch: str) -> bool:
    """Characters a line may break before or after: ideographs, kana, Hangul, and CJK and full-width punctuation."""
    code = ord(ch)
    return (
        0x2E80 <= code <= 0x9FFF  # radicals, CJK punctuation, kana, CJK unified ideographs (and extension A)
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0xFE30 <= code <= 0xFE4F  # CJK compatibility forms
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0x20000 <= code <= 0x3FFFF  # supplementary ideographs
        # Chinese punctuation outside those blocks (“”, ……, ——, ·), but not ASCII: "9:00" is one word.
        or (not ch.isascii() and (ch in CLOSING or ch in OPENING or ch in INSEPARABLE))
    )


def may_break(text: str, i: int, *, anywhere: bool = False, loose: bool = False) -> bool:
    """May a line end before `text[i]`? `anywhere` allows breaks inside Latin runs (for a run wider than the line),
    `loose` between a due date and its word (for a line too narrow to hold both)."""
    if i <= 0 or i >= len(text):
        return False
    before, after = text[i - 1], text[i]
    if after == " " or after in CLOSING or before in GLUE or after in GLUE:
        return False
    if before in INSEPARABLE and after == before:
        return False
    if not anywhere and any(start < i < end for start, end in _unbreakable_spans(text, loose)):
        return False
    if not anywhere and i in _orphan_breaks(text):
        return False
    if before == " ":
        j = i - 1
        while j >= 0 and text[j] == " ":
            j -= 1
        return j >= 0 and text[j] not in OPENING  # "《 " must not end a line either
    if before in OPENING:
        return False
    return anywhere or is_cjk(before) or is_cjk(after)


def _pieces(text: str, *, anywhere: bool, loose: bool = False) -> list[str]:
    cuts = [i for i in range(1, len(text)) if may_break(text, i, anywhere=anywhere, loose=loose)]
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]


def _fits(line: str, width: float, measure: Measure) -> bool:
    # A space at the end of a line is not drawn (the label drops it), so it takes no width.
    return measure(line.rstrip(" ")) <= width


def break_lines(paragraph: str, width: float, measure: Measure) -> list[str]:
    """The lines of one paragraph (no newlines) no wider than `width`, greedily, breaking only where `may_break`
    allows. `"".join(result) == paragraph`: a space at a break stays at the end of its line. A piece that cannot
    be broken anywhere and is still too wide (a run of closing punctuation) overflows on a line of its own."""
    lines: list[str] = []
    line = ""
    for piece in _pieces(paragraph, anywhere=False):
        if _fits(line + piece, width, measure):
            line += piece
            continue
        if line:
            lines.append(line)
            line = ""
        if _fits(piece, width, measure):
            line = piece
            continue
        # Wider than the line: a due date parts from its word first; a Latin run (a URL, a long English word) or a
        # date still too wide breaks where the punctuation rules allow.
        for loose_part in _pieces(piece, anywhere=False, loose=True):
            parts = [loose_part] if _fits(loose_part, width, measure) else _pieces(loose_part, anywhere=True)
            for part in parts:
                if line and not _fits(line + part, width, measure):
                    lines.append(line)
                    line = ""
                line += part
    if line or not lines:
        lines.append(line)
    return lines


def wrap_text(text: str, width: float, measure: Measure) -> str:
    """`text` with a newline at each line break, for a label that draws the lines as given. Spaces at a break are
    dropped (they would count toward the line's width and shift a centred line)."""
    return "\n".join(
        line.rstrip(" ") if n < len(lines) - 1 else line
        for paragraph in text.split("\n")
        for lines in [break_lines(paragraph, width, measure)]
        for n, line in enumerate(lines)
    )
