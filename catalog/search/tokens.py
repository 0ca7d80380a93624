"""How titles are cut into index tokens, and queries into terms: pure functions, the same on both databases.

Why our own tokens: SQLite FTS5's trigram tokenizer and PostgreSQL's pg_trgm both need three characters, but the
Chinese words visitors type are mostly two (历史, 党建, 经济). So each Chinese run is indexed as its single
characters and its bigrams; a query of n ≥ 2 characters becomes its n−1 bigrams, all required. Latin words, digits
and identifiers (ISBN, call number without punctuation) are indexed whole and matched by prefix.

Pinyin is typed on an on-screen keyboard without spaces, from any word of the title, letter by letter: "honglou",
"loumeng", "hlm". So the compact pinyin and the initials are indexed from every syllable onwards ("hongloumeng",
"loumeng", "meng"; "hlm", "lm", "m"), and a typed term matches by prefix (a btree range scan on both databases).
One- and two-letter terms would match a tenth of the catalog that way, so they match only the start of a title or
author ("^" tokens): results still update from the first letter, and stay fast.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum

from catalog import isbn as isbn_rules
from catalog.pinyin import PinyinForms

MAX_TOKEN = 32
MAX_SUFFIXES = 16
"""Syllable suffixes indexed per title (a visitor types the start of some word within the first sixteen)."""
SHORT_TERM = 2
START = "^"


class Field(IntEnum):
    TITLE = 1
    AUTHOR = 2
    PUBLISHER = 3
    TITLE_PINYIN = 4
    AUTHOR_PINYIN = 5
    IDENTIFIER = 6
    TITLE_START = 7
    AUTHOR_START = 8


WEIGHTS: dict[int, int] = {
    Field.TITLE: 10,
    Field.AUTHOR: 6,
    Field.PUBLISHER: 2,
    Field.TITLE_PINYIN: 8,
    Field.AUTHOR_PINYIN: 5,
    Field.IDENTIFIER: 9,
    Field.TITLE_START: 12,
    Field.AUTHOR_START: 6,
}


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x2FFFF


_LATIN = re.compile(r"[a-z0-9]+")


def _runs(text: str) -> Iterator[tuple[bool, str]]:
    """Split normalised text into (is_cjk, run) pieces; punctuation and spaces separate runs and are dropped."""
    text = unicodedata.normalize("NFKC", text).lower()
    cjk: list[str] = []
    for ch in text:
        if _is_cjk(ch):
            cjk.append(ch)
            continue
        if cjk:
            yield True, "".join(cjk)
            cjk = []
        if ch.isascii() and ch.isalnum():
            yield False, ch
        else:
            yield False, " "
    if cjk:
        yield True, "".join(cjk)


def _split(text: str) -> tuple[list[str], list[str]]:
    """CJK runs and Latin words of a text."""
    cjk_runs: list[str] = []
    latin: list[str] = []
    current: list[str] = []
    for is_cjk, run in _runs(text):
        if is_cjk:
            if current:
                latin.append("".join(current))
                current = []
            cjk_runs.append(run)
        elif run == " ":
            if current:
                latin.append("".join(current))
                current = []
        else:
            current.append(run)
    if current:
        latin.append("".join(current))
    return cjk_runs, latin


def cover(run: str) -> list[str]:
    """The bigrams a query needs: non-overlapping, plus the last one for an odd length ("中国历史" → 中国, 历史).

    Every bigram of a title is indexed, so any cover finds it; fewer terms means fewer postings to intersect,
    which is what a long, common query ("本书编写组", a whole title) costs.
    """
    if len(run) == 1:
        return [run]
    out = [run[i : i + 2] for i in range(0, len(run) - 1, 2)]
    if len(run) % 2:
        out.append(run[-2:])
    return out


def grams(run: str, *, singles: bool = True) -> set[str]:
    out = set(run) if singles else set()
    out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


def compact_identifier(value: str) -> str:
    """Call numbers and ISBNs without punctuation, lower case: "I247.5/L84" → "i2475l84"."""
    return "".join(_LATIN.findall(unicodedata.normalize("NFKC", value).lower()))[:MAX_TOKEN]


def _pinyin_tokens(forms: PinyinForms, field: Field, start: Field) -> Iterator[tuple[str, int]]:
    syllables = forms.full.split()
    if not syllables:
        return
    yield START + forms.compact[: MAX_TOKEN - 1], start
    yield START + forms.initials[: MAX_TOKEN - 1], start
    for i in range(min(len(syllables), MAX_SUFFIXES)):
        yield "".join(syllables[i:])[:MAX_TOKEN], field
        yield forms.initials[i:][:MAX_TOKEN], field


def title_tokens(
    *,
    title: str,
    authors: str,
    publisher: str,
    isbn13: str | None,
    call_number: str,
    title_pinyin: PinyinForms,
    author_pinyin: PinyinForms,
) -> set[tuple[str, int]]:
    """Every (token, field) a title is found by."""
    tokens: set[tuple[str, int]] = set()
    for text, field, singles in ((title, Field.TITLE, True), (authors, Field.AUTHOR, True),
                                 (publisher, Field.PUBLISHER, False)):
        cjk_runs, latin = _split(text)
        for run in cjk_runs:
            tokens.update((g, field) for g in grams(run, singles=singles))
        tokens.update((w[:MAX_TOKEN], field) for w in latin)
    tokens.update(_pinyin_tokens(title_pinyin, Field.TITLE_PINYIN, Field.TITLE_START))
    tokens.update(_pinyin_tokens(author_pinyin, Field.AUTHOR_PINYIN, Field.AUTHOR_START))
    if isbn13:
        tokens.add((compact_identifier(isbn13), Field.IDENTIFIER))
        if isbn13.startswith("978") and isbn_rules.is_valid(isbn13):
            tokens.add((isbn_rules.to_isbn10(isbn13).lower(), Field.IDENTIFIER))
    if call_number and compact_identifier(call_number):
        tokens.add((compact_identifier(call_number), Field.IDENTIFIER))
    return {(t, f) for t, f in tokens if t and t != START}


@dataclass(frozen=True)
class Term:
    """One required part of a query: an exact token (a Chinese gram) or a prefix (Latin letters, digits)."""

    value: str
    prefix: bool
    raw: str = ""
    """The query word it came from, for exact identifier look-ups (ISBN, barcode)."""

    @property
    def upper_bound(self) -> str:
        """Smallest string greater than every string starting with `value` (terms are ASCII here)."""
        return self.value[:-1] + chr(ord(self.value[-1]) + 1)


def query_terms(query: str) -> list[Term]:
    """Terms of a visitor's query; each must match for a title to be found."""
    terms: list[Term] = []
    for chunk in unicodedata.normalize("NFKC", query).split():
        if isbn_rules.looks_like_isbn(chunk) and isbn_rules.is_valid(chunk):
            terms.append(Term(isbn_rules.to_isbn13(chunk), prefix=False, raw=chunk))
            continue
        cjk_runs, latin = _split(chunk)
        if cjk_runs and not latin and not any(c.isascii() and c.isalnum() for c in chunk):
            for run in cjk_runs:
                terms.extend(Term(g, prefix=False) for g in cover(run))
            continue
        # Identifiers keep their letters and digits together ("I247.5/L84", "TS0001234"); mixed chunks such as
        # "Python编程" become their Chinese grams plus their Latin words.
        if not cjk_runs:
            compacted = compact_identifier(chunk)
            if compacted:
                terms.append(Term(compacted, prefix=True, raw=chunk))
            continue
        for run in cjk_runs:
            terms.extend(Term(g, prefix=False) for g in cover(run))
        terms.extend(Term(w[:MAX_TOKEN], prefix=True, raw=w) for w in latin)
    return _dedupe(terms)


def _dedupe(terms: Iterable[Term]) -> list[Term]:
    seen: set[tuple[str, bool]] = set()
    out: list[Term] = []
    for term in terms:
        if (term.value, term.prefix) not in seen:
            seen.add((term.value, term.prefix))
            out.append(term)
    return out
