"""Translated text: message keys → zh_CN / en strings from gettext `.po` catalogs.

The core speaks in keys (`loan.lent`, `refusal.limit_reached`) with named parameters; only the edge (UI, receipts,
CLI) turns them into words. Catalogs are `.po` files read with polib, so librarians can fix a wording with any
gettext editor and no compile step. Each package owns a domain (`kiosk/locale/*/core.po`, `ui/locale/*/ui.po`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import polib

from catalog.shelf_marks import shelf_mark_en

log = logging.getLogger(__name__)

LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"
_CATALOG_DIRS: list[tuple[str, Path]] = [("core", Path(__file__).with_name("locale"))]
_lock = threading.Lock()


def register_domain(domain: str, locale_dir: Path) -> None:
    """Let another package (the UI) add its catalog; later domains do not override earlier keys."""
    with _lock:
        if (domain, locale_dir) not in _CATALOG_DIRS:
            _CATALOG_DIRS.append((domain, locale_dir))
            _messages.cache_clear()


def catalog_files(language: str) -> list[Path]:
    return [d / language / "LC_MESSAGES" / f"{domain}.po" for domain, d in _CATALOG_DIRS]


@lru_cache(maxsize=8)
def _messages(language: str) -> Mapping[str, str]:
    table: dict[str, str] = {}
    for path in catalog_files(language):
        if not path.is_file():
            continue
        for entry in polib.pofile(str(path)):
            if entry.msgstr and not entry.obsolete and "fuzzy" not in entry.flags:
                table.setdefault(entry.msgid, entry.msgstr)
    return table


def keys(language: str) -> set[str]:
    return set(_messages(language))


def translate(key: str, language: str = DEFAULT_LANGUAGE, /, **params: Any) -> str:
    """The text for `key` in `language`; a missing key falls back to the other language, then to the key itself."""
    for lang in (language, DEFAULT_LANGUAGE, "en"):
        template = _messages(lang).get(key)
        if template is not None:
            break
    else:
        log.warning("untranslated message key %s", key)
        return key
    if language == "en" and isinstance(params.get("shelf"), str):
        params["shelf"] = shelf_mark(params["shelf"], language)
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        log.warning("message %s in %s lacks parameters %s", key, language, sorted(params))
        return template


def shelf_mark(mark: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A copy's shelf location as a reader of `language` reads it: "A区2架2层" is "Zone A, stack 2, shelf 2" in
    English; a mark that is not built from the usual parts stays as the library wrote it (see
    `catalog.shelf_marks`). A message parameter named `shelf` gets the same treatment."""
    if language == "en":
        return shelf_mark_en(mark) or mark
    return mark


def missing_translations(languages: Iterable[str] = LANGUAGES) -> dict[str, set[str]]:
    """Keys that one language has and another lacks: the test suite keeps this empty."""
    langs = list(languages)
    union: set[str] = set().union(*(keys(lang) for lang in langs))
    return {lang: union - keys(lang) for lang in langs if union - keys(lang)}


class Translator:
    """A language-bound `translate`, handed to whoever renders text for one visitor."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        self.language = language

    def __call__(self, key: str, /, **params: Any) -> str:
        return translate(key, self.language, **params)
