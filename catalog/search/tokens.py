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

What is not indexed, because no query can reach it (an import of 100,000 titles writes every token, so each one
costs; measured in docs/BENCHMARKS.md "Catalog import"):
* Latin, pinyin and identifier tokens of one or two letters: such a query term only looks at "^" tokens.
* A Chinese character that starts a bigram of the same run: a one-character query is a range over the tokens
  that start with it (the bigrams, plus the run's last character, which starts none), so "梦" still finds 红楼梦
  and "红" still finds it through 红楼. Publishers have no single characters: their bigrams are skipped then.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from typing import NamedTuple

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


_WORDS = re.compile("[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+|[a-z0-9]+")
"""CJK runs (the ranges of `_is_cjk`) and ASCII words; everything else separates them."""


def _split(text: str) -> tuple[list[str], list[str]]:
    """CJK runs and Latin words of a text (NFKC, lower case); punctuation and spaces separate them and are dropped."""
    cjk_runs: list[str] = []
    latin: list[str] = []
    for word in _WORDS.findall(unicodedata.normalize("NFKC", text).lower()):
        (cjk_runs if word[0] > "z" else latin).append(word)
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
    """Bigrams of a CJK run, and (`singles`) its last character: see the module notes for the other singles."""
    out = {run[i : i + 2] for i in range(len(run) - 1)}
    if singles:
        out.add(run[-1])
    return out


def compact_identifier(value: str) -> str:
    """Call numbers and ISBNs without punctuation, lower case: "I247.5/L84" → "i2475l84"."""
    return "".join(_LATIN.findall(unicodedata.normalize("NFKC", value).lower()))[:MAX_TOKEN]


@lru_cache(maxsize=16384)
def _pinyin_tokens(forms: PinyinForms, field: Field, start: Field) -> tuple[tuple[str, int], ...]:
    syllables = forms.full.split()
    if not syllables:
        return ()
    compact, initials = forms.compact, forms.initials
    tokens = {(START + compact[: MAX_TOKEN - 1], start), (START + initials[: MAX_TOKEN - 1], start)}
    offset = 0
    # From the second syllable on: the first suffix is the "^" token, which longer terms also look at.
    for i, syllable in enumerate(syllables[:MAX_SUFFIXES]):
        if i:
            suffix = compact[offset : offset + MAX_TOKEN]  # the syllables from the i-th on, run together
            if len(suffix) > SHORT_TERM:
                tokens.add((suffix, field))
            if len(initials) - i > SHORT_TERM:
                tokens.add((initials[i : i + MAX_TOKEN], field))
        offset += len(syllable)
    return tuple(tokens)


def _text_tokens(text: str, field: Field, singles: bool) -> tuple[tuple[str, int], ...]:
    tokens: set[str] = set()
    cjk_runs, latin = _split(text)
    for run in cjk_runs:
        tokens.update(grams(run, singles=singles))
    tokens.update(w[:MAX_TOKEN] for w in latin if len(w) > SHORT_TERM)
    return tuple((t, field) for t in tokens)


_name_tokens = lru_cache(maxsize=16384)(_text_tokens)
"""Authors and publishers repeat across a catalog (a few hundred publishers for 100,000 titles): cut them once."""


def title_tokens(
    *,
    title: str,
    authors: str,
    publisher: str,
    isbn13: str | None,
    call_number: str,
    title_pinyin: PinyinForms,
    author_pinyin: PinyinForms,
) -> list[tuple[str, int]]:
    """Every (token, field) a title is found by, each once (the parts have distinct fields, so no set is needed)."""
    tokens = [*_text_tokens(title, Field.TITLE, True), *_name_tokens(authors, Field.AUTHOR, True),
              *_name_tokens(publisher, Field.PUBLISHER, False),
              *_pinyin_tokens(title_pinyin, Field.TITLE_PINYIN, Field.TITLE_START),
              *_pinyin_tokens(author_pinyin, Field.AUTHOR_PINYIN, Field.AUTHOR_START)]
    identifiers: set[str] = set()
    if isbn13:
        identifiers.add(compact_identifier(isbn13))
        if isbn13.startswith("978"):
            with suppress(isbn_rules.InvalidIsbn):
                identifiers.add(isbn_rules.to_isbn10(isbn13).lower())
    if call_number:
        identifiers.add(compact_identifier(call_number))
    tokens.extend((t, Field.IDENTIFIER) for t in identifiers if len(t) > SHORT_TERM)
    return tokens


AS_SUFFIX: dict[int, int] = {Field.TITLE_START: Field.TITLE_PINYIN, Field.AUTHOR_START: Field.AUTHOR_PINYIN}
"""A longer pinyin term that matches a "^" token matched the first syllable suffix, which is not stored twice."""


class TokenRange(NamedTuple):
    low: str
    high: str | None
    """None: the token equals `low`; otherwise `low <= token < high`."""
    start_as_suffix: bool = False
    """Count "^" fields as the suffix fields they stand for (`AS_SUFFIX`)."""
    skip_field: int | None = None


def _after(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def token_ranges(term: Term) -> list[TokenRange]:
    """Where in the index a term's postings are; the same on SQLite (BINARY) and PostgreSQL ("C" collation)."""
    if term.single_cjk:
        # Publishers index no single characters: their bigrams must not answer a one-character query.
        return [TokenRange(term.value, _after(term.value), skip_field=Field.PUBLISHER)]
    if not term.prefix:
        return [TokenRange(term.value, None)]
    if len(term.value) <= SHORT_TERM:
        return [TokenRange(START + term.value, _after(START + term.value))]
    start = START + term.value[: MAX_TOKEN - 1]
    return [TokenRange(term.value, _after(term.value)), TokenRange(start, _after(start), start_as_suffix=True)]


@dataclass(frozen=True)
class Term:
    """One required part of a query: an exact token (a Chinese gram) or a prefix (Latin letters, digits)."""

    value: str
    prefix: bool
    raw: str = ""
    """The query word it came from, for exact identifier look-ups (ISBN, barcode)."""

    @property
    def single_cjk(self) -> bool:
        """A one-character Chinese term: matched as a range over the tokens that start with it (module notes)."""
        return len(self.value) == 1 and _is_cjk(self.value)

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
