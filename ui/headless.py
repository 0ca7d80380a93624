"""Running the real app without a display: start it embedded, pump frames, tap widgets, take screenshots.

Used by the UI tests, `kiosk screenshots` and the end-to-end demo. Kivy allows one App (and one window) per
process, so a `Harness` is created once and then driven through many states.

Frames are pumped with `EventLoop.idle()` (clock, input, draw) instead of `App.run()`, so the caller decides when
time passes; a screenshot is taken only after a few frames have been drawn (a shot taken at once is black under
Mesa's offscreen driver).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kivy.base import EventLoop, runTouchApp, stopTouchApp
from kivy.core.window import Window
from kivy.input.motionevent import MotionEvent
from kivy.uix.widget import Widget

from ui.app import KioskApp


class _Touch(MotionEvent):
    """One finger, down then up at a point in window pixels (as Kivy's own UnitTestTouch)."""

    def __init__(self, x: float, y: float) -> None:
        super().__init__("harness", 1, {"x": x / max(Window.width - 1.0, 1), "y": y / max(Window.height - 1.0, 1)},
                         is_touch=True, type_id="touch")
        self.profile = ["pos"]
        self.sx, self.sy = x / max(Window.width - 1.0, 1), y / max(Window.height - 1.0, 1)
        self.x, self.y = x, y
        self.pos = (x, y)

    def depack(self, args: dict[str, float]) -> None:
        self.sx, self.sy = args["x"], args["y"]
        super().depack(args)


class Harness:
    def __init__(self, app: KioskApp) -> None:
        self.app = app
        app._run_prepare()
        runTouchApp(embedded=True)
        self.pump(3)

    def pump(self, frames: int = 2) -> None:
        for _ in range(frames):
            EventLoop.idle()

    def settle(self, timeout: float = 5.0) -> None:
        """Let worker answers arrive and be drawn."""
        self.pump(2)
        self.app.worker.idle(timeout)
        self.pump(3)

    def settle_until_quiet(self, rounds: int = 5) -> None:
        """Settle until drawing the answers asks the worker for nothing more (a list that measured its rows and
        loaded a page of another size), at most `rounds` times: what a screenshot must wait for."""
        for _ in range(rounds):
            before = self.app.worker.submitted
            self.settle()
            self.pump(6)  # wrapped labels settle their heights over a few layout passes
            if self.app.worker.submitted == before:
                return
        self.settle()  # still asking after `rounds`: at least its last answer is drawn

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump(1)
            if condition():
                return True
            time.sleep(0.01)
        return condition()

    def set_size(self, width: int, height: int) -> None:
        Window.size = (width, height)
        self.pump(4)

    def walk(self) -> Iterator[Widget]:
        yield from self.app.root.walk(restrict=False)

    def current_screen(self) -> Any:
        return self.app.root.manager.current_screen

    def find(self, action: str, *, on_screen: bool = True) -> Widget:
        """The widget whose `action` is `action` (on the current screen, unless on_screen=False)."""
        scope = self.current_screen() if on_screen else self.app.root
        for widget in [*scope.walk(restrict=True), *self.app.root.ids.idle.walk(restrict=True)]:
            if getattr(widget, "action", None) == action:
                return widget
        raise LookupError(f"no widget with action {action!r} on screen {self.app.root.manager.current}")

    def tap(self, target: str | Widget) -> None:
        widget = self.find(target) if isinstance(target, str) else target
        x, y = widget.to_window(widget.center_x, widget.center_y)
        touch = _Touch(x, y)
        EventLoop.post_dispatch_input("begin", touch)
        EventLoop.post_dispatch_input("end", touch)
        self.pump(2)

    def screenshot(self, path: Path) -> Path:
        """Render the root widget into an offscreen framebuffer and save it as `path`.

        `Window.screenshot` reads the window's own framebuffer, which the offscreen SDL driver does not grow when
        the window is resized (a portrait shot after a landscape start comes out cropped and black); an Fbo of the
        root's size is exact at every size."""
        from PIL import Image

        self.pump(3)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.app.root.export_to_png(str(path))
        # The Fbo starts transparent where the window would show its clear colour (the screens' background):
        # flatten onto that colour, as the screen shows it.
        r, g, b = (round(c * 255) for c in self.app.c_bg[:3])
        background = (r, g, b, 255)
        with Image.open(path) as shot:
            flat = Image.alpha_composite(Image.new("RGBA", shot.size, background), shot.convert("RGBA"))
        flat.convert("RGB").save(path, optimize=True)
        return path

    def close(self) -> None:
        self.app.dispatch("on_stop")
        stopTouchApp()
