"""Responsiveness of the touch screen, headless (Mesa llvmpipe, offscreen SDL): how long from an event to the frame
that shows it.

    SDL_VIDEODRIVER=offscreen .venv/bin/python bench/bench_ui.py --rounds 40

Measures, on the real KioskApp at 1920×1080:
- view published from a worker thread → label shows it, frame drawn (the session → screen path);
- touch down on a button → pressed colour drawn (the "visible response within 100 ms" rule);
- language switch and elder-mode switch → every screen re-rendered and drawn;
- key press on the search keyboard → results drawn (demo browser: measures the UI path, not the catalog query).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")


def _stats(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"mean {statistics.mean(ms):.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms (n = {len(ms)})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()

    from kiosk.config import load_settings

    home = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    settings = load_settings(env={"KIOSK_DATA_DIR": str(home), "KIOSK_UI_FULLSCREEN": "0"})
    from ui import configure_kivy

    configure_kivy(settings, headless=True)
    from kivy.graphics.opengl import glFinish

    from kiosk.session.view import Message, Severity
    from ui.app import KioskApp
    from ui.demo import DemoBrowser, ScriptedSession, demo_views
    from ui.headless import Harness, _Touch

    session = ScriptedSession()
    app = KioskApp(session, DemoBrowser(), settings)
    h = Harness(app)
    h.set_size(1920, 1080)
    h.settle()
    views = demo_views()

    # 1. view from a worker thread → drawn
    view_samples = []
    for i in range(args.rounds):
        view = replace(views["borrowing"], last=Message("ui.demo.limit_reached", {"count": i, "limit": 99},
                                                        Severity.WARNING))
        start = time.perf_counter()
        threading.Thread(target=session.publish, args=(view,)).start()
        expected = f"已借满 {i}/99 本，请先还书再借"
        assert h.wait_for(lambda e=expected: h.find("last_message").text == e, timeout=5)
        h.pump(1)
        glFinish()  # the frame is really drawn, not just queued
        view_samples.append(time.perf_counter() - start)

    # 2. touch down → pressed state drawn
    tap_samples = []
    from kivy.base import EventLoop

    for _ in range(args.rounds):
        button = h.find("finish")
        x, y = button.to_window(*button.center)
        touch = _Touch(x, y)
        start = time.perf_counter()
        EventLoop.post_dispatch_input("begin", touch)
        h.pump(1)
        glFinish()
        assert button.state == "down", (touch.pos, button.pos, button.size, h.app.root.manager.current)
        tap_samples.append(time.perf_counter() - start)
        EventLoop.post_dispatch_input("end", touch)
        assert h.wait_for(lambda b=button: b.state == "normal", timeout=2)  # released after min_state_time
    session.commands.clear()

    # 3. language and elder switches
    session.publish(views["attract"])
    h.settle()
    for _ in range(2):  # warm-up: the first switch loads the fonts at every size once
        app.lang = "en" if app.lang == "zh_CN" else "zh_CN"
        h.pump(2)
    lang_samples, elder_samples = [], []
    for _ in range(max(4, args.rounds // 4)):
        start = time.perf_counter()
        app.lang = "en" if app.lang == "zh_CN" else "zh_CN"
        h.pump(1)
        glFinish()
        lang_samples.append(time.perf_counter() - start)
        start = time.perf_counter()
        app.elder = not app.elder
        h.pump(1)
        glFinish()
        elder_samples.append(time.perf_counter() - start)
    app.lang, app.elder = "zh_CN", False
    h.settle()

    # 4. search keyboard → results drawn
    app.open_local("find")
    h.settle()
    find = app.root.screen("find")
    search_samples = []
    for _ in range(args.rounds):
        find.reset()
        h.pump(1)
        start = time.perf_counter()
        find.on_key("P")
        assert h.wait_for(lambda: find.page is not None and find.page.hits, timeout=5)
        h.pump(1)
        glFinish()
        search_samples.append(time.perf_counter() - start)

    h.close()
    print("| measure | target | result |")
    print("| --- | --- | --- |")
    print(f"| session view (worker thread) → drawn | ≤ 100 ms | {_stats(view_samples)} |")
    print(f"| touch down → pressed colour drawn | ≤ 100 ms | {_stats(tap_samples)} |")
    print(f"| language switch → all screens re-rendered, drawn | ≤ 500 ms | {_stats(lang_samples)} |")
    print(f"| elder-mode switch → re-laid out, drawn | ≤ 500 ms | {_stats(elder_samples)} |")
    print(f"| search key → results drawn (demo browser) | ≤ 100 ms + query | {_stats(search_samples)} |")


if __name__ == "__main__":
    main()
