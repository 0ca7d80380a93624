"""Every UI string exists in both languages; the Chinese font draws every character the screens can show."""

from __future__ import annotations

from pathlib import Path

import polib

import ui
from kiosk import i18n
from ui import fonts
from ui.locale.messages import MESSAGES


def _entries(language: str) -> dict[str, str]:
    path = ui.LOCALE_DIR / language / "LC_MESSAGES" / "ui.po"
    return {e.msgid: e.msgstr for e in polib.pofile(str(path)) if e.msgid}


def test_every_ui_key_has_both_translations() -> None:
    zh, en = _entries("zh_CN"), _entries("en")
    assert set(zh) == set(en)
    assert all(zh.values()) and all(en.values())
    assert not {k for k in zh if not k.startswith("ui.")}, "UI keys live under ui."


def test_catalog_files_match_their_source_table() -> None:
    """ui.po is generated from ui/locale/messages.py; a key added in one place only is caught here."""
    assert _entries("zh_CN") == {k: v[0] for k, v in MESSAGES.items()}
    assert _entries("en") == {k: v[1] for k, v in MESSAGES.items()}


def test_placeholders_agree_between_languages() -> None:
    import string

    def names(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    for key, (zh, en) in MESSAGES.items():
        assert names(zh) == names(en), key


def test_ui_domain_is_registered_with_i18n() -> None:
    assert i18n.translate("ui.attract.borrow", "zh_CN") == "借书"
    assert i18n.translate("ui.attract.borrow", "en") == "Borrow"
    assert not (i18n.keys("zh_CN") ^ i18n.keys("en")) & set(MESSAGES)


def test_every_kv_key_is_in_the_catalog() -> None:
    """Literal keys used in the .kv rules and screen code exist (dynamic ones are listed in MESSAGES by prefix)."""
    import re

    root = Path(ui.__file__).parent
    used: set[str] = set()
    for path in [*root.rglob("*.kv"), *root.rglob("*.py")]:
        used |= set(re.findall(r"""["'](ui\.[a-z_]+\.[a-z_.]+)["']""", path.read_text(encoding="utf-8")))
    missing = {k for k in used if k not in MESSAGES and not k.endswith(".")}
    assert not missing


def test_cjk_font_covers_every_character_of_the_zh_catalogs() -> None:
    path = fonts.find_cjk_font()
    assert path is not None, fonts.INSTALL_HINT
    text = fonts.catalog_text(("zh_CN",)) + "".join(v[0] for v in MESSAGES.values())
    assert "借" in text
    assert fonts.font_covers(path, text) == set()


def test_cjk_font_draws_every_character_the_announcement_keyboard_offers() -> None:
    """The pinyin candidates (GB2312) and the full-width marks typed into today's announcement."""
    from kiosk.pinyin_input import candidates

    path = fonts.find_cjk_font()
    assert path is not None, fonts.INSTALL_HINT
    offered = {c.text for syllable in ("a", "de", "shi", "guan", "xin", "lv", "zhuang", "nv", "yi", "ji")
               for c in candidates(syllable, 400)}
    assert len(offered) > 400
    assert fonts.font_covers(path, "".join(offered) + "，。：—▏×") == set()


def test_font_covers_reports_what_a_font_lacks(tmp_path: Path) -> None:
    path = fonts.find_cjk_font()
    assert path is not None
    assert fonts.font_covers(path, "借书\U0001f600") == {"\U0001f600"}
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    assert fonts.font_covers(broken, "ab") == {"a", "b"}


def test_configured_font_path_wins_and_a_missing_one_falls_back(tmp_path: Path) -> None:
    from dataclasses import replace

    from kiosk.config import load_settings

    system = fonts.find_cjk_font()
    assert system is not None
    copy = tmp_path / "chosen.ttc"
    copy.write_bytes(system.read_bytes())
    settings = load_settings(env={"KIOSK_DATA_DIR": str(tmp_path)})
    chosen = replace(settings, ui=replace(settings.ui, font_path=str(copy)))
    assert fonts.find_cjk_font(chosen) == copy
    missing = replace(settings, ui=replace(settings.ui, font_path=str(tmp_path / "nope.ttf")))
    assert fonts.find_cjk_font(missing) == system
