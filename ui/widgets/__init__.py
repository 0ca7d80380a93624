"""Building blocks shared by every screen: labels and buttons bound to the app's theme, the top bar, our own
letter/digit keyboard (no IME: the kiosk has no physical keyboard and an IME would need one), the PIN pad and QR
images. Their look lives in `common.kv`, loaded once by `load()`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.label import Label

from ui.line_breaking import wrap_text
from ui.qr import forget as forget_qr
from ui.qr import qr_texture

_LOADED: set[str] = set()

KEY_ROWS_LETTERS = ("1234567890", "QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM")


def load_kv(path: Path) -> None:
    """Load a `.kv` file once: loading one twice duplicates its rules (every widget would get two canvases)."""
    key = str(path.resolve())
    if key not in _LOADED:
        Builder.load_file(key)
        _LOADED.add(key)


class LineBreakingLabel(Label):
    """A label that wraps by the Chinese punctuation rules (`ui.line_breaking`): Kivy alone breaks Chinese at any
    character, so "，" could start a line and "《" end one.

    `text` stays what the screen set; only the core label draws it with our newlines, measured in the label's own
    font, so Kivy finds that every line fits and breaks none itself. Labels cut to one line (`shorten`) and markup
    labels are left to Kivy."""

    def texture_update(self, *largs: Any) -> None:
        width = self.text_size[0]
        if self.text and width and not self.markup and not self.shorten:
            self._label.text = self.wrapped(self.text, width)
        super().texture_update(*largs)

    def wrapped(self, text: str, width: float) -> str:
        """`text` with our line breaks for a box `width` wide, measured in the font this label draws with."""
        core = self._label
        core.resolve_font_name()  # the font this label will draw with, before measuring in it
        extents = core.get_cached_extents()
        left, _top, right, _bottom = self.padding
        return wrap_text(text, int(width - left - right), lambda s: extents(s)[0])


class FittingLinesLabel(LineBreakingLabel):
    """A list in a box of fixed height (the attract screen's upcoming events beside the clock): it shows its
    `entries` in order, each whole, as many as fit, and drops the rest. Kivy alone cuts the text at the box's bottom
    line, so an event that wraps could lose its second line with nothing to say it was cut. The first entry is a
    heading: shown alone, it would head nothing, so then nothing is shown."""

    fg = ObjectProperty(None, allownone=True)
    fs = NumericProperty(0)
    entries = ListProperty([])
    shown_entries = NumericProperty(0)
    """How many entries (with the heading) the last drawing showed."""

    def on_entries(self, _instance: Any, entries: list[str]) -> None:
        self.text = "\n".join(entries)  # what tests read, and a change that re-draws the texture

    def texture_update(self, *largs: Any) -> None:
        core = self._label
        width, height = self.text_size
        if self.entries and width and height:
            core.resolve_font_name()  # the line height is measured in the font the label draws with
            font_h = core.get_extents("国")[1]
            line_h = font_h * self.line_height
            _left, top, _right, bottom = self.padding
            room = height - top - bottom
            shown: list[str] = []
            lines = 0
            for entry in self.entries:
                wrapped = self.wrapped(entry, width)
                count = lines + wrapped.count("\n") + 1
                if (count - 1) * line_h + font_h > room:
                    break
                shown.append(wrapped)
                lines = count
            self.shown_entries = len(shown) if len(shown) > 1 else 0
            core.text = "\n".join(shown) if self.shown_entries else ""
            Label.texture_update(self, *largs)  # the lines are wrapped already
            return
        self.shown_entries = len(self.entries)
        super().texture_update(*largs)


class KLabel(LineBreakingLabel):
    """A one-line label in the theme. Instances set `fg`/`fs`, never `color`/`font_size`: a class rule and an instance
    rule both bound to the theme would fight on every theme change (Kivy calls the class rule's binding last)."""

    fg = ObjectProperty(None, allownone=True)
    fs = NumericProperty(0)


class NaturalWidthLabel(KLabel):
    """A one-line label that knows how wide its text is (`natural_width`), so a row can give it that width and the
    rest to a neighbour that shortens: a find result keeps "0/3 available · Zone A, stack 2, shelf 6" whole and
    lets the authors before it give way. A Kivy label's texture is as wide as its `text_size`, whatever its text."""

    natural_width = NumericProperty(0)

    def texture_update(self, *largs: Any) -> None:
        core = self._label
        core.resolve_font_name()
        left, _top, right, _bottom = self.padding
        # Two pixels of slack: Kivy shortens a line whose measure equals its box exactly.
        self.natural_width = (core.get_extents(self.text)[0] + left + right + 2) if self.text else 0
        super().texture_update(*largs)


class WrapLabel(LineBreakingLabel):
    """A wrapping label whose height follows its text."""

    fg = ObjectProperty(None, allownone=True)
    fs = NumericProperty(0)


class KButton(ButtonBehavior, LineBreakingLabel):
    bg_color = ColorProperty((0.12, 0.31, 0.47, 1))
    fg_color = ColorProperty((1, 1, 1, 1))
    selected = BooleanProperty(False)
    fs = NumericProperty(0)
    min_factor = NumericProperty(1.0)
    """Touch-target floor as a share of `app.button_height` (keys of a keyboard grid set 0 and size by the grid)."""
    action = StringProperty("")
    """A name tests can find the button by (stable across languages)."""


class Panel(BoxLayout):
    pad_factor = NumericProperty(1.0)


class MessageBanner(BoxLayout):
    """The newest outcome, big, on its severity's colour."""

    message = ObjectProperty(None, allownone=True)
    shown = BooleanProperty(True)


class TopBar(GridLayout):
    title = StringProperty("")
    show_home = BooleanProperty(True)


class LetterKeyboard(GridLayout):
    """A-Z and 0-9 (pinyin initials, full pinyin, ISBN digits), backspace, a space bar (titles with English words,
    "author title" searches) and clear. Key widgets are built once (again only if `space_bar` changes)."""

    __events__ = ("on_key",)
    target = ObjectProperty(None, allownone=True)
    space_bar = BooleanProperty(True)
    """False where the screen has its own row with a space key (the announcement editor's punctuation row)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cols = 1
        self._build()

    def on_space_bar(self, *_: Any) -> None:
        self._build()

    def _key(self, line: BoxLayout, action: str, *, raw: str = "", label: str = "", width: float = 1.0) -> None:
        key = KeyCap(raw=raw, label_key=label, action=action, size_hint_x=width)
        key.bind(on_release=self._pressed)
        line.add_widget(key)

    def _build(self) -> None:
        self.clear_widgets()
        for row in (*KEY_ROWS_LETTERS[:-1], KEY_ROWS_LETTERS[-1] + "←"):
            line = BoxLayout(orientation="horizontal", spacing=4)
            for ch in row:
                self._key(line, "key:back" if ch == "←" else f"key:{ch}", raw=ch)
            if row.startswith("Z") and not self.space_bar:
                self._key(line, "key:clear", label="ui.keyboard.clear", width=1.8)
            self.add_widget(line)
        if self.space_bar:
            # The bottom row as on any keyboard: a wide space bar, and clear beside it.
            line = BoxLayout(orientation="horizontal", spacing=4)
            self._key(line, "key:space", label="ui.keyboard.space", width=5.0)
            self._key(line, "key:clear", label="ui.keyboard.clear", width=2.0)
            self.add_widget(line)

    def _pressed(self, key: KeyCap) -> None:
        self.dispatch("on_key", key.action.removeprefix("key:"))

    def on_key(self, key: str) -> None:
        pass


class KeyCap(KButton):
    raw = StringProperty("")
    label_key = StringProperty("")
    """Message key for keys that carry words (clear, OK); letter keys show `raw`."""


class PinPad(GridLayout):
    __events__ = ("on_key",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cols = 3
        for ch in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "ok"):
            label = "" if ch.isdigit() else f"ui.keyboard.{ch}"
            key = KeyCap(raw=ch if ch.isdigit() else "", label_key=label, action=f"pin:{ch}")
            key.bind(on_release=lambda k: self.dispatch("on_key", k.action.removeprefix("pin:")))
            self.add_widget(key)

    def on_key(self, key: str) -> None:
        pass


class QrImage(Image):
    payload = StringProperty("")
    personal = BooleanProperty(False)
    """A receipt's code names a visit: drop it from the texture cache the moment it leaves the widget, not when
    63 later codes have pushed it out. An audio book's code is public and stays cached."""

    def __init__(self, **kwargs: Any) -> None:
        self._shown = ""
        super().__init__(**kwargs)

    def on_payload(self, _w: Any, payload: str) -> None:
        previous, self._shown = self._shown, payload
        self.texture = qr_texture(payload) if payload else None
        if self.personal and previous and previous != payload:
            forget_qr(previous)


def _fill(layout: Any, class_name: str, rows: list[dict[str, Any]]) -> None:
    """Show `rows` with as many row widgets, reusing the ones already there: building a widget from its kv rule costs
    milliseconds, updating its properties microseconds (results update on every key press)."""
    from kivy.factory import Factory

    existing = list(reversed(layout.children))
    for index, data in enumerate(rows):
        if index < len(existing):
            widget = existing[index]
        else:
            # Kivy dynamic classes (`<Row@BoxLayout>`) get their properties from the rule, after __init__'s
            # kwargs check, so values are set afterwards.
            widget = getattr(Factory, class_name)()
            layout.add_widget(widget)
        for key, value in data.items():
            setattr(widget, key, value)
    for widget in existing[len(rows) :]:
        layout.remove_widget(widget)


class RowList(BoxLayout):
    """A vertical list whose rows are rebuilt from plain data only when the data changes (not per frame)."""

    rows = ListProperty([])
    row_class = StringProperty("")

    def on_rows(self, *_: Any) -> None:
        _fill(self, self.row_class, self.rows)


class ItemGrid(GridLayout):
    """A grid of tiles rebuilt from plain data when the data changes."""

    items = ListProperty([])
    item_class = StringProperty("")

    def on_items(self, *_: Any) -> None:
        _fill(self, self.item_class, self.items)


def load() -> None:
    load_kv(Path(__file__).with_name("common.kv"))
