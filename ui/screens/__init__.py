"""The screens. Each has its rules in one `.kv` file next to this module, loaded once by `build_root`.

Session screens (attract, consent, menu, borrowing, returning, account, finishing, receipt, rating, staff) only
render `app.view` and send taps to `app.session`. Browse screens (find, detail, about, audio) belong to a visitor
without a card: they query the `BrowserPort` through `app.worker` and show the answer when it comes back.
"""

from __future__ import annotations

import logging
from itertools import zip_longest
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

from kiosk.browse_view import AudioBookView, BranchInfo, CategoryCount, SearchPage, TitleDetail
from kiosk.session.view import Screen as SessionScreen
from kiosk.session.view import SessionView
from kiosk.traffic.index import BOARDS
from ui import widgets

log = logging.getLogger(__name__)
KV_DIR = Path(__file__).parent
RATING_TAGS = ("fast", "easy", "books", "quiet", "slow", "confusing", "few_books", "noisy")


def _app() -> Any:
    return App.get_running_app()


class KioskScreen(Screen):
    """Base: every screen has the top bar (home, clock, 中/EN, elder mode, help)."""


SEP = "\u00a0\u00a0·  "
"""Between the parts of a line (author · publisher · ISBN): no-break spaces before the dot, so a wrapped line ends
with "·" and the next one never starts with it."""


def _pick(zh: str, en: str, lang: str) -> str:
    """The librarian's English text on an English screen; the Chinese one when they gave none (never a blank)."""
    return en if lang == "en" and en else zh


class AttractScreen(KioskScreen):
    def rotating_text(self, branch: BranchInfo | None, index: int, lang: str) -> str:
        """Announcements and upcoming events, one at a time, in the visitor's language."""
        if branch is None:
            return ""
        items: list[str] = [en if lang == "en" and en else zh for zh, en in branch.announcements]
        app = _app()
        for event in branch.events[:5]:
            title = event.title_en if lang == "en" and event.title_en else event.title
            items.append(app.t("ui.attract.event_line", lang, title=title, when=app.fmt_datetime(event.starts_at, lang),
                               room=_pick(event.room, event.room_en, lang)))
        return items[index % len(items)] if items else ""

    def events_entries(self, branch: BranchInfo | None, lang: str) -> list[str]:
        """The heading and the next three events, one entry each (the label drops whole events that do not fit)."""
        if branch is None or not branch.events:
            return []
        app = _app()
        entries = [app.t("ui.about.events", lang)]
        for event in branch.events[:3]:
            title = event.title_en if lang == "en" and event.title_en else event.title
            entries.append(f"•\u00a0{app.fmt_datetime(event.starts_at, lang)}  {title}")
        return entries

    def occupancy_text(self, occupancy: Any, lang: str) -> str:
        if occupancy is None or occupancy.people is None:
            return ""
        app = _app()
        level = app.t_fallback((f"occupancy.{occupancy.level}", f"ui.occupancy.{occupancy.level}"), lang,
                               occupancy.level) if occupancy.level else ""
        return app.t("ui.attract.occupancy", lang, people=occupancy.people, level=level).rstrip(" ·")


class ConsentScreen(KioskScreen):
    pass


class MenuScreen(KioskScreen):
    def blocks_text(self, view: SessionView, lang: str) -> str:
        if view.patron is None:
            return ""
        return "\n".join(_app().msg(b, lang) for b in view.patron.blocks)


def _scan_rows(view: SessionView, lang: str) -> list[dict[str, Any]]:
    app = _app()
    rows = []
    for line in reversed(view.scans):
        if line.ok and line.due_at is not None:
            detail = app.t("ui.borrow.due", lang, date=app.fmt_date(line.due_at, lang))
        else:
            detail = app.msg(line.outcome, lang)
        rows.append({
            "title": line.title or line.barcode,
            "detail": detail,
            "mark": "✓" if line.ok else "×",
            "mark_color": app.c_success if line.ok else app.c_error,
        })
    return rows


def _show_first(parent: Any, button: Any, shown: bool) -> None:
    """Put `button` back as `parent`'s first child when `shown`, take it out when not: a button that can do
    nothing here is not drawn at all (the caller keeps a strong reference while it is out of the tree)."""
    if shown and button.parent is None:
        parent.add_widget(button, index=len(parent.children))
    elif not shown and button.parent is not None:
        parent.remove_widget(button)


class _CancelUntilDone(KioskScreen):
    """Borrowing and returning offer Cancel only while nothing was lent or returned yet; then Finish (which offers
    a receipt, or none) is the way out, so nobody leaves believing Cancel undid a loan."""

    def on_kv_post(self, _base: Any) -> None:
        self._cancel_button = self.ids.cancel_button.__self__  # a strong reference while it is out of the tree
        app = _app()
        app.bind(view=lambda *_: self._offer_cancel(app.view))
        self._offer_cancel(app.view)

    def _offer_cancel(self, view: SessionView) -> None:
        _show_first(self.ids.finish_row, self._cancel_button, not any(line.ok for line in view.scans))


class BorrowingScreen(_CancelUntilDone):
    def scan_rows(self, view: SessionView, lang: str, _elder: bool) -> list[dict[str, Any]]:
        return _scan_rows(view, lang)

    def count_text(self, view: SessionView, lang: str) -> str:
        if view.patron is None:
            return ""
        return _app().t("ui.borrow.count", lang, count=view.patron.loans_count, limit=view.patron.max_loans)


class ReturningScreen(_CancelUntilDone):
    def scan_rows(self, view: SessionView, lang: str, _elder: bool) -> list[dict[str, Any]]:
        return _scan_rows(view, lang)


class AccountScreen(KioskScreen):
    def loan_rows(self, view: SessionView, lang: str, _elder: bool) -> list[dict[str, Any]]:
        app = _app()
        rows = []
        for loan in view.loans:
            due = app.t("ui.account.due", lang, date=app.fmt_date(loan.due_at, lang))
            if loan.overdue:
                due = app.t("ui.account.overdue", lang) + "  " + due
            rows.append({
                "title": loan.title,
                "detail": due if loan.renewable else due + SEP + app.msg(loan.refusal, lang),
                "loan_id": loan.loan_id,
                "renewable": loan.renewable,
                "overdue": loan.overdue,
            })
        return rows


class FinishingScreen(KioskScreen):
    """The print button is there only on a kiosk with a receipt printer: one that can never print is a dead end."""

    def on_kv_post(self, _base: Any) -> None:
        self._print_button = self.ids.print_button.__self__  # a strong reference while it is out of the tree
        app = _app()
        app.bind(view=lambda *_: self._offer_print(app.view.can_print))
        self._offer_print(app.view.can_print)

    @staticmethod
    def printer_troubled(view: SessionView) -> bool:
        return view.last is not None and view.last.key.startswith("receipt.choose.")

    def _offer_print(self, can_print: bool) -> None:
        _show_first(self.ids.receipt_choices, self._print_button, can_print)


class ReceiptScreen(KioskScreen):
    def receipt_text(self, view: SessionView, lang: str) -> str:
        receipt = view.receipt
        if receipt is None:
            return ""
        app = _app()
        lines = [app.branch_label(receipt.branch_name, lang),
                 f"{receipt.masked_name}  {app.fmt_datetime(receipt.at, lang)}", ""]
        for line in receipt.lines:
            action = app.t(f"ui.receipt.{line.action}", lang)
            due = app.t("ui.borrow.due", lang, date=app.fmt_date(line.due_at, lang)) if line.due_at else ""
            lines.append(f"{action}  {line.title}  {due}".rstrip())
        if receipt.print_problem is not None:
            lines += ["", app.msg(receipt.print_problem, lang)]
        return "\n".join(lines)


class RatingScreen(KioskScreen):
    chosen = ListProperty([])

    def toggle_tag(self, tag: str) -> None:
        self.chosen = [t for t in self.chosen if t != tag] if tag in self.chosen else [*self.chosen, tag]

    def rate(self, score: str) -> None:
        _app().session.rate(score, tuple(self.chosen))
        self.chosen = []

    def on_leave(self, *_: Any) -> None:
        self.chosen = []


class StaffLoginScreen(KioskScreen):
    pin = StringProperty("")

    def on_pin_key(self, key: str) -> None:
        if key == "clear":
            self.pin = ""
        elif key == "ok":
            pin, self.pin = self.pin, ""
            _app().session.staff_login(pin)
        elif len(self.pin) < 12:
            self.pin += key

    def on_leave(self, *_: Any) -> None:
        self.pin = ""


STAFF_TABS = ("home", "dashboard", "overdue", "status", "announcement")
_chart_dir: Path | None = None


def chart_dir() -> Path:
    """Where the dashboard's chart PNGs go: one temporary folder per process, made on first use."""
    global _chart_dir
    if _chart_dir is None:
        import tempfile

        _chart_dir = Path(tempfile.mkdtemp(prefix="kiosk-dashboard-"))
    return _chart_dir


EXIT_CONFIRM_S = 5.0
"""How long a first tap on "Exit the kiosk program" waits for the second one."""


class StaffScreen(KioskScreen):
    report = ObjectProperty(None, allownone=True)
    tab = StringProperty("home")
    """Which librarian panel fills the body: home (report), dashboard, overdue, status (scan to set status)."""
    exit_armed = BooleanProperty(False)
    """The first tap on exit was made: the button asks for a second within `EXIT_CONFIRM_S`. A closed program
    leaves a room open all night without its kiosk, so one stray tap must not do it."""

    def on_kv_post(self, *_: Any) -> None:
        self.panels: dict[str, Any] = {
            "home": StaffReportPanel(screen=self), "dashboard": DashboardPanel(), "overdue": OverduePanel(),
            "status": StatusScanPanel(), "announcement": AnnouncementPanel(),
        }
        self._show_tab()

    def on_enter(self, *_: Any) -> None:
        """Device health and today's counts come from the core if it offers `staff_report()`; fetched off-thread."""
        app = _app()
        source = getattr(app.session, "staff_report", None)
        if callable(source):
            app.worker.submit("staff", source, lambda value: setattr(self, "report", value))

    def on_leave(self, *_: Any) -> None:
        """Overdue lines carry masked names: nothing of them survives the librarian's sign-out."""
        self._disarm_exit()
        self.tab = "home"
        self.panels["overdue"].page = None
        self.panels["dashboard"].clear()
        self.panels["announcement"].clear()

    def open_tab(self, name: str) -> None:
        if name not in STAFF_TABS:
            return
        app = _app()
        if self.tab == "status" and name != "status":
            action = getattr(app.session, "staff_action", None)
            if callable(action):
                action("")  # scans stop changing items once the librarian leaves the status panel
        self.tab = name
        if name == "dashboard":
            self.panels["dashboard"].refresh()
        elif name == "overdue":
            self.panels["overdue"].load(0)
        elif name == "announcement":
            self.panels["announcement"].load()

    def on_tab(self, *_: Any) -> None:
        self._show_tab()

    def _show_tab(self) -> None:
        body = self.ids.get("body")
        panels = getattr(self, "panels", None)
        if body is None or panels is None:
            return
        body.clear_widgets()
        body.add_widget(panels[self.tab])

    def report_text(self, report: Any, view: SessionView, lang: str) -> str:
        app = _app()
        lines = [app.t("ui.staff.signed_in", lang, name=view.staff_name or "—")]
        if view.offline:
            lines.append(app.t("ui.staff.offline", lang))
        if isinstance(report, dict):
            lines += [self._report_line(str(key), value, lang) for key, value in report.items()]
        elif report is None:
            lines.append(app.t("ui.staff.no_report", lang))
        return "\n".join(lines)

    @staticmethod
    def _report_line(key: str, value: Any, lang: str) -> str:
        """One line of the runtime's report in the librarian's language.

        The runtime labels its counts "今日借出 Loans today" (both languages, for logs and the CLI) and its devices
        "设备 <slot>" with a health state ("failed (reason)"): the label half of the chosen language is shown, and
        device slots and states through the catalogs (unknown ones as they are)."""
        app = _app()
        if key.startswith("设备 "):
            slot = key.removeprefix("设备 ")
            state, _, reason = str(value).partition(" ")
            device = app.t_fallback((f"ui.device.{slot}",), lang, slot)
            shown = app.t_fallback((f"ui.device_state.{state}",), lang, state)
            reason = reason.strip("()")
            why = app.t_fallback((f"ui.device_reason.{reason.replace(' ', '_')}",), lang, reason) if reason else ""
            key = "ui.staff.device_line_reason" if why else "ui.staff.device_line"
            return app.t(key, lang, device=device, state=shown, reason=why)
        zh, _, en = key.partition(" ")
        label = en if lang == "en" and en else zh
        return f"{label}{'：' if lang != 'en' else ': '}{value}"

    def exit_kiosk(self) -> None:
        """First tap: ask for a second. Second tap within `EXIT_CONFIRM_S`: sign out and stop the program (the
        runtime's shutdown switches the door relay off and closes the devices)."""
        if not self.exit_armed:
            self.exit_armed = True
            self._exit_timer = Clock.schedule_once(lambda _dt: self._disarm_exit(), EXIT_CONFIRM_S)
            return
        self._disarm_exit()
        app = _app()
        app.session.staff_exit()
        app.stop()

    def _disarm_exit(self) -> None:
        timer = getattr(self, "_exit_timer", None)
        if timer is not None:
            timer.cancel()
            self._exit_timer = None
        self.exit_armed = False


class StaffReportPanel(BoxLayout):
    screen = ObjectProperty(None, allownone=True, rebind=True)
    """The staff screen whose `report` this panel shows."""


def _chart_frame(pixels: tuple[int, int], text_px: float) -> Any:
    """On the worker: matplotlib (imported with the charts) stays off the UI thread. None before the panel has a
    size of its own (a page-sized chart, shrunk, until the panel is laid out and the chart drawn again)."""
    from kiosk.traffic.charts import ChartFrame

    return ChartFrame(pixels[0], pixels[1], text_px) if min(pixels) >= 120 else None


class DashboardPanel(BoxLayout):
    """Today's and this week's visits, peak hour, popularity index and satisfaction, plus the week's chart.

    The chart is drawn by `kiosk.traffic.charts` on the UI worker into a PNG at the pixels of its panel, with the
    screen's small text size (a page-sized chart shrunk into a landscape panel had 4-pixel labels); its texture is
    decoded once per refresh on the main thread and kept, so nothing is created per frame. When the panel's size
    changes (rotation, elder mode), the chart is drawn again for the new size."""

    data = ObjectProperty(None, allownone=True)
    chart_texture = ObjectProperty(None, allownone=True)
    loading = BooleanProperty(False)
    available = BooleanProperty(True)

    def __init__(self, **kwargs: Any) -> None:
        self._drawn_for: tuple[int, int] = (0, 0)
        self._waiting_for_layout = False
        super().__init__(**kwargs)
        self._redraw = Clock.create_trigger(self._redraw_if_resized, 0.3)

    def on_kv_post(self, _base: Any) -> None:
        self.ids.chart_panel.bind(size=lambda *_: self._redraw())

    def chart_pixels(self) -> tuple[int, int]:
        """The panel's inside, where the chart image is shown."""
        panel = self.ids.chart_panel
        left, top, right, bottom = panel.padding
        return int(panel.width - left - right), int(panel.height - top - bottom)

    def _redraw_if_resized(self, *_: Any) -> None:
        if self._waiting_for_layout:
            self._waiting_for_layout = False
            self._submit()
            return
        if self.data is None or self.loading or self.get_root_window() is None:
            return
        (w, h), (dw, dh) = self.chart_pixels(), self._drawn_for
        if abs(w - dw) > 0.05 * max(dw, 1) or abs(h - dh) > 0.05 * max(dh, 1):
            self.refresh()

    def clear(self) -> None:
        self.data, self.chart_texture, self.loading = None, None, False
        self._waiting_for_layout = False

    @staticmethod
    def _source() -> Any:
        """The session's `staff_dashboard`, or None for a session without one."""
        source = getattr(_app().session, "staff_dashboard", None)
        return source if callable(source) else None

    def refresh(self) -> None:
        if self._source() is None:
            self.available, self.data = False, None
            return
        self.available, self.loading = True, True
        # A tab just opened (or this panel, last shown at another window size) is laid out on the next frames:
        # the chart is drawn for the size it will have, once the layout has settled.
        self._waiting_for_layout = True
        self._redraw()

    def _submit(self) -> None:
        app, source = _app(), self._source()
        if source is None:  # the session changed while the tab was being laid out
            self.available, self.loading = False, False
            return
        out, lang = chart_dir(), app.lang
        self._drawn_for = pixels = self.chart_pixels()
        text_px = float(app.font_small)
        app.worker.submit("dashboard", lambda: source(out, lang, _chart_frame(pixels, text_px)), self._loaded,
                          lambda _exc: setattr(self, "loading", False))

    def _loaded(self, data: Any) -> None:
        from kivy.core.image import Image as CoreImage

        self.loading = False
        self.data = data
        chart = getattr(data, "chart", None)
        self.chart_texture = CoreImage(str(chart), nocache=True).texture if chart is not None else None
        self._redraw()  # the panel may have changed size while the chart was being drawn

    def index_basis(self, data: Any, lang: str) -> str:
        """Which boards the popularity index rests on, when not all three: "" when it rests on all (or is not
        there)."""
        app = _app()
        boards = tuple(data.index_boards) if data is not None and data.index_total is not None else ()
        if not boards or set(boards) >= set(BOARDS):
            return ""
        names = [app.t(f"ui.librarian.board.{board}", lang) for board in boards]
        joined = "、".join(names) if lang == "zh_CN" else " and ".join(names)
        return app.t("ui.librarian.index_basis", lang, boards=joined)

    def number(self, value: float | None, kind: str, lang: str) -> str:
        """A headline number, or "no data yet": a gap is never shown as 0."""
        app = _app()
        if value is None:
            return app.t("ui.librarian.no_data", lang)
        if kind == "hour":
            return app.t("ui.librarian.peak_value", lang, hour=int(value))
        if kind == "percent":
            return f"{value * 100:.0f}%"
        if kind == "score":
            return f"{value:.1f}"
        return f"{value:.0f}"


class OverduePanel(BoxLayout):
    page = ObjectProperty(None, allownone=True)
    available = BooleanProperty(True)
    per_page = NumericProperty(0)
    """Rows a page holds: the theme's page size, fewer where that many rows do not fit the list (in elder mode at
    1920x1080 only 3½ of 4 did, and a paged list that also scrolls hides its last row), more where the list has
    room for them (portrait left half of the list empty). 0: not measured yet."""
    _grown = False
    """Grown once for this list area: rows of other heights on the next page must not make it grow and shrink
    back and forth."""

    def on_kv_post(self, *_: Any) -> None:
        self._fit_trigger = Clock.create_trigger(self._fit)
        self.ids.overdue_list.bind(height=self._fit_trigger)
        self.ids.overdue_scroll.bind(height=self._on_list_area)
        _app().bind(page_size=self._on_list_area)

    def page_size(self) -> int:
        return max(1, int(self.per_page or _app().page_size))

    def load(self, offset: int) -> None:
        app = _app()
        source = getattr(app.session, "staff_overdue", None)
        if not callable(source):
            self.available, self.page = False, None
            return
        self.available = True
        limit = self.page_size()
        app.worker.submit("overdue", lambda: source(max(0, offset), limit), lambda page: setattr(self, "page", page))

    def turn(self, step: int) -> None:
        page = self.page
        if page is None:
            return
        new = page.offset + step * self.page_size()
        if 0 <= new < page.total:
            self.load(new)

    def rows_that_fit(self) -> int:
        """How many of the rows shown, from the first, fit the list's height whole (at least one)."""
        rows, area = self.ids.overdue_list, self.ids.overdue_scroll.height
        used, count = 0.0, 0
        for row in reversed(rows.children):
            used += row.height + (rows.spacing if count else 0)
            if used > area + 0.5:
                break
            count += 1
        return max(1, count)

    def rows_with_room(self) -> int:
        """How many rows as tall as the tallest shown the list's height holds (at least one)."""
        rows, area = self.ids.overdue_list, self.ids.overdue_scroll.height
        tallest = max((row.height for row in rows.children), default=0.0)
        if tallest <= 0:
            return 1
        return max(1, int((area + rows.spacing + 0.5) // (tallest + rows.spacing)))

    def _fit(self, *_: Any) -> None:
        page = self.page
        if page is None or not page.lines or len(self.ids.overdue_list.children) != len(page.lines):
            return
        fits = self.rows_that_fit()
        if fits < len(page.lines):
            self.per_page, self._grown = fits, True
            self.load(page.offset - page.offset % fits)
            return
        more = self.rows_with_room()
        if (not self._grown and len(page.lines) == self.page_size() and more > len(page.lines)
                and page.offset + len(page.lines) < page.total):
            self.per_page, self._grown = more, True
            self.load(page.offset - page.offset % more)

    def _on_list_area(self, *_: Any) -> None:
        # Another list area (window size, text size): measure again from the theme's page size.
        self._grown, self.per_page = False, 0
        page = self.page
        if page is not None:  # a page of the new size, starting on its boundary (or Previous misses row 0)
            self.load(page.offset - page.offset % self.page_size())
        self._fit_trigger()

    def header_text(self, page: Any, lang: str, _per_page: float = 0) -> str:
        app = _app()
        if not self.available:
            return app.t("ui.librarian.unavailable", lang)
        if page is None:
            return app.t("ui.common.loading", lang)
        if not page.total:
            return app.t("ui.librarian.overdue_none", lang)
        size = self.page_size()
        pages = (page.total + size - 1) // size
        return SEP.join((app.t("ui.librarian.overdue_count", lang, total=page.total),
                             app.t("ui.librarian.page", lang, page=page.offset // size + 1, pages=pages)))

    def rows(self, page: Any, lang: str, _elder: bool) -> list[dict[str, Any]]:
        if page is None:
            return []
        app = _app()
        return [{"title": line.title,
                 "detail": app.t("ui.librarian.overdue_detail", lang, barcode=line.barcode,
                                 due=app.fmt_date(line.due_at, lang), days=line.days_late, patron=line.patron),
                 "mark": "!", "mark_color": app.c_error}
                for line in page.lines]


class StatusScanPanel(BoxLayout):
    def choose(self, mode: str) -> None:
        action = getattr(_app().session, "staff_action", None)
        if callable(action):
            action(mode)

    def scan_rows(self, view: SessionView, lang: str, _elder: bool) -> list[dict[str, Any]]:
        return _scan_rows(view, lang) if view.staff_mode else []


PUNCTUATION = {"comma": ("，", ","), "period": ("。", "."), "colon": ("：", ":"), "dash": ("—", "-")}
"""Announcement keyboard marks: full-width in the Chinese text, ASCII in the English one."""


class AnnouncementPanel(BoxLayout):
    """Today's announcement, typed on our own keyboard: pinyin + candidates for Chinese, letters for English.

    Candidates are looked up on the UI worker (the pinyin tables take a second to build the first time, then a
    lookup is well under a millisecond); only the answer for the newest letters is shown. Saving goes through the
    session's `staff_save_announcement` on the worker too, and the attract screen re-reads the branch afterwards."""

    text_zh = StringProperty("")
    text_en = StringProperty("")
    field = StringProperty("zh")
    pending = StringProperty("")
    """Pinyin letters typed and not yet turned into characters."""
    choices = ListProperty([])
    status_key = StringProperty("")
    status_error = BooleanProperty(False)
    loaded = BooleanProperty(False)
    saving = BooleanProperty(False)
    max_chars = NumericProperty(120)

    def clear(self) -> None:
        self.text_zh = self.text_en = self.pending = self.status_key = ""
        self.choices, self.field, self.loaded, self.saving, self.status_error = [], "zh", False, False, False

    def load(self) -> None:
        from kiosk.librarian import ANNOUNCEMENT_MAX_CHARS

        app = _app()
        self.clear()
        self.max_chars = ANNOUNCEMENT_MAX_CHARS
        source = getattr(app.session, "staff_announcement", None)
        if not callable(source):
            self.status_key, self.status_error = "ui.librarian.unavailable", True
            return
        self.status_key = "ui.common.loading"

        def loaded(value: Any) -> None:
            self.loaded, self.status_key = value is not None, "" if value is not None else "ui.librarian.unavailable"
            self.status_error = value is None
            if value is not None:
                self.text_zh, self.text_en = value.text, value.text_en

        app.worker.submit("announcement", source, loaded, self._failed)
        from kiosk.pinyin_input import warm_up

        app.worker.submit("ime_warm_up", warm_up, lambda _none: None)

    def _failed(self, exc: BaseException) -> None:
        self.saving = False
        self.status_key = getattr(exc, "key", "librarian.announcement.failed")
        self.status_error = True

    def choose_field(self, name: str) -> None:
        self._commit_pending()
        self.field = name

    def shown_text(self, text: str, pending: str, editing: bool) -> str:
        """The text with the pinyin being typed and a caret at its end, so the librarian sees where keys go."""
        return text + pending + ("▏" if editing else "")

    def candidate_text(self, choices: list[Any], index: int) -> str:
        return choices[index].text if index < len(choices) else ""

    def _set(self, value: str) -> None:
        value = value[: int(self.max_chars)]
        if self.field == "zh":
            self.text_zh = value
        else:
            self.text_en = value

    def _text(self) -> str:
        return self.text_zh if self.field == "zh" else self.text_en

    def _commit_pending(self) -> None:
        """Letters typed but not turned into characters stay as letters (a brand name, an abbreviation)."""
        if self.pending:
            self.text_zh, self.pending, self.choices = (self.text_zh + self.pending)[: int(self.max_chars)], "", []

    def on_key(self, key: str) -> None:
        self.status_key = ""
        if self.field == "zh" and len(key) == 1 and key.isalpha():
            self.pending = (self.pending + key.lower())[:24]
        elif self.field == "zh" and key == "back" and self.pending:
            self.pending = self.pending[:-1]
        elif key == "space" and self.field == "zh" and self.pending:
            self.pick(0)  # as in every pinyin IME: space takes the first candidate
            return
        else:
            self._commit_pending()
            text = self._text()
            if key == "back":
                self._set(text[:-1])
            elif key == "clear":
                self._set("")
            elif key == "space":
                self._set(text + " ")
            elif key in PUNCTUATION:
                self._set(text + PUNCTUATION[key][0 if self.field == "zh" else 1])
            elif len(key) == 1:
                self._set(text + (key.upper() if self._capitalise(text) else key.lower()))
            return
        self._lookup()

    @staticmethod
    def _capitalise(text: str) -> bool:
        """English: a capital at the start and after a full stop, small letters elsewhere (no shift key to find)."""
        stripped = text.rstrip()
        return not stripped or stripped[-1] in ".!?:"

    def _lookup(self) -> None:
        from kiosk.pinyin_input import candidates

        letters = self.pending
        if not letters:
            _app().worker.cancel("ime")
            self.choices = []
            return
        _app().worker.submit("ime", lambda: candidates(letters, 6),
                             lambda found: setattr(self, "choices", found) if self.pending == letters else None)

    def pick(self, index: int) -> None:
        if index >= len(self.choices) or self.field != "zh":
            return
        choice = self.choices[index]
        rest = self.pending[choice.consumes :]
        self.text_zh = (self.text_zh + choice.text)[: int(self.max_chars)]
        self.pending, self.choices = rest, []
        self._lookup()

    def save(self) -> None:
        app = _app()
        self._commit_pending()
        action = getattr(app.session, "staff_save_announcement", None)
        if not callable(action) or not self.loaded:
            return
        self.saving, self.status_key = True, ""
        text_zh, text_en = self.text_zh, self.text_en

        def saved(value: Any) -> None:
            self.saving = False
            if value is None:
                self.status_key, self.status_error = "ui.librarian.unavailable", True
                return
            self.text_zh, self.text_en = value.text, value.text_en
            self.status_key = "librarian.announcement.saved" if value.text else "librarian.announcement.removed"
            self.status_error = False
            app.refresh_browse_data()

        app.worker.submit("announcement", lambda: action(text_zh, text_en), saved, self._failed)


class FindScreen(KioskScreen):
    query = StringProperty("")
    category = StringProperty("")
    category_name = StringProperty("")
    categories = ListProperty([])
    page = ObjectProperty(None, allownone=True, rebind=True)
    offset = NumericProperty(0)
    loading = NumericProperty(0)
    per_page = NumericProperty(0)
    """Results a page holds: as many rows as the list's area has room for (portrait had room for 8 under 6), the
    theme's page size until the area is measured."""
    hit_row_height = NumericProperty(0)
    results_fit = NumericProperty(0)
    """What `fit_results` last found (bound in find.kv to the panel's height and the row height)."""

    def page_size(self) -> int:
        return max(1, int(self.per_page or _app().page_size))

    def fit_results(self, area_height: float, row_height: float) -> int:
        """The results area is `area_height` high and every result row `row_height`: page by what fits, on a
        boundary of the new size (a shown page is asked for again)."""
        if area_height <= 0 or row_height <= 0:
            return int(self.per_page)
        fits = max(1, int((area_height + 0.5) // row_height))
        if fits != self.per_page:
            self.per_page = fits
            if self.page is not None:
                self.offset -= self.offset % fits
                self.search()
        return fits

    def on_pre_enter(self, *_: Any) -> None:
        app = _app()
        if app.browser is not None and not self.categories:
            app.worker.submit("categories", lambda: list(app.browser.categories()), self._set_categories)

    def _set_categories(self, categories: list[CategoryCount]) -> None:
        self.categories = categories

    def reset(self) -> None:
        self.query, self.category, self.category_name, self.page, self.offset = "", "", "", None, 0

    def on_key(self, key: str) -> None:
        if key == "back":
            self.query = self.query[:-1]
        elif key == "clear":
            self.query = ""
        elif key == "space":
            if not self.query or self.query.endswith(" ") or len(self.query) >= 30:
                return  # a leading or doubled space would change nothing but ask the catalog again
            self.query += " "
        elif len(self.query) < 30:
            self.query += key
        self.offset = 0
        self.search()

    def choose_category(self, code: str, name: str) -> None:
        self.category, self.category_name, self.offset = code, name, 0
        self.search()

    def clear_category(self) -> None:
        self.category, self.category_name, self.offset = "", "", 0
        self.search()

    def turn(self, step: int) -> None:
        page = self.page
        if page is None:
            return
        new = self.offset + step * self.page_size()
        if 0 <= new < page.total:
            self.offset = new
            self.search()

    def search(self) -> None:
        """Results update as letters are typed: each key press asks again; only the newest answer is shown."""
        app = _app()
        if not self.query and not self.category:
            app.worker.cancel("search")
            self.page = None
            return
        if app.browser is None:
            return
        query, category, offset, limit = self.query, self.category or None, self.offset, self.page_size()
        # Only the newest request's answer arrives (the worker drops older ones): a count of requests would never
        # come back to 0 once one was overtaken, as when the list re-pages to what fits while a search is out.
        self.loading = 1

        def done(page: SearchPage) -> None:
            self.loading = 0
            self.page = page

        app.worker.submit("search", lambda: app.browser.search(query, category=category, offset=offset, limit=limit),
                          done, lambda _exc: setattr(self, "loading", 0))

    def hit_rows(self, page: SearchPage | None, lang: str, _elder: bool, row_height: float) -> list[dict[str, Any]]:
        if page is None:
            return []
        app = _app()
        rows = []
        for hit in page.hits:
            shelf = " / ".join(app.shelf_label(mark, lang) for mark in hit.shelf_locations[:2])
            avail = app.t("ui.find.available", lang, available=hit.available, copies=hit.copies)
            rows.append({
                "title": hit.title,
                "authors": hit.authors,
                "where": SEP.join(x for x in (avail, shelf) if x),
                "title_id": hit.title_id,
                "available": hit.available > 0,
                "height": row_height,
            })
        return rows

    def category_label(self, code: str, name: str, lang: str) -> str:
        """A category's name in the visitor's language (the catalog's own name when no catalog knows the code)."""
        return str(_app().t_fallback((f"category.{code}", f"ui.category.{code}"), lang, name))

    def category_tiles(self, categories: list[CategoryCount], lang: str) -> list[dict[str, Any]]:
        app = _app()
        tiles = []
        for cat in categories:
            label = self.category_label(cat.code, cat.name, lang)
            tiles.append({"code": cat.code, "name": cat.name,
                          "text": app.t("ui.find.category_tile", lang, name=label, titles=cat.titles,
                                        available=cat.available)})
        return tiles

    def open_detail(self, title_id: int) -> None:
        app = _app()
        if app.browser is None:
            return
        detail_screen = app.root.screen("detail")
        detail_screen.detail = None
        app.open_local("detail")
        app.worker.submit("detail", lambda: app.browser.title_detail(title_id),
                          lambda detail: setattr(detail_screen, "detail", detail))


class DetailScreen(KioskScreen):
    detail = ObjectProperty(None, allownone=True, rebind=True)

    def header_text(self, detail: TitleDetail | None, lang: str) -> str:
        if detail is None:
            return _app().t("ui.common.loading", lang)
        hit = detail.hit
        app = _app()
        parts = [hit.authors, hit.publisher, str(hit.pub_year or ""), f"ISBN {hit.isbn13}" if hit.isbn13 else "",
                 app.t("ui.detail.call_number", lang, call=hit.call_number) if hit.call_number else ""]
        # The line wraps between parts, never inside one ("Call" / "no. I247.55"): no-break spaces within a part.
        return SEP.join(p.replace(" ", "\u00a0") for p in parts if p)

    def copies_header(self, detail: TitleDetail | None, lang: str, overflows: bool) -> str:
        """Says when the list holds more copies than it shows: a cut-off last row alone does not say it scrolls."""
        app = _app()
        if detail is None or not overflows:
            return app.t("ui.detail.copies", lang)
        return app.t("ui.detail.copies_more", lang, count=len(detail.copies))

    def copy_rows(self, detail: TitleDetail | None, lang: str) -> list[dict[str, Any]]:
        if detail is None:
            return []
        app = _app()
        rows = []
        for copy in detail.copies:
            status = app.t_fallback((f"item_status.{copy.status}", f"ui.item_status.{copy.status}"), lang,
                                    copy.status)
            due = app.t("ui.borrow.due", lang, date=app.fmt_date(copy.due_at, lang)) if copy.due_at else ""
            rows.append({"title": f"{copy.barcode}  ·  {status}",
                         "detail": SEP.join(x for x in (app.branch_label(copy.branch_name, lang),
                                                            app.shelf_label(copy.shelf_location, lang), due)
                                                 if x),
                         # Not on the shelf: an empty circle, a mark of its own (a dot looked like a missing icon).
                         "mark": "✓" if copy.status == "available" else "○",
                         "mark_color": app.c_success if copy.status == "available" else app.c_muted})
        return rows


class AboutScreen(KioskScreen):
    def map_height(self, shown: bool, view_height: float, orientation: str, hours: float, places: float,
                   nearby: float, contact: float, events: float, spacing: float, padding: Any,
                   button_height: float, portrait: bool) -> float:
        """The map panel takes the height the window has left under the other blocks (its column's, side by side),
        so it ends inside the window instead of running off its bottom edge; a map squeezed below 3 buttons would
        be unreadable, so then (portrait, elder mode) it keeps its own size and is reached by scrolling."""
        if not shown:
            return 0.0
        pad = padding[1] + padding[3] if isinstance(padding, list | tuple) and len(padding) == 4 else 2 * spacing
        above = (contact + events + 2 * spacing) if orientation == "horizontal" else (
            hours + places + nearby + contact + events + 5 * spacing)
        left = view_height - pad - above
        if left >= button_height * 3:
            return float(min(left, button_height * 6))
        return float(button_height * (5 if portrait else 4.4))

    def hours_text(self, branch: BranchInfo | None, lang: str) -> str:
        if branch is None:
            return ""
        app = _app()
        from ui.app import WEEKDAY_KEYS

        # Consecutive days with the same hours share a line ("星期一至星期五 8:30–21:00"; "每天 全天开放"): a week of
        # seven identical lines pushes the rest of the screen below the fold.
        days = sorted(branch.hours, key=lambda h: h.weekday)
        runs: list[list[Any]] = []
        for day in days:
            if runs and runs[-1][-1].spans == day.spans and runs[-1][-1].weekday + 1 == day.weekday:
                runs[-1].append(day)
            else:
                runs.append([day])

        def name(day: Any) -> str:
            return app.t(f"ui.weekday.{WEEKDAY_KEYS[day.weekday]}", lang)

        lines = []
        for run in runs:
            if len(run) == 7:
                label = app.t("ui.weekday.every_day", lang)
            elif len(run) > 1:
                label = app.t("ui.weekday.range", lang, first=name(run[0]), last=name(run[-1]))
            else:
                label = name(run[0])
            lines.append(f"{label}   {app.fmt_spans(run[0].spans, lang)}")
        if branch.hours_note or branch.hours_note_en:
            lines.append(_pick(branch.hours_note, branch.hours_note_en, lang))
        return "\n".join(lines)

    def places_text(self, branch: BranchInfo | None, lang: str) -> str:
        if branch is None:
            return ""
        # A no-break space after the bullet: Kivy wraps only at spaces, and a long Chinese line has none, so a plain
        # space would leave the bullet alone on its line.
        sep = ": " if lang == "en" else "："
        lines = []
        for zh_pairs, en_pairs in ((branch.rooms, branch.rooms_en), (branch.services, branch.services_en)):
            for (name, text), (name_en, text_en) in zip_longest(zh_pairs, en_pairs[:len(zh_pairs)],
                                                                fillvalue=("", "")):
                name, text = _pick(name, name_en, lang), _pick(text, text_en, lang)
                lines.append(f"•\u00a0{name}{sep}{text}" if text else f"•\u00a0{name}")
        return "\n".join(lines)

    @staticmethod
    def map_source(branch: BranchInfo | None, lang: str) -> str:
        """The map labelled in the visitor's language when the branch has one, else the one it has ("" if none)."""
        if branch is None:
            return ""
        zh, en = branch.map_image, branch.map_image_en
        return (en or zh) if lang == "en" else (zh or en)

    def contact_text(self, branch: BranchInfo | None, lang: str) -> str:
        if branch is None:
            return ""
        app = _app()
        address = branch.address_en if lang == "en" and branch.address_en else branch.address
        lines = [app.t("ui.about.address", lang, address=address), app.t("ui.about.phone", lang, phone=branch.phone)]
        if branch.contact or branch.contact_en:
            lines.append(_pick(branch.contact, branch.contact_en, lang))
        return "\n".join(lines)

    def nearby_text(self, branch: BranchInfo | None, lang: str) -> str:
        if branch is None:
            return ""
        app = _app()
        lines = []
        for center in branch.nearby:
            dist = app.t("ui.about.distance", lang, km=f"{center.distance_km:.1f}") if center.distance_km else ""
            # The distance ("about 0.8 km") never breaks inside: no-break spaces within it.
            parts = (_pick(center.name, center.name_en, lang), _pick(center.address, center.address_en, lang),
                     dist.replace(" ", "\u00a0"), _pick(center.hours, center.hours_en, lang))
            # A bullet per center, as the rooms have: a center wrapping onto a second line stays one entry.
            lines.append("•\u00a0" + SEP.join(x for x in parts if x))
        return "\n".join(lines) or app.t("ui.about.no_nearby", lang)

    @staticmethod
    def more_below(content_height: float, view_height: float, scroll_y: float) -> bool:
        """Does the page hold more than the screen shows, below what is shown? (`scroll_y` is 1 at the top.)"""
        return content_height > view_height + 1 and scroll_y > 0.01

    def events_text(self, branch: BranchInfo | None, lang: str) -> str:
        if branch is None:
            return ""
        app = _app()
        lines = []
        for event in branch.events:
            title = event.title_en if lang == "en" and event.title_en else event.title
            room = _pick(event.room, event.room_en, lang)
            where = (f"  ({room})" if lang == "en" else f"（{room}）") if room else ""  # full-width in Chinese
            line = f"{app.fmt_datetime(event.starts_at, lang)}  {title}{where}"
            lines.append(f"•\u00a0{line}")
        return "\n".join(lines) or app.t("ui.about.no_events", lang)


class AudioScreen(KioskScreen):
    books = ListProperty([])
    offset = NumericProperty(0)

    def on_pre_enter(self, *_: Any) -> None:
        app = _app()
        if app.browser is not None and not self.books:
            app.worker.submit("audio", lambda: list(app.browser.audio_books()), self._set_books)

    def _set_books(self, books: list[AudioBookView]) -> None:
        self.books, self.offset = books, 0

    def turn(self, step: int) -> None:
        size = int(_app().page_size)
        new = self.offset + step * size
        if 0 <= new < len(self.books):
            self.offset = new

    def cards(self, books: list[AudioBookView], offset: int, page_size: int, lang: str) -> list[dict[str, Any]]:
        app = _app()
        cards = []
        for book in books[offset : offset + page_size]:
            minutes = app.t("ui.audio.minutes", lang, minutes=book.duration_min) if book.duration_min else ""
            # The label is the UI's, in the visitor's language (older demo data carried "播音：" in the name).
            name = book.narrator.removeprefix("播音：").removeprefix("播音:").strip()
            narrator = app.t("ui.audio.narrator", lang, name=name) if name else ""
            # The category is a code the UI names in the visitor's language; the author is a name, shown as written.
            category = app.t_fallback((f"category.{book.category}", f"ui.category.{book.category}"), lang,
                                      "") if book.category else ""
            cards.append({"title": book.title_in(lang),
                          "detail": SEP.join(x for x in (book.author, category, narrator, minutes) if x),
                          "url": book.url})
        return cards


class IdleOverlay(FloatLayout):
    pass


class KioskRoot(FloatLayout):
    manager = ObjectProperty(None, rebind=True)
    """rebind: the dimming rule follows `manager.current` of the manager set after the kv rule was applied."""
    dimmed = BooleanProperty(False)
    """The attract screen at night: dimmed (and shifted by a few pixels now and then) against burn-in."""
    notice_area = ListProperty([0, 0, 0, 0])
    """x, top, width, height of the short notice ("a librarian has been called"): the current screen's top-bar
    title, which nobody needs for those seconds, instead of the bottom of the window where the attract screen
    says where to place the card."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._place_notice = Clock.create_trigger(self.place_notice)
        self._followed: Any = None
        app = _app()
        app.bind(notice=self._place_notice, portrait=self._place_notice, lang=self._place_notice,
                 elder=self._place_notice)
        self.bind(size=self._place_notice)

    def on_manager(self, _root: Any, manager: Any) -> None:
        if manager is not None:
            manager.bind(current=self._place_notice)

    def place_notice(self, *_: Any) -> None:
        title = self._title_label()
        if title is None:  # a screen without a top bar: the bottom of the window, as wide as a panel
            width = self.width * 0.7
            self.notice_area = [self.x + (self.width - width) / 2, self.y + self.height * 0.2, width, 0]
            return
        if title is not self._followed:
            # The bar lays itself out after the screen changes (and when the offline mark comes and goes).
            if self._followed is not None:
                self._followed.unbind(pos=self._place_notice, size=self._place_notice)
            title.bind(pos=self._place_notice, size=self._place_notice)
            self._followed = title
        x, y = title.to_window(title.x, title.y)
        self.notice_area = [x, y + title.height, title.width, title.height]

    def _title_label(self) -> Any:
        if self.manager is None or not self.manager.current:
            return None
        screen = self.manager.current_screen
        bar = next((w for w in screen.walk(restrict=True) if isinstance(w, widgets.TopBar)), None)
        return None if bar is None else bar.ids.get("title_label")

    def on_touch_down(self, touch: Any) -> bool:
        """Any touch anywhere keeps the visit alive (the core restarts its idle timer)."""
        _app().user_touched()
        return bool(super().on_touch_down(touch))

    def show(self, name: str) -> None:
        if self.manager.current != name:
            if name == "attract":
                self.screen("find").reset()
            self.manager.current = name

    def screen(self, name: str) -> Any:
        return self.manager.get_screen(name)


SCREENS: dict[str, type[KioskScreen]] = {
    SessionScreen.ATTRACT.value: AttractScreen,
    SessionScreen.CONSENT.value: ConsentScreen,
    SessionScreen.MENU.value: MenuScreen,
    SessionScreen.BORROWING.value: BorrowingScreen,
    SessionScreen.RETURNING.value: ReturningScreen,
    SessionScreen.ACCOUNT.value: AccountScreen,
    SessionScreen.FINISHING.value: FinishingScreen,
    SessionScreen.RECEIPT.value: ReceiptScreen,
    SessionScreen.RATING.value: RatingScreen,
    SessionScreen.STAFF_LOGIN.value: StaffLoginScreen,
    SessionScreen.STAFF.value: StaffScreen,
    "find": FindScreen,
    "detail": DetailScreen,
    "about": AboutScreen,
    "audio": AudioScreen,
}


LIBRARIAN_KV = ("dashboard", "librarian_overdue", "librarian_status", "librarian_announcement")
"""Rules of the librarian panels shown inside the staff screen (loaded before it: the staff screen builds them)."""


def build_root(app: Any) -> KioskRoot:
    widgets.load()
    widgets.load_kv(KV_DIR / "root.kv")
    for name in SCREENS:
        widgets.load_kv(KV_DIR / f"{name}.kv")
    for name in LIBRARIAN_KV:
        widgets.load_kv(KV_DIR / f"{name}.kv")
    root = KioskRoot()
    manager = ScreenManager(transition=NoTransition())
    for name, cls in SCREENS.items():
        manager.add_widget(cls(name=name))
    root.manager = manager
    root.add_widget(manager, index=len(root.children))
    return root
