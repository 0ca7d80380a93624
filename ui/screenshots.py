"""Render every screen and state, in both languages, normal and elder mode, at the three supported sizes.

Runs the real app headless on demo values (`ui.demo`): session states are published as plain `SessionView`s (the
contract), browse screens are driven by taps-equivalent calls on a `BrowserPort`. Call `configure_kivy` before
importing this module (the `kiosk screenshots` command does).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from kivy.clock import Clock

from kiosk.config import Settings
from kiosk.session.view import SessionView
from ui.app import KioskApp
from ui.demo import NOW, STAFF_STATES, DemoBrowser, ScriptedSession, demo_occupancy, demo_views
from ui.headless import Harness
from ui.ports import BrowserPort

log = logging.getLogger(__name__)

SIZES = ((1920, 1080), (1080, 1920), (1280, 800))
LANGUAGES = ("zh_CN", "en")
NIGHT = NOW.replace(hour=15, minute=40)  # 23:40 in Shanghai
CURATED = (
    ("attract", "zh_CN", False, (1920, 1080)),
    ("attract", "en", False, (1080, 1920)),
    ("attract", "zh_CN", True, (1280, 800)),
    ("borrowing", "zh_CN", False, (1920, 1080)),
    ("borrowing_refused", "en", False, (1920, 1080)),
    ("account", "zh_CN", True, (1920, 1080)),
    ("receipt", "zh_CN", False, (1280, 800)),
    ("rating", "en", False, (1920, 1080)),
    ("idle_warning", "zh_CN", False, (1920, 1080)),
    ("find_results", "zh_CN", False, (1920, 1080)),
    ("about", "en", False, (1920, 1080)),
    ("audio", "zh_CN", True, (1080, 1920)),
    ("staff_announcement", "zh_CN", False, (1920, 1080)),
    ("staff_overdue", "en", False, (1280, 800)),
    ("staff_dashboard", "zh_CN", False, (1920, 1080)),
)


@dataclass(frozen=True)
class Shot:
    state: str
    language: str
    elder: bool
    size: tuple[int, int]

    def filename(self) -> str:
        mode = "elder" if self.elder else "normal"
        return f"{self.state}-{self.language}-{mode}-{self.size[0]}x{self.size[1]}.png"


class ScreenshotRenderer:
    def __init__(self, settings: Settings, browser: BrowserPort | None = None, *, search_keys: str = "") -> None:
        """`browser` None: the demo values of `ui.demo` (and a demo door count); else the real catalog, typed into
        with `search_keys` for the search states."""
        self.session = ScriptedSession()
        self.views = demo_views()
        self.now = NOW
        self.search_keys = search_keys or ("S" if browser is None else "HLM")
        self.app = KioskApp(self.session, browser or DemoBrowser(), settings,
                            occupancy=demo_occupancy if browser is None else None,
                            clock=lambda: self.now.astimezone(settings.tz))
        self.harness = Harness(self.app)
        self.harness.settle()
        Clock.unschedule(self.app._rotate)  # a shot shows the first announcement, however long the rendering takes

    def _publish(self, view: SessionView) -> None:
        self.session.publish(view)
        self.harness.settle()

    def _stage(self, state: str) -> None:
        app, h = self.app, self.harness
        app.local_screen = ""
        app.attract_hint = ""
        app.rotation_index = 0
        app.root.screen("staff").open_tab("home")
        self.now = NIGHT if state == "attract_night" else NOW
        app.refresh_clock()
        if state == "staff_status":
            self._publish(self.views["staff"])
            app.root.screen("staff").open_tab("status")
            self._publish(self.views[state])
            h.settle()
            return
        if state in self.views:
            self._publish(self.views[state])
            return
        if state in STAFF_STATES:
            self._publish(self.views["staff"])
            staff = app.root.screen("staff")
            self.session.first_day = state == "staff_dashboard_first_day"
            staff.open_tab(state.removeprefix("staff_").removesuffix("_first_day"))
            h.settle()
            if state.startswith("staff_dashboard"):  # numbers and chart come from the UI worker
                h.wait_for(lambda: not staff.panels["dashboard"].loading, timeout=60)
            if state == "staff_overdue":  # the page is sized to the rows that fit once they are drawn
                overdue = staff.panels["overdue"]
                h.wait_for(lambda: overdue.page is not None and overdue.rows_that_fit() >= len(overdue.page.lines)
                           and len(overdue.ids.overdue_list.children) == len(overdue.page.lines), timeout=10)
                h.settle()
            if state == "staff_announcement":
                panel = staff.panels["announcement"]
                for word in ("XINSHU", "DAOGUAN", "HUANY"):  # 新书 到馆, then 欢迎 offered for "huany"
                    for key in word:
                        panel.on_key(key)
                    h.settle()
                    if word != "HUANY":
                        panel.pick(0)
                        h.settle()
            h.pump(3)
            return
        self._publish(self.views["attract"])
        app.local_screen = ""
        app.attract_hint = ""
        h.pump(2)
        if state == "attract_hint":
            app.ask_for_card("borrow")
        elif state == "attract_night":
            pass
        elif state in ("find", "find_results", "find_category", "detail"):
            app.open_local("find")
            h.settle()
            find = app.root.screen("find")
            if state == "find_category" and find.categories:
                find.choose_category(find.categories[-4].code, find.categories[-4].name)
            elif state != "find":
                for key in self.search_keys:
                    find.on_key(key)
                h.settle()
            if state == "detail" and find.page is not None and find.page.hits:
                find.open_detail(find.page.hits[0].title_id)
        else:
            app.open_local(state)
        h.settle()
        h.pump(3)

    def render(self, shots: Iterable[Shot], out: Path, progress: Callable[[Path], None] | None = None) -> list[Path]:
        written: list[Path] = []
        current: tuple[tuple[int, int], str, bool] | None = None
        for shot in shots:
            setup = (shot.size, shot.language, shot.elder)
            if setup != current:
                self.harness.set_size(*shot.size)
                self.app.lang = shot.language
                self.app.elder = shot.elder
                self.harness.settle()
                current = setup
            self._stage(shot.state)
            self.harness.settle_until_quiet()
            path = self.harness.screenshot(out / shot.filename())
            written.append(path)
            if progress is not None:
                progress(path)
        self._publish(self.views["attract"])
        return written

    def close(self) -> None:
        self.harness.close()


def plan(states: Iterable[str], languages: Iterable[str], sizes: Iterable[tuple[int, int]],
         elder_modes: Iterable[bool]) -> list[Shot]:
    return [Shot(state, lang, elder, size)
            for size in sizes for lang in languages for elder in elder_modes for state in states]


def curated_plan() -> list[Shot]:
    shots = [Shot(state, lang, elder, size) for state, lang, elder, size in CURATED]
    return sorted(shots, key=lambda s: (s.size, s.language, s.elder))
