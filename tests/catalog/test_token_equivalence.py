"""The leaner index (no unreachable tokens, no singles that start a bigram, no first pinyin suffix) answers every
query exactly as the full index did: same titles, same best weight per term.

`_reference_tokens` and `_reference_best` are the tokenizer and matcher as they were before the import was made
faster (commit cb3bc86); the current `title_tokens` with `token_ranges` must agree with them on random titles and
on queries cut from those titles, their pinyin and random letters. The search tests then check the SQL of both
query paths on SQLite and PostgreSQL.
"""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from catalog import isbn as isbn_rules
from catalog.db import Database
from catalog.model import Title
from catalog.pinyin import PinyinForms, author_pinyin, title_pinyin
from catalog.search import search_catalog
from catalog.search.query import match_scores
from catalog.search.tokens import (
    AS_SUFFIX,
    MAX_SUFFIXES,
    MAX_TOKEN,
    SHORT_TERM,
    START,
    WEIGHTS,
    Field,
    Term,
    compact_identifier,
    query_terms,
    title_tokens,
    token_ranges,
)
from tests.catalog.conftest import SmallCatalog

# --- the previous tokenizer, kept verbatim in behaviour -------------------------------------------------------


def _reference_split(text: str) -> tuple[list[str], list[str]]:
    text = unicodedata.normalize("NFKC", text).lower()
    cjk_runs: list[str] = []
    latin: list[str] = []
    cjk: list[str] = []
    word: list[str] = []
    for ch in text:
        code = ord(ch)
        if 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x2FFFF:
            if word:
                latin.append("".join(word))
                word = []
            cjk.append(ch)
            continue
        if cjk:
            cjk_runs.append("".join(cjk))
            cjk = []
        if ch.isascii() and ch.isalnum():
            word.append(ch)
        elif word:
            latin.append("".join(word))
            word = []
    if cjk:
        cjk_runs.append("".join(cjk))
    if word:
        latin.append("".join(word))
    return cjk_runs, latin


def _reference_pinyin(forms: PinyinForms, field: Field, start: Field) -> set[tuple[str, int]]:
    syllables = forms.full.split()
    if not syllables:
        return set()
    out = {(START + forms.compact[: MAX_TOKEN - 1], start), (START + forms.initials[: MAX_TOKEN - 1], start)}
    for i in range(min(len(syllables), MAX_SUFFIXES)):
        out.add(("".join(syllables[i:])[:MAX_TOKEN], field))
        out.add((forms.initials[i:][:MAX_TOKEN], field))
    return out


def _reference_tokens(title: str, authors: str, publisher: str, isbn13: str | None,
                      call_number: str) -> set[tuple[str, int]]:
    tokens: set[tuple[str, int]] = set()
    for text, field, singles in ((title, Field.TITLE, True), (authors, Field.AUTHOR, True),
                                 (publisher, Field.PUBLISHER, False)):
        cjk_runs, latin = _reference_split(text)
        for run in cjk_runs:
            if singles:
                tokens.update((c, field) for c in run)
            tokens.update((run[i : i + 2], field) for i in range(len(run) - 1))
        tokens.update((w[:MAX_TOKEN], field) for w in latin)
    tokens |= _reference_pinyin(title_pinyin(title), Field.TITLE_PINYIN, Field.TITLE_START)
    tokens |= _reference_pinyin(author_pinyin(authors), Field.AUTHOR_PINYIN, Field.AUTHOR_START)
    if isbn13:
        tokens.add((compact_identifier(isbn13), Field.IDENTIFIER))
        if isbn13.startswith("978") and isbn_rules.is_valid(isbn13):
            tokens.add((isbn_rules.to_isbn10(isbn13).lower(), Field.IDENTIFIER))
    if call_number and compact_identifier(call_number):
        tokens.add((compact_identifier(call_number), Field.IDENTIFIER))
    return {(t, f) for t, f in tokens if t and t != START}


def _reference_best(tokens: set[tuple[str, int]], term: Term) -> int | None:
    if term.prefix:
        low = term.value if len(term.value) > SHORT_TERM else START + term.value
        high = low[:-1] + chr(ord(low[-1]) + 1)
        found = [WEIGHTS[f] for t, f in tokens if low <= t < high]
    else:
        found = [WEIGHTS[f] for t, f in tokens if t == term.value]
    return max(found, default=None)


# --- the current index through `token_ranges`, as the SQL of both query paths reads it --------------------------


def _current_best(tokens: set[tuple[str, int]], term: Term) -> int | None:
    found: list[int] = []
    for span in token_ranges(term):
        for token, field in tokens:
            inside = token == span.low if span.high is None else span.low <= token < span.high
            if not inside or field == span.skip_field:
                continue
            found.append(WEIGHTS[AS_SUFFIX.get(field, field) if span.start_as_suffix else field])
    return max(found, default=None)


_CHINESE = "红楼梦中国历史十五讲人民文学出版社长城重庆银行音乐曾单曹雪芹党建读物基层工作手册编程从入门到实践"
_TEXT = st.text(alphabet=st.sampled_from(_CHINESE + "abcxyzPYTHON0123456789 ，·：-()[]《》é"), max_size=24)
_ISBNS = st.sampled_from([None, "9787020002207", "9787301058473", "9791032305690", "9787509900017"])


@st.composite
def _title_and_queries(draw: st.DrawFn) -> tuple[dict[str, str | None], list[str]]:
    title = draw(_TEXT.filter(lambda t: t.strip() != ""))
    record: dict[str, str | None] = {"title": title, "authors": draw(_TEXT), "publisher": draw(_TEXT),
                                     "isbn13": draw(_ISBNS), "call_number": draw(st.sampled_from(
                                         ["", "I242.4/C12", "K2", "TP311.561/M21"]))}
    sources = [title, str(record["authors"]), str(record["publisher"]), title_pinyin(title).compact,
               title_pinyin(title).initials, author_pinyin(str(record["authors"])).compact,
               author_pinyin(str(record["authors"])).initials, str(record["call_number"]), str(record["isbn13"] or "")]
    queries: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        source = draw(st.sampled_from(sources))
        start = draw(st.integers(0, max(0, len(source))))
        queries.append(source[start : start + draw(st.integers(1, 34))])
    queries.append(draw(st.text(alphabet=st.sampled_from(_CHINESE[:12] + "hlmzgls"), min_size=1, max_size=4)))
    return record, queries


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_title_and_queries())
def test_the_lean_index_answers_every_query_like_the_full_one(case: tuple[dict[str, str | None], list[str]]) -> None:
    record, queries = case
    title, authors, publisher = str(record["title"]), str(record["authors"]), str(record["publisher"])
    call_number = str(record["call_number"])
    full = _reference_tokens(title, authors, publisher, record["isbn13"], call_number)
    lean = set(title_tokens(title=title, authors=authors, publisher=publisher, isbn13=record["isbn13"],
                            call_number=call_number, title_pinyin=title_pinyin(title),
                            author_pinyin=author_pinyin(authors)))
    assert lean <= full
    for query in queries:
        for term in query_terms(query):
            assert _current_best(lean, term) == _reference_best(full, term), (query, term)
            # An index written before this change (no reindex after the upgrade) answers the same too.
            assert _current_best(full, term) == _reference_best(full, term), (query, term)


def test_the_lean_index_is_smaller() -> None:
    args = {"title": "中国历史十五讲", "authors": "张岂之 主编", "publisher": "北京大学出版社",
            "isbn13": "9787301058473", "call_number": "K20/Z15"}
    lean = set(title_tokens(**args, title_pinyin=title_pinyin(args["title"]),  # type: ignore[arg-type]
                            author_pinyin=author_pinyin(args["authors"])))
    full = _reference_tokens(**args)  # type: ignore[arg-type]
    assert len(lean) < 0.8 * len(full)
    assert ("史", Field.TITLE) not in lean and ("讲", Field.TITLE) in lean  # 史 starts 史十; 讲 starts nothing


def test_one_character_and_whole_pinyin_queries_through_both_query_paths(database: Database,
                                                                       small_catalog: SmallCatalog) -> None:
    """Both SQL paths: `search_catalog` (one statement) and `match_scores` (driver cursor + numpy)."""
    cases = {"梦": {"红楼梦"}, "楼": {"红楼梦"}, "版": set(), "芹": {"红楼梦", "曹雪芹传"},
             "hongloumeng": {"红楼梦"}, "caoxueqin": {"红楼梦", "曹雪芹传"}, "zhongguolishi": {"中国历史十五讲"}}
    with database.read() as s:
        names = {row.id: row.title for row in s.execute(select(Title.id, Title.title))}
        for query, expected in cases.items():
            page = search_catalog(s, query)
            assert {h.title for h in page.hits} == expected, query
            ids, scores = match_scores(s, query_terms(query))
            assert {names[i] for i in ids.tolist()} == expected, query
            by_id = {h.title_id: h.score for h in page.hits}
            assert dict(zip(ids.tolist(), scores.tolist(), strict=True)) == by_id, query
    # The title starts with 曹雪芹, the other only names him as author: title weight beats author weight.
    with database.read() as s:
        assert [h.title for h in search_catalog(s, "caoxueqin").hits] == ["曹雪芹传", "红楼梦"]
