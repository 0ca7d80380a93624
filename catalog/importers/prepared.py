"""What the writer needs of a record besides its fields, worked out before the writer sees it.

The pinyin columns and the search tokens of a title depend only on the record (its title, authors, publisher,
ISBN and call number), so they can be computed while the database is busy with the previous chunk, in the reading
process of `catalog.importers.ahead`. They are needed only for a title the import creates; whatever was not worked
out ahead (an ISBN already in the catalog, a small file read in the importing process) is worked out by the writer
when it turns out to be needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.importers.records import TitleRecord
from catalog.pinyin import author_pinyin, title_pinyin
from catalog.search.index import pinyin_columns, tokens_json


@dataclass(frozen=True)
class PreparedRecord:
    record: TitleRecord
    pinyin: dict[str, str] | None = None
    """The four pinyin columns (`catalog.search.index.pinyin_columns`), if worked out ahead."""
    tokens: str | None = None
    """The title's search tokens as `catalog.search.index.tokens_json` writes them, if worked out ahead."""

    def pinyin_columns(self) -> dict[str, str]:
        if self.pinyin is not None:
            return self.pinyin
        return pinyin_columns(self.record.title, self.record.authors)

    def index_tokens(self) -> str:
        if self.tokens is not None:
            return self.tokens
        record = self.record
        return tokens_json(title=record.title, authors=record.authors, publisher=record.publisher,
                           isbn13=record.isbn13, call_number=record.call_number,
                           title_py=title_pinyin(record.title), author_py=author_pinyin(record.authors))


def prepare(record: TitleRecord) -> PreparedRecord:
    """Both worked out now: only the writer knows whether the title is new, so this is for a title that may be."""
    return PreparedRecord(record, pinyin_columns(record.title, record.authors), PreparedRecord(record).index_tokens())
