"""The Kivy application: one window, screens that render the session's `SessionView`, browse screens fed by the
`BrowserPort` off the UI thread.

App-level Kivy properties hold everything the screens show (language, elder mode, theme sizes and colours, the
current view, branch information, the clock) and the `.kv` rules bind to them, as in Electrum's Kivy GUI: a change of
language or of elder mode re-renders every screen without any screen knowing about it.

The session publishes views from its worker thread; `_on_session_view` only stores the newest one and fires a
`Clock.create_trigger`, so a burst of views (scan, lookup, commit) is drawn once per frame on the main thread.

Importing this module opens Kivy's window machinery: call `ui.configure_kivy(settings, headless=...)` first.
"""

from __future__ import annotations

import logging
import threading
import time as _time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.metrics import mm
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)

from kiosk import i18n
from kiosk.browse_view import BranchInfo, OccupancyView
from kiosk.config import Settings
from kiosk.session.view import Message, Screen, SessionPort, SessionView, Severity
from ui import fonts, theme
from ui.boot import configure_kivy
from ui.ports import BrowserPort, OccupancySource
from ui.worker import UiWorker

log = logging.getLogger(__name__)
__all__ = ["KioskApp", "configure_kivy"]

BROWSE_SCREENS = ("find", "detail", "about", "audio")
BROWSE_IDLE_S = 90.0
"""A visitor who walks away from a browse screen leaves it after this long (no personal data there, but the next
visitor should meet the attract screen)."""
BRANCH_REFRESH_S = 300.0
OCCUPANCY_REFRESH_S = 30.0
NIGHT_WAKE_S = 60.0
"""At night a touch lifts the attract screen's dimming for this long: whoever is tapping reads it at full contrast;
the burn-in guard returns when the room is quiet again."""
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


_LATIN_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})


def _latin_quotes(text: str, lang: str) -> str:
    """English with straight quotes: the screen's one font is a CJK font, whose curly quotes are full-width and
    left a wide gap inside “Show on screen”. Chinese keeps its own quotation marks."""
    return text.translate(_LATIN_QUOTES) if lang == "en" else text


def _key_name(keycode: int) -> str:
    """Kivy's name for a non-character key ("enter", "tab", "shift", …)."""
    keyboard = getattr(Window, "_system_keyboard", None)
    if keyboard is None:
        return ""
    return keyboard.keycode_to_string(keycode) or ""


class KioskApp(App):
    lang = StringProperty(i18n.DEFAULT_LANGUAGE)
    elder = BooleanProperty(False)
    night = BooleanProperty(False)
    awake = BooleanProperty(False)
    """Someone touched the screen in the last NIGHT_WAKE_S seconds (the night dimming waits)."""
    portrait = BooleanProperty(False)
    view = ObjectProperty(SessionView(), rebind=True)
    branch = ObjectProperty(None, allownone=True, rebind=True)
    occupancy = ObjectProperty(None, allownone=True, rebind=True)
    local_screen = StringProperty("")
    clock_text = StringProperty("")
    date_text = StringProperty("")
    open_key = StringProperty("")
    hours_today = StringProperty("")
    attract_hint = StringProperty("")
    notice = StringProperty("")
    """A short toast (help requested, …) shown over every screen for a few seconds."""
    idle_left = NumericProperty(-1)
    rotation_index = NumericProperty(0)

    font_small = NumericProperty(24)
    font_body = NumericProperty(30)
    font_title = NumericProperty(42)
    font_huge = NumericProperty(60)
    button_height = NumericProperty(100)
    min_target = NumericProperty(60)
    """15 mm in pixels on this screen: no touch target may be smaller."""
    pad = NumericProperty(20)
    page_size = NumericProperty(6)
    c_bg = ColorProperty(theme.NORMAL.bg)
    c_panel = ColorProperty(theme.NORMAL.panel)
    c_text = ColorProperty(theme.NORMAL.text)
    c_muted = ColorProperty(theme.NORMAL.muted)
    c_primary = ColorProperty(theme.NORMAL.primary)
    c_on_primary = ColorProperty(theme.NORMAL.on_primary)
    c_secondary = ColorProperty(theme.NORMAL.secondary)
    c_on_secondary = ColorProperty(theme.NORMAL.on_secondary)
    c_success = ColorProperty(theme.NORMAL.success)
    c_warning = ColorProperty(theme.NORMAL.warning)
    c_error = ColorProperty(theme.NORMAL.error)
    c_info = ColorProperty(theme.NORMAL.info)
    c_line = ColorProperty(theme.NORMAL.line)
    c_disabled = ColorProperty(theme.NORMAL.disabled)

    def __init__(
        self,
        session: SessionPort,
        browser: BrowserPort | None,
        settings: Settings,
        *,
        occupancy: OccupancySource | None = None,
        key_sink: Callable[[str, float], None] | None = None,
        clock: Callable[[], datetime] | None = None,
        **kwargs: Any,
    ) -> None:
        """`key_sink(key, monotonic_time)` receives every raw key event (a character, or a name such as "enter") for
        a keyboard-wedge scanner; the core feeds them to `devices.scanner.wedge.WedgeAssembler`. The UI never
        assembles scans itself and has no TextInput (it drops fast wedge input)."""
        super().__init__(**kwargs)
        self.session = session
        self.browser = browser
        self.settings = settings
        self.occupancy_source = occupancy
        self.key_sink = key_sink
        self.worker = UiWorker()
        self.font_path: Path | None = None
        self._now = clock or (lambda: datetime.now(settings.tz))
        self._pending_view: SessionView | None = None
        self._pending_lock = threading.Lock()
        self._view_trigger = Clock.create_trigger(self._apply_pending_view, 0)
        self._idle_deadline: float | None = None
        self._last_local_touch = _time.monotonic()
        self._notice_event: Any = None
        self._sleep_event = Clock.create_trigger(lambda _dt: setattr(self, "awake", False), NIGHT_WAKE_S)
        self.lang = settings.kiosk.language
        self.elder = settings.ui.elder_mode
        self.title = "24小时智慧书房"

    # ------------------------------------------------------------------ building
    def build(self) -> Any:
        self.font_path = fonts.register_default_font(self.settings)
        from ui.screens import build_root

        Window.clearcolor = self.c_bg
        Window.bind(size=lambda *_: self._apply_theme(), on_key_down=self._on_key_down)
        self.bind(elder=lambda *_: self._apply_theme())
        self._apply_theme()
        root = build_root(self)
        self.session.subscribe(self._listener_for(self.session))
        self.view = self.session.current()
        self._tick_clock(0)
        Clock.schedule_interval(self._tick_clock, 1.0)
        Clock.schedule_interval(self._rotate, 8.0)
        Clock.schedule_interval(self._tick_idle, 0.5)
        Clock.schedule_interval(self._check_browse_idle, 5.0)
        Clock.schedule_interval(lambda _dt: self.refresh_browse_data(), BRANCH_REFRESH_S)
        Clock.schedule_interval(lambda _dt: self.refresh_occupancy(), OCCUPANCY_REFRESH_S)
        self.refresh_browse_data()
        self.refresh_occupancy()
        return root

    def on_start(self) -> None:
        self._route()  # the session may already be past attract (a restart during a visit)

    def on_stop(self) -> None:
        self.worker.shutdown()

    # ------------------------------------------------------------------ theme
    def _apply_theme(self) -> None:
        width, height = Window.size
        self.portrait = height > width
        self.min_target = mm(15)
        m = theme.metrics_for(width, height, elder=self.elder, min_target_px=self.min_target)
        self.font_small, self.font_body, self.font_title, self.font_huge = (
            m.font_small, m.font_body, m.font_title, m.font_huge)
        self.button_height, self.pad, self.page_size = m.button_height, m.padding, m.page_size
        palette = theme.ELDER if self.elder else theme.NORMAL
        for name in ("bg", "panel", "text", "muted", "primary", "on_primary", "secondary", "on_secondary",
                     "success", "warning", "error", "info", "line", "disabled"):
            setattr(self, f"c_{name}", getattr(palette, name))
        Window.clearcolor = self.c_bg

    # ------------------------------------------------------------------ text helpers used by .kv rules
    def t(self, key: str, lang: str | None = None, **params: Any) -> str:
        """Translate a key; `.kv` rules pass `app.lang` so that they re-evaluate when the language changes."""
        lang = lang or self.lang
        return _latin_quotes(i18n.translate(key, lang, **params), lang)

    def t_fallback(self, keys: tuple[str, ...], lang: str, default: str) -> str:
        """The first of `keys` that a catalog knows (core keys first, then the UI's own), else `default`."""
        for key in keys:
            if any(key in i18n.keys(language) for language in i18n.LANGUAGES):
                return _latin_quotes(i18n.translate(key, lang), lang)
        return default

    def title_lines(self, title: str, width: float, smallest: float) -> str:
        """`title` as it is, or split after the " · " nearest its middle when even `smallest` cannot fit it on one
        line of `width` pixels: "Xingfuli Community Center ·" / "24-hour Reading Room", not "… Reading" / "Room"."""
        if " · " not in title or width <= 0:
            return title
        from kivy.core.text import Label as CoreLabel

        label = CoreLabel(font_size=smallest, bold=True)
        if label.get_extents(title)[0] <= width:
            return title
        cuts = [i for i in range(len(title)) if title.startswith(" · ", i)]
        cut = min(cuts, key=lambda i: abs(len(title) / 2 - i))
        return f"{title[:cut]} ·\n{title[cut + 3:]}"

    def fit_font(self, text: str, width: float, size: float, smallest: float) -> float:
        """The largest font size from `size` down to `smallest` at which each line of `text` fits one line of
        `width` pixels: a long English branch name in the top bar shrinks a little instead of losing its end
        ("24-hour Rea…"), a category tile's count line stays one line instead of pushing "available" onto a third
        line, out of a low tile."""
        if not text or width <= 0:
            return size
        from kivy.core.text import Label as CoreLabel

        def widest(font_size: float) -> float:
            label = CoreLabel(font_size=font_size, bold=True)
            return max(label.get_extents(line)[0] for line in text.split("\n"))

        natural = widest(size)
        if natural <= width:
            return size
        # Text does not scale exactly with the size (hinting, rounding): the proportional guess came out 4 px too
        # wide for the English branch name in elder mode, which then wrapped its last word ("Room") alone.
        guess = float(int(size * width / natural))
        while guess > smallest and widest(guess) > width:
            guess -= 1
        return max(smallest, guess)

    def msg(self, message: Message | None, lang: str | None = None) -> str:
        if message is None:
            return ""
        lang = lang or self.lang
        return _latin_quotes(i18n.translate(message.key, lang, **dict(message.params)), lang)

    def severity_color(self, message: Message | None, *_deps: Any) -> Any:
        if message is None:
            return self.c_info
        return {
            Severity.SUCCESS: self.c_success,
            Severity.WARNING: self.c_warning,
            Severity.ERROR: self.c_error,
        }.get(message.severity, self.c_info)

    def local_time(self, value: datetime) -> datetime:
        if value.tzinfo is None:
            return value
        return value.astimezone(self.settings.tz)

    def fmt_date(self, value: datetime | None, lang: str | None = None) -> str:
        if value is None:
            return ""
        value = self.local_time(value)
        if (lang or self.lang) == "en":
            return f"{value.day} {value:%b %Y}"  # "4 Dec 2026", as the clock's date: no leading zero
        return f"{value.year}年{value.month}月{value.day}日"

    def fmt_datetime(self, value: datetime | None, lang: str | None = None) -> str:
        if value is None:
            return ""
        return f"{self.fmt_date(value, lang)} {self.local_time(value):%H:%M}"

    def fmt_spans(self, spans: tuple[tuple[str, str], ...], lang: str | None = None) -> str:
        if not spans:
            return self.t("ui.hours.closed", lang)
        if spans == (("00:00", "24:00"),):
            return self.t("ui.hours.all_day", lang)
        return ", ".join(f"{a}–{b}" for a, b in spans)

    def branch_name(self, branch: BranchInfo | None, lang: str | None = None) -> str:
        if branch is None:
            return self.t("ui.app.title", lang)
        return branch.name_en if (lang or self.lang) == "en" and branch.name_en else branch.name

    def branch_label(self, name: str, lang: str | None = None) -> str:
        """A branch named by the core or the catalog (a receipt, a copy's location): this branch's English name in
        English when that is the one meant; any other branch keeps the name it has."""
        branch = self.branch
        if branch is not None and name == branch.name:
            return self.branch_name(branch, lang)
        return name

    def loans_line(self, patron: Any, lang: str | None = None) -> str:
        """"3/5 books on loan, 1 overdue", or "none overdue": "逾期 0 本" read like a count of trouble."""
        if patron is None:
            return ""
        key = "ui.menu.loans" if patron.overdue_count else "ui.menu.loans_none_overdue"
        return self.t(key, lang, count=patron.loans_count, limit=patron.max_loans, overdue=patron.overdue_count)

    def shelf_label(self, mark: str, lang: str | None = None) -> str:
        """A copy's shelf location in the visitor's language, where the mark can be translated."""
        return i18n.shelf_mark(mark, lang or self.lang)

    # ------------------------------------------------------------------ session views
    def attach(self, session: SessionPort) -> None:
        """Serve another session (a restart of the core, or the next test): its views replace the current one."""
        self.session = session
        session.subscribe(self._listener_for(session))
        with self._pending_lock:
            self._pending_view = None
        self.view = session.current()

    def _listener_for(self, session: SessionPort) -> Callable[[SessionView], None]:
        """Views of a session this app no longer serves are ignored (the Protocol has no unsubscribe)."""

        def listener(view: SessionView) -> None:
            if session is self.session:
                self._on_session_view(view)

        return listener

    def _on_session_view(self, view: SessionView) -> None:
        """Called from the session's worker thread: keep the newest view, draw it on the next frame."""
        with self._pending_lock:
            self._pending_view = view
        self._view_trigger()

    def _apply_pending_view(self, _dt: float = 0) -> None:
        with self._pending_lock:
            view, self._pending_view = self._pending_view, None
        if view is None:
            return
        self.view = view

    def on_view(self, _app: Any, view: SessionView) -> None:
        self.attract_hint = ""  # the core's newer word replaces a local hint
        if view.screen is not Screen.ATTRACT:
            self.local_screen = ""
        if view.idle_warning_remaining_s is None:
            self._idle_deadline = None
            self.idle_left = -1
        else:
            self._idle_deadline = _time.monotonic() + view.idle_warning_remaining_s
            self.idle_left = max(0, round(view.idle_warning_remaining_s))
        self._route()

    def on_local_screen(self, *_: Any) -> None:
        self._route()

    def _route(self) -> None:
        if self.root is None:
            return
        name = (self.local_screen or "attract") if self.view.screen is Screen.ATTRACT else self.view.screen.value
        self.root.show(name)

    def _tick_idle(self, _dt: float) -> None:
        if self._idle_deadline is not None:
            self.idle_left = max(0, round(self._idle_deadline - _time.monotonic()))

    # ------------------------------------------------------------------ commands from taps
    def user_touched(self) -> None:
        """Every tap: keep the visit alive; the core resets its idle timer."""
        self._last_local_touch = _time.monotonic()
        self.awake = True
        self._sleep_event.cancel()
        self._sleep_event()
        if self.view.screen is not Screen.ATTRACT or self.view.idle_warning_remaining_s is not None:
            self.session.touch()

    def toggle_language(self) -> None:
        self.lang = "en" if self.lang == "zh_CN" else "zh_CN"

    def toggle_elder(self) -> None:
        self.elder = not self.elder

    def call_help(self) -> None:
        """Help on every screen raises an alert for the librarian on duty (through the core, if it offers it)."""
        raise_alert = getattr(self.session, "call_help", None)
        if callable(raise_alert):
            raise_alert()
        else:
            log.warning("help requested at the kiosk (session has no call_help)")
        self.show_notice("ui.help.called")

    def show_notice(self, key: str, seconds: float = 6.0) -> None:
        self.notice = key
        if self._notice_event is not None:
            self._notice_event.cancel()
        self._notice_event = Clock.schedule_once(lambda _dt: setattr(self, "notice", ""), seconds)

    def open_local(self, name: str) -> None:
        """A browse screen (find, about, audio): visitor-only, no card needed."""
        self._last_local_touch = _time.monotonic()
        self.attract_hint = ""
        self.local_screen = name

    def go_home(self) -> None:
        if self.view.screen is Screen.ATTRACT:
            self.local_screen = ""
        else:
            self.session.cancel()

    def ask_for_card(self, purpose: str) -> None:
        """Borrow / My loans on the attract screen: both need the card first, so point at the card reader."""
        self.attract_hint = f"ui.attract.hint_{purpose}"

    def start_return(self) -> None:
        self.session.choose(Screen.RETURNING)

    def _on_key_down(self, _window: Any, key: int, _scancode: int = 0, codepoint: str | None = None,
                     _modifiers: Any = None) -> bool:
        if self.key_sink is not None:
            name = codepoint if codepoint else _key_name(key)
            if name:
                self.key_sink(name, _time.monotonic())
        return key == 27  # Escape never leaves the kiosk

    # ------------------------------------------------------------------ clock, night, rotation
    def _tick_clock(self, _dt: float) -> None:
        now = self._now()
        self.clock_text = f"{now:%H:%M}"
        weekday = self.t(f"ui.weekday.{WEEKDAY_KEYS[now.weekday()]}", self.lang)
        if self.lang == "en":
            self.date_text = f"{weekday} {now.day} {now:%b %Y}"
        else:
            self.date_text = f"{now.year}年{now.month}月{now.day}日 {weekday}"
        self.night = theme.is_night(now.time(), self.settings.ui.night_dim_from, self.settings.ui.night_dim_to)
        self._update_open_status(now)

    def refresh_clock(self) -> None:
        """Re-read the clock now (date, open status, night dimming) instead of at the next second."""
        self._tick_clock(0)

    def on_lang(self, *_: Any) -> None:
        self._tick_clock(0)

    def on_branch(self, *_: Any) -> None:
        self._tick_clock(0)

    def _update_open_status(self, now: datetime) -> None:
        branch = self.branch
        if branch is None:
            self.open_key, self.hours_today = "", ""
            return
        spans: tuple[tuple[str, str], ...] = ()
        for day in branch.hours:
            if day.weekday == now.weekday():
                spans = day.spans
        # One status, said once: not "Open now · today: Open 24 hours" nor "Closed now · today: Closed".
        if spans == (("00:00", "24:00"),):
            self.open_key, self.hours_today = "ui.attract.open_all_day", ""
        elif not spans:
            self.open_key, self.hours_today = "ui.attract.closed_today", ""
        else:
            hhmm = f"{now:%H:%M}"
            is_open = any(a <= hhmm < b for a, b in spans)
            self.open_key = "ui.attract.open_now" if is_open else "ui.attract.closed_now"
            self.hours_today = self.fmt_spans(spans)

    def _rotate(self, _dt: float) -> None:
        self.rotation_index += 1

    def _check_browse_idle(self, _dt: float) -> None:
        if self.local_screen and _time.monotonic() - self._last_local_touch > BROWSE_IDLE_S:
            self.local_screen = ""

    # ------------------------------------------------------------------ browse data, off the UI thread
    def refresh_browse_data(self) -> None:
        """Branch information (hours, events, announcements), re-read now and then: librarians edit it."""
        browser = self.browser
        if browser is not None:
            self.worker.submit("branch", browser.branch_info, lambda info: setattr(self, "branch", info))

    def refresh_occupancy(self) -> None:
        source = self.occupancy_source
        if source is not None:
            self.worker.submit("occupancy", source, self._set_occupancy)

    def _set_occupancy(self, value: OccupancyView | None) -> None:
        self.occupancy = value if value is not None and value.people is not None else None
