"""Keeping the search index in step with the titles.

Two ways in, one token function:
* ORM writes (librarian CLI, kiosk screens, anyone who adds or edits a `Title` through a session) are caught by
  session hooks installed when `catalog.search` is imported: `before_flush` fills the pinyin columns, `after_flush`
  rewrites that title's tokens in the same transaction, so the index can never disagree with a committed title.
* Bulk writers (demo data, imports) insert titles with Core statements for speed and then call `index_titles` with
  the ids they wrote, in the same transaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, delete, event, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from catalog.model import Title
from catalog.pinyin import PinyinForms, author_pinyin, title_pinyin
from catalog.search.model import TitleToken
from catalog.search.tokens import title_tokens

_SEARCHED = ("title", "authors", "publisher", "isbn13", "call_number")
_CHUNK = 500
_SQLITE_INSERT_JSON = (
    "INSERT INTO title_tokens (token, title_id, field) "
    "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') "
    "FROM json_each(?) ORDER BY 1, 2, 3"
)
"""Rows as one JSON array of [token, title id, field]: binding 200,000 rows one by one through executemany costs
as much Python as the insert costs SQLite (and a JSON array of titles each with its tokens, expanded by two
json_each, was 30 % slower than this flat one). `json_extract`, not `->>`: the same speed, and SQLite 3.38 is not
needed."""


def fill_pinyin(title: Title) -> None:
    tp, ap = title_pinyin(title.title or ""), author_pinyin(title.authors or "")
    title.title_pinyin, title.title_initials = tp.full, tp.initials
    title.author_pinyin, title.author_initials = ap.full, ap.initials


def pinyin_columns(title: str, authors: str) -> dict[str, str]:
    """The four pinyin columns of a title, for bulk inserts."""
    tp, ap = title_pinyin(title), author_pinyin(authors)
    return {"title_pinyin": tp.full, "title_initials": tp.initials,
            "author_pinyin": ap.full, "author_initials": ap.initials}


def _title_tokens(title: str, authors: str, publisher: str, isbn13: str | None, call_number: str,
                  title_py: PinyinForms | None, author_py: PinyinForms | None) -> list[tuple[str, int]]:
    return title_tokens(title=title, authors=authors or "", publisher=publisher or "", isbn13=isbn13,
                        call_number=call_number or "", title_pinyin=title_py or title_pinyin(title),
                        author_pinyin=author_py or author_pinyin(authors or ""))


def token_rows(title_id: int, *, title: str, authors: str = "", publisher: str = "", isbn13: str | None = None,
               call_number: str = "", title_py: PinyinForms | None = None,
               author_py: PinyinForms | None = None) -> list[tuple[str, int, int]]:
    """Index rows of one title; bulk writers that already know the pinyin pass it to save the dictionary look-up."""
    tokens = _title_tokens(title, authors, publisher, isbn13, call_number, title_py, author_py)
    return [(t, title_id, f) for t, f in tokens]


TITLE_ID_MARK = "#"
"""Stands for the title id in `tokens_json`; tokens are CJK characters, [a-z0-9] and "^", so it never occurs in one."""
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f#,\[\]]')
"""What a token would need escaped (never, by the token alphabet). Escaped, each becomes a `\\uXXXX` sequence, so a
row without a backslash is known to hold none of them (the CSV of `insert_title_tokens` relies on it)."""


def _escaped(token: str) -> str:
    quoted = json.dumps(token)
    return quoted[0] + "".join(f"\\u{ord(c):04x}" if c in "#,[]" else c for c in quoted[1:-1]) + quoted[-1]


def tokens_json(*, title: str, authors: str = "", publisher: str = "", isbn13: str | None = None,
                call_number: str = "", title_py: PinyinForms | None = None,
                author_py: PinyinForms | None = None) -> str:
    """A title's index rows as JSON arrays `["token",#,field]` joined by commas, `#` standing for its id.

    For bulk writers that know the tokens before the id (`insert_title_tokens`): one string to carry from a reading
    process (`catalog.importers.ahead`) and to splice into one parameter, instead of ~40 tuples per title built,
    pickled, sorted and bound one by one.
    """
    tokens = _title_tokens(title, authors, publisher, isbn13, call_number, title_py, author_py)
    if _NEEDS_ESCAPE.search("".join(t for t, _ in tokens)):  # never, by the token alphabet; cheap to be sure
        return ",".join(f"[{_escaped(t)},{TITLE_ID_MARK},{int(f)}]" for t, f in tokens)
    return ",".join(f'["{t}",{TITLE_ID_MARK},{int(f)}]' for t, f in tokens)


def insert_title_tokens(connection: Connection, titles: Sequence[tuple[int, str]]) -> None:
    """Insert the tokens of new titles, given as (title id, `tokens_json`) pairs.

    SQLite: one statement expands the JSON and inserts in key order (`ORDER BY` the primary key), so each page of
    the token b-tree is filled once per call, not once per title (a title's tokens are spread over the whole
    index). PostgreSQL: one COPY of the same rows as CSV, sorted by token, written in one piece.
    """
    rows = ",".join(tokens.replace(TITLE_ID_MARK, str(title_id)) for title_id, tokens in titles if tokens)
    if not rows:
        return
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(_SQLITE_INSERT_JSON, (f"[{rows}]",))
        return
    if "\\" in rows:  # an escaped token (never, by the alphabet): let the JSON parser and write_row quote it
        parsed = [(token, title_id, field) for token, title_id, field in json.loads(f"[{rows}]")]
        parsed.sort(key=itemgetter(0))
        insert_tokens(connection, parsed)
        return
    # `["红楼",5,1],["梦",5,1]` is `"红楼",5,1` and `"梦",5,1` in CSV: no token holds a quote, comma or bracket.
    lines = rows[1:-1].split("],[")
    lines.sort()  # by token (a shorter token sorts first: its closing quote is below every token character)
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
            "COPY title_tokens (token, title_id, field) FROM STDIN (FORMAT csv)") as copy:
        copy.write("\n".join(lines) + "\n")


def insert_tokens(connection: Connection, rows: Sequence[tuple[str, int, int]]) -> None:
    """Insert index rows without the ORM or Core: building parameters for 100,000 small rows costs seconds there.

    SQLite: one JSON parameter (`_SQLITE_INSERT_JSON`), inserted in key order. PostgreSQL: COPY in the same
    transaction: psycopg's executemany still costs a Python round of work per row (a 100,000-record import spent
    202 s of CPU in the importing process, against 120 s on SQLite).
    """
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
                "COPY title_tokens (token, title_id, field) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    connection.exec_driver_sql(_SQLITE_INSERT_JSON, (json.dumps(rows, ensure_ascii=False, separators=(",", ":")),))


def index_titles(session: Session, title_ids: Sequence[int]) -> int:
    """Rewrite the tokens of these titles from their stored values; returns the number of tokens written."""
    # On the session's connection, not through `session.execute`: this also runs inside a flush, where an
    # autoflush would recurse.
    connection = session.connection()
    written = 0
    for start in range(0, len(title_ids), _CHUNK):
        ids = list(title_ids[start : start + _CHUNK])
        connection.execute(delete(TitleToken).where(TitleToken.title_id.in_(ids)))
        rows = connection.execute(
            select(Title.id, Title.title, Title.authors, Title.publisher, Title.isbn13, Title.call_number)
            .where(Title.id.in_(ids))
        ).all()
        batch: list[tuple[str, int, int]] = []
        for row in rows:
            batch.extend(token_rows(row.id, title=row.title, authors=row.authors, publisher=row.publisher,
                                    isbn13=row.isbn13, call_number=row.call_number))
        insert_tokens(connection, batch)
        written += len(batch)
    return written


def reindex_all(session: Session, progress: Any = None) -> int:
    """Rebuild the whole index (after a restore, or for titles written before the index existed)."""
    ids = list(session.scalars(select(Title.id).order_by(Title.id)))
    session.execute(delete(TitleToken))
    written = 0
    for start in range(0, len(ids), _CHUNK):
        written += index_titles(session, ids[start : start + _CHUNK])
        if progress is not None:
            progress(min(start + _CHUNK, len(ids)), len(ids))
    return written


def _touched_titles(session: Session, objects: Iterable[Any], *, require_change: bool) -> list[Title]:
    titles: list[Title] = []
    for obj in objects:
        if not isinstance(obj, Title):
            continue
        if require_change and not any(_changed(obj, name) for name in _SEARCHED):
            continue
        titles.append(obj)
    return titles


def _changed(title: Title, name: str) -> bool:
    return bool(sa_inspect(title).attrs[name].history.has_changes())


@event.listens_for(Session, "before_flush")
def _fill_pinyin_before_flush(session: Session, _context: Any, _instances: Any) -> None:
    pending = _touched_titles(session, session.new, require_change=False)
    pending += _touched_titles(session, session.dirty, require_change=True)
    for title in pending:
        fill_pinyin(title)
    session.info.setdefault("search_pending", []).extend(pending)


@event.listens_for(Session, "after_flush")
def _reindex_after_flush(session: Session, _context: Any) -> None:
    pending: list[Title] = session.info.pop("search_pending", [])
    ids = [t.id for t in pending if t.id is not None]
    if ids:
        index_titles(session, ids)
