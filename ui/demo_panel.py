"""The demo's control strip: stands in for the hardware, so a visitor can try every flow with a mouse.

It only drives the simulators (place a demo resident's card on the simulated reader, scan a book on the simulated
scanner), never the session directly: what follows is exactly what a real reader and scanner would cause. It is
added to the window only by `kiosk demo`, never on a real kiosk.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kivy.core.window import Window
from kivy.graphics import Color, RoundedRectangle
from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label

from kiosk.i18n import translate


class DemoPanel(BoxLayout):
    """`actions` maps a ui.po key to what it does; each runs off the UI thread (simulators write to a pty)."""

    def __init__(self, actions: list[tuple[str, Callable[[], Any]]], lang: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(orientation="horizontal", size_hint=(None, None), spacing=dp(6), padding=dp(6), **kwargs)
        self._lang = lang
        self._buttons: list[tuple[Button, str]] = []
        with self.canvas.before:
            Color(0.1, 0.1, 0.1, 0.78)
            self._bg = RoundedRectangle(radius=[dp(8)])
        self.bind(pos=self._redraw, size=self._redraw)
        self._title = Label(size_hint=(None, 1), width=dp(70), font_size=dp(13), color=(1, 0.85, 0.3, 1))
        self.add_widget(self._title)
        for key, action in actions:
            button = Button(size_hint=(None, 1), width=dp(118), font_size=dp(13), background_normal="",
                            background_color=(0.25, 0.25, 0.3, 1))
            button.bind(on_release=lambda _b, act=action: threading.Thread(target=act, daemon=True).start())
            self._buttons.append((button, key))
            self.add_widget(button)
        self.height = dp(46)
        self.width = dp(70) + len(actions) * (dp(118) + dp(6)) + dp(18)
        self.refresh()

    def refresh(self, *_: Any) -> None:
        lang = self._lang()
        self._title.text = translate("demo.panel", lang)
        for button, key in self._buttons:
            button.text = translate(key, lang)

    def _redraw(self, *_: Any) -> None:
        self._bg.pos = self.pos
        self._bg.size = self.size


def attach_demo_panel(app: Any, actions: list[tuple[str, Callable[[], Any]]]) -> DemoPanel:
    """Give the strip its own band under the kiosk screen, so it never covers a button of the real UI."""
    panel = DemoPanel(actions, lang=lambda: str(app.lang))
    band = panel.height + dp(8)
    panel.pos = (dp(4), dp(4))
    root = app.root

    def fit(*_: Any) -> None:
        root.size_hint = (1, None)
        root.pos_hint = {"x": 0, "top": 1}
        root.height = Window.height - band
        if getattr(root, "manager", None) is not None:
            root.manager.pos_hint = {"x": 0, "y": 0}  # a FloatLayout places children absolutely without one

    Window.bind(size=fit)
    fit()
    Window.add_widget(panel)
    app.bind(lang=panel.refresh)
    return panel
