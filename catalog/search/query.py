"""Catalog search: one query plan for SQLite and PostgreSQL over the `title_tokens` index.

Each query term yields the titles that contain it (an index range scan), with the best field weight it matched in
(title beats author beats publisher); a title is a hit when it matches every term, and hits are ranked by the sum of
their weights, then shorter titles first (the closer match), then by id for a stable order across pages. A term that
is exactly an item barcode also finds that copy's title, so a scanned or typed barcode works in the same box.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Integer, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from catalog.model import Item, ItemStatus, Title
from catalog.search.model import TitleToken
from catalog.search.tokens import AS_SUFFIX, WEIGHTS, Field, Term, query_terms, token_ranges

BARCODE_WEIGHT = 20
GONE = (ItemStatus.WITHDRAWN.value, ItemStatus.LOST.value)
"""Copies that are no longer on any shelf: they neither make a title visible nor count as copies."""


@dataclass(frozen=True)
class CatalogHit:
    title_id: int
    title: str
    authors: str
    publisher: str
    pub_year: int | None
    isbn13: str | None
    category: str
    call_number: str
    clc_class: str
    copies: int
    available: int
    shelf_locations: tuple[str, ...]
    score: int = 0


@dataclass(frozen=True)
class CatalogPage:
    query: str
    hits: tuple[CatalogHit, ...]
    total: int
    offset: int


def _term_select(index: int, term: Term, within: Sequence[int] | None = None) -> list[Any]:
    token = TitleToken.token
    selects: list[Any] = []
    for span in token_ranges(term):
        weights = {f: WEIGHTS[AS_SUFFIX.get(f, f)] for f in WEIGHTS} if span.start_as_suffix else WEIGHTS
        condition: ColumnElement[bool] = (token == span.low if span.high is None
                                          else and_(token >= span.low, token < span.high))
        if span.skip_field is not None:
            condition = and_(condition, TitleToken.field != span.skip_field)
        if within is not None:
            condition = and_(condition, TitleToken.title_id.in_(within))
        weight = case(weights, value=TitleToken.field, else_=1)
        selects.append(select(TitleToken.title_id.label("title_id"), literal(index, Integer).label("term"),
                              weight.label("w")).where(condition))
    if term.prefix and term.raw:
        raw = term.raw.strip()
        selects.append(
            select(Item.title_id.label("title_id"), literal(index, Integer).label("term"),
                   literal(BARCODE_WEIGHT, Integer).label("w"))
            .where(or_(Item.barcode == raw, Item.barcode == raw.upper()))
        )
        if within is not None:
            selects[-1] = selects[-1].where(Item.title_id.in_(within))
    return selects


COUNT_CAP = 5000
"""Postings counted per term to find the rarest one; beyond this a term is just "common"."""
PROBE_LIMIT = 4000
"""Candidates few enough to check the next term by id (index probes) instead of reading all its postings."""
_IN_CHUNK = 900


_WEIGHT_TABLE = np.zeros(max(WEIGHTS) + 1, dtype=np.int64)
for _field, _weight in WEIGHTS.items():
    _WEIGHT_TABLE[_field] = _weight

Scores = tuple["np.ndarray[Any, Any]", "np.ndarray[Any, Any]"]
"""(sorted unique title ids, their scores) as int64 arrays."""


def _empty() -> Scores:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)


def _best(session: Session, term: Term, within: Sequence[int] | None = None) -> Scores:
    """Best weight per title for one term (optionally only among `within`).

    Postings are read through the driver's cursor and reduced with numpy: a common word has 10,000–30,000
    postings, and a SQLAlchemy Row plus a Python dict update per posting measured slower than the query itself.
    """
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    queries: list[tuple[str, list[Any]]] = []
    for span in token_ranges(term):
        field = (f"CASE field WHEN {int(Field.TITLE_START)} THEN {int(Field.TITLE_PINYIN)} "
                 f"WHEN {int(Field.AUTHOR_START)} THEN {int(Field.AUTHOR_PINYIN)} ELSE field END"
                 if span.start_as_suffix else "field")
        if span.high is None:
            sql = f"SELECT title_id, {field} FROM title_tokens WHERE token = {mark}"
            params: list[Any] = [span.low]
        else:
            sql = f"SELECT title_id, {field} FROM title_tokens WHERE token >= {mark} AND token < {mark}"
            params = [span.low, span.high]
        if span.skip_field is not None:
            sql += f" AND field <> {int(span.skip_field)}"
        queries.append((sql, params))
    chunks = [None] if within is None else [within[i : i + _IN_CHUNK] for i in range(0, len(within), _IN_CHUNK)]
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    rows: list[Any] = []
    try:
        for sql, params in queries:
            for chunk in chunks:
                if chunk is None:
                    cursor.execute(sql, params)
                else:
                    cursor.execute(f"{sql} AND title_id IN ({', '.join([mark] * len(chunk))})",
                                   [*params, *chunk])
                rows.extend(cursor.fetchall())
    finally:
        cursor.close()
    if term.prefix and term.raw:
        raw = term.raw.strip()
        barcode = select(Item.title_id).where(or_(Item.barcode == raw, Item.barcode == raw.upper()))
        if within is not None:
            barcode = barcode.where(Item.title_id.in_(within))
        rows.extend((title_id, -1) for title_id in session.scalars(barcode))
    if not rows:
        return _empty()
    table = np.array(rows, dtype=np.int64)
    ids = table[:, 0]
    fields = table[:, 1]
    weights = np.where(fields < 0, BARCODE_WEIGHT, _WEIGHT_TABLE[np.clip(fields, 0, len(_WEIGHT_TABLE) - 1)])
    order = np.lexsort((-weights, ids))  # by id, best weight first within an id
    ids, weights = ids[order], weights[order]
    first = np.ones(len(ids), dtype=bool)
    first[1:] = ids[1:] != ids[:-1]
    return ids[first], weights[first]


def _postings(session: Session, term: Term) -> int:
    parts = _term_select(0, term)
    query: Any = union_all(*parts) if len(parts) > 1 else parts[0]
    inner: Any = query.limit(COUNT_CAP).subquery()
    count: Any = session.scalar(select(func.count()).select_from(inner))
    return int(count or 0)


def match_scores(session: Session, terms: Sequence[Term]) -> Scores:
    """Every title matching all terms, with its score, from the index alone (no table is touched).

    The whole candidate set comes back (tens of thousands for a short query on 200,000 titles): callers that keep
    the branch's holdings in memory filter and rank it faster than SQL can join it. Several terms are intersected
    rarest first; once few candidates remain, the other terms are checked by title id (index probes) instead of
    reading all their postings, so "红楼梦 曹雪芹" costs what its rarest word costs.
    """
    if not terms:
        return _empty()
    if len(terms) == 1:
        return _best(session, terms[0])
    order = sorted(range(len(terms)), key=lambda i: _postings(session, terms[i]))
    ids, scores = _best(session, terms[order[0]])
    for i in order[1:]:
        if not len(ids):
            break
        within = ids.tolist() if len(ids) <= PROBE_LIMIT else None
        other_ids, other_scores = _best(session, terms[i], within)
        keep = np.isin(ids, other_ids, assume_unique=True)
        ids, scores = ids[keep], scores[keep]
        scores = scores + other_scores[np.searchsorted(other_ids, ids)]
    return ids, scores


def _held_at(branch_id: int) -> ColumnElement[bool]:
    return (
        select(Item.id)
        .where(Item.title_id == Title.id, Item.status.not_in(GONE),
               or_(Item.current_branch_id == branch_id, Item.home_branch_id == branch_id))
        .exists()
    )


def search_catalog(session: Session, query: str, *, category: str | None = None, branch_id: int | None = None,
                   limit: int = 20, offset: int = 0) -> CatalogPage:
    """Ranked titles for a visitor's or librarian's query; an empty query lists (a category of) the catalog.

    With `branch_id`, only titles with a copy at that branch are found, and copies/availability count that branch.
    """
    limit = max(0, min(limit, 200))
    offset = max(0, offset)
    terms = query_terms(query)
    if query.strip() and not terms:
        return CatalogPage(query, (), 0, offset)
    if terms:
        parts = [s for i, term in enumerate(terms) for s in _term_select(i, term)]
        matches = union_all(*parts).subquery("matches")
        per_term = (
            select(matches.c.title_id, matches.c.term, func.max(matches.c.w).label("w"))
            .group_by(matches.c.title_id, matches.c.term)
            .subquery("per_term")
        )
        scored = (
            select(per_term.c.title_id, func.sum(per_term.c.w).label("score"))
            .group_by(per_term.c.title_id)
            .having(func.count() == len(terms))
            .subquery("scored")
        )
        base = select(Title.id, scored.c.score).join(scored, Title.id == scored.c.title_id)
        order: tuple[Any, ...] = (scored.c.score.desc(), func.length(Title.title), Title.id)
    else:
        base = select(Title.id, literal(0, Integer).label("score"))
        order = (Title.title_pinyin, Title.id)
    if category:
        base = base.where(Title.category == category)
    if branch_id is not None:
        base = base.where(_held_at(branch_id))
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(base.order_by(*order).limit(limit).offset(offset)).all() if limit else []
    scores = {row[0]: int(row[1] or 0) for row in rows}
    hits = load_hits(session, [row[0] for row in rows], branch_id=branch_id, scores=scores)
    return CatalogPage(query, tuple(hits), total, offset)


def load_hits(session: Session, title_ids: Sequence[int], *, branch_id: int | None = None,
              scores: dict[int, int] | None = None) -> list[CatalogHit]:
    """Titles with their copy counts and shelf locations, in the order of `title_ids`."""
    if not title_ids:
        return []
    titles = {t.id: t for t in session.scalars(select(Title).where(Title.id.in_(title_ids)))}
    copies: dict[int, int] = defaultdict(int)
    available: dict[int, int] = defaultdict(int)
    shelves: dict[int, list[str]] = defaultdict(list)
    # The branch is filtered here, not in SQL: given "title_id IN … AND (current = b OR home = b)", SQLite's
    # planner may pick the branch indexes and read every copy of the branch instead of the twenty titles' copies.
    for title_id, status, shelf, current, home in session.execute(
        select(Item.title_id, Item.status, Item.shelf_location, Item.current_branch_id, Item.home_branch_id)
        .where(Item.title_id.in_(title_ids), Item.status.not_in(GONE)).order_by(Item.id)
    ):
        if branch_id is not None and branch_id not in (current, home):
            continue
        copies[title_id] += 1
        if status == ItemStatus.AVAILABLE:
            available[title_id] += 1
        if shelf and shelf not in shelves[title_id]:
            shelves[title_id].append(shelf)
    hits: list[CatalogHit] = []
    for title_id in title_ids:
        t = titles.get(title_id)
        if t is None:
            continue
        hits.append(CatalogHit(t.id, t.title, t.authors, t.publisher, t.pub_year, t.isbn13, t.category,
                               t.call_number, t.clc_class, copies[t.id], available[t.id], tuple(shelves[t.id]),
                               (scores or {}).get(t.id, 0)))
    return hits
