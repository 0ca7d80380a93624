"""Finding a Simplified-Chinese font and making it Kivy's default before any widget exists.

Kivy opens only the first face of a `.ttc` collection. In Noto Sans CJK that face is the Japanese one, whose glyphs
for shared code points differ from the Chinese forms, so WenQuanYi (whose first face is Simplified Chinese) is
preferred; fontconfig is asked for `:lang=zh-cn` and Japanese-first collections are skipped when possible.
This module imports no Kivy at module level so `kiosk doctor` can call `find_cjk_font` and `font_covers`.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

INSTALL_HINT = "no Simplified-Chinese font found: install one with `sudo apt-get install fonts-wqy-microhei` " \
    "or set ui.font_path in kiosk.toml"
PREFERRED = ("wqy-microhei", "wqy-zenhei", "NotoSansSC", "SourceHanSansSC", "DroidSansFallback")
"""Files whose first face is Simplified Chinese, best first."""
KNOWN_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
SAMPLE = "借书还书查找图书本馆服务"


def _fontconfig_files() -> list[Path]:
    """Fonts fontconfig says cover zh-cn: the best match first, then every other one."""
    if shutil.which("fc-match") is None:
        return []
    found: list[Path] = []
    commands = (["fc-match", "-f", "%{file}", ":lang=zh-cn"], ["fc-list", ":lang=zh-cn", "file"])
    for cmd in commands:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        for line in out.splitlines():
            path = Path(line.strip().rstrip(":").strip())
            if path.suffix.lower() in {".ttf", ".ttc", ".otf"} and path not in found:
                found.append(path)
    return found


def _rank(path: Path) -> int:
    name = path.name.lower()
    for i, stem in enumerate(PREFERRED):
        if stem.lower() in name:
            return i
    return len(PREFERRED) + (1 if "cjk" in name else 0)


def find_cjk_font(settings: Any = None) -> Path | None:
    """The configured `ui.font_path` if it exists, else the best Simplified-Chinese font on this machine."""
    configured = getattr(getattr(settings, "ui", None), "font_path", "") if settings is not None else ""
    if configured:
        path = Path(configured).expanduser()
        if path.is_file():
            return path
        log.error("ui.font_path %s does not exist; looking for another Chinese font", path)
    candidates = [p for p in _fontconfig_files() if p.is_file()]
    candidates += [Path(p) for p in KNOWN_CANDIDATES if Path(p).is_file() and Path(p) not in candidates]
    usable = [p for p in candidates if not font_covers(p, SAMPLE)]
    if not usable:
        return None
    return sorted(usable, key=_rank)[0]


def font_covers(path: Path | str, text: str) -> set[str]:
    """Characters of `text` that the font's first face (the one Kivy uses) has no glyph for.

    Reads the font's character map with fontTools; whitespace and control characters are ignored."""
    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    wanted = {ch for ch in text if not ch.isspace() and ch.isprintable()}
    try:
        if str(path).lower().endswith(".ttc"):
            font = TTCollection(str(path), lazy=True).fonts[0]
        else:
            font = TTFont(str(path), lazy=True, fontNumber=0)
        cmap = font.getBestCmap() or {}
    except (OSError, TTLibError, IndexError) as exc:
        log.warning("cannot read font %s: %s", path, exc)
        return wanted
    return {ch for ch in wanted if ord(ch) not in cmap}


def catalog_text(languages: Iterable[str] = ("zh_CN",)) -> str:
    """Every character the UI can show from the message catalogs (UI and core domains)."""
    import ui  # noqa: F401  (registers the UI catalog)
    from kiosk import i18n

    parts: list[str] = []
    for lang in languages:
        for path in i18n.catalog_files(lang):
            if not path.is_file():
                continue
            import polib

            parts.extend(e.msgstr for e in polib.pofile(str(path)) if e.msgstr)
    return "".join(parts)


def register_default_font(settings: Any = None) -> Path | None:
    """Make the Chinese font Kivy's default (`Roboto` name replaced) before any widget is built.

    Returns the font used, or None after logging the one-line install hint (Latin text still renders)."""
    from kivy.core.text import LabelBase
    from kivy.resources import resource_add_path

    path = find_cjk_font(settings)
    if path is None:
        log.error(INSTALL_HINT)
        print(INSTALL_HINT)
        return None
    resource_add_path(str(path.parent))
    LabelBase.register(name="Roboto", fn_regular=str(path), fn_bold=str(path))
    LabelBase.register(name="KioskCJK", fn_regular=str(path), fn_bold=str(path))
    log.info("UI font: %s", path)
    return path
