"""What the writer needs of a record besides its fields, worked out before the writer sees it.

The pinyin columns and the search tokens of a title depend only on the record (its title, authors, publisher,
ISBN and call number), so they can be computed while the database is busy with the previous chunk: in the reading
process of `catalog.importers.ahead` for large files, or inline by the writer for everything else.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.importers.records import TitleRecord
from catalog.pinyin import author_pinyin, title_pinyin
from catalog.search.index import pinyin_columns, tokens_json


@dataclass(frozen=True)
class PreparedRecord:
    record: TitleRecord
    pinyin: dict[str, str]
    """The four pinyin columns (`catalog.search.index.pinyin_columns`)."""
    tokens: str
    """The title's search tokens as `catalog.search.index.tokens_json` writes them; used if the title is new."""


def prepare(record: TitleRecord) -> PreparedRecord:
    return PreparedRecord(
        record, pinyin_columns(record.title, record.authors),
        tokens_json(title=record.title, authors=record.authors, publisher=record.publisher, isbn13=record.isbn13,
                    call_number=record.call_number, title_py=title_pinyin(record.title),
                    author_py=author_pinyin(record.authors)),
    )
