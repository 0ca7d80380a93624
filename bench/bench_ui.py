"""Responsiveness of the touch screen, headless (Mesa llvmpipe, offscreen SDL): how long from an event to the frame
that shows it.

    SDL_VIDEODRIVER=offscreen .venv/bin/python bench/bench_ui.py --rounds 20 [--multisamples 2]

Measures, on the real KioskApp, at each of the three sizes (one process per size: the offscreen driver keeps the
framebuffer of the window's first size, so a resized window would raster fewer pixels than a real screen):
- view published from a worker thread → label shows it, frame drawn (the session → screen path);
- touch down on a button → pressed colour drawn (the "visible response within 100 ms" rule);
- language switch and elder-mode switch → every screen re-rendered and drawn;
- key press on the search keyboard → results drawn (demo browser: measures the UI path, not the catalog query).
Every sample ends with `glFinish()`, so it is the time until the frame is really rasterised, not merely queued.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")

MEASURES = (
    ("view", "session view (worker thread) → drawn", "≤ 100 ms"),
    ("tap", "touch down → pressed colour drawn", "≤ 100 ms"),
    ("lang", "language switch → all screens re-rendered, drawn", "≤ 500 ms"),
    ("elder", "elder-mode switch → re-laid out, drawn", "≤ 500 ms"),
    ("search", "search key → results drawn (demo browser)", "≤ 100 ms + query"),
)


def _stats(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"mean {statistics.mean(ms):.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms (n = {len(ms)})"


def _shows(harness: Any, expected: str) -> bool:
    return bool(harness.find("last_message").text == expected)


def _released(button: Any) -> bool:
    return bool(button.state == "normal")


def measure(width: int, height: int, rounds: int, multisamples: str) -> dict[str, Any]:
    """All five measures in this process, with the window opened at `width`×`height`."""
    from kiosk.config import load_settings

    home = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    settings = load_settings(env={"KIOSK_DATA_DIR": str(home), "KIOSK_UI_FULLSCREEN": "0",
                                  "KIOSK_UI_WIDTH": str(width), "KIOSK_UI_HEIGHT": str(height),
                                  "KIOSK_UI_MULTISAMPLES": multisamples})
    from ui import configure_kivy

    configure_kivy(settings, headless=True)
    from kivy.base import EventLoop
    from kivy.graphics.opengl import GL_RENDERER, glFinish, glGetIntegerv, glGetString

    from kiosk.session.view import Message, Severity
    from ui.app import KioskApp
    from ui.demo import DemoBrowser, ScriptedSession, demo_views
    from ui.headless import Harness, _Touch

    session = ScriptedSession()
    app = KioskApp(session, DemoBrowser(), settings)
    h = Harness(app)
    h.set_size(width, height)
    views = demo_views()
    session.publish(views["borrowing"])
    h.settle()
    samples: dict[str, list[float]] = {key: [] for key, _, _ in MEASURES}

    # 1. view from a worker thread → drawn
    for i in range(rounds):
        view = replace(views["borrowing"], last=Message("refusal.limit_reached", {"count": i, "max": 99},
                                                        Severity.WARNING))
        start = time.perf_counter()
        threading.Thread(target=session.publish, args=(view,)).start()
        expected = f"您已借 {i} 本，达到上限 99 本。请先归还再借"
        assert h.wait_for(partial(_shows, h, expected), timeout=5)
        h.pump(1)
        glFinish()  # the frame is really drawn, not just queued
        samples["view"].append(time.perf_counter() - start)

    # 2. touch down → pressed state drawn
    for _ in range(rounds):
        button = h.find("finish")
        x, y = button.to_window(*button.center)
        touch = _Touch(x, y)
        start = time.perf_counter()
        EventLoop.post_dispatch_input("begin", touch)
        h.pump(1)
        glFinish()
        assert button.state == "down", (touch.pos, button.pos, button.size, h.app.root.manager.current)
        samples["tap"].append(time.perf_counter() - start)
        EventLoop.post_dispatch_input("end", touch)
        assert h.wait_for(partial(_released, button), timeout=2)  # released after min_state_time
    session.commands.clear()

    # 3. language and elder switches
    session.publish(views["attract"])
    h.settle()
    for _ in range(2):  # warm-up: the first switch loads the fonts at every size once
        app.lang = "en" if app.lang == "zh_CN" else "zh_CN"
        h.pump(2)
    for _ in range(max(4, rounds // 4)):
        start = time.perf_counter()
        app.lang = "en" if app.lang == "zh_CN" else "zh_CN"
        h.pump(1)
        glFinish()
        samples["lang"].append(time.perf_counter() - start)
        start = time.perf_counter()
        app.elder = not app.elder
        h.pump(1)
        glFinish()
        samples["elder"].append(time.perf_counter() - start)
    app.lang, app.elder = "zh_CN", False
    h.settle()

    # 4. search keyboard → results drawn
    app.open_local("find")
    h.settle()
    find = app.root.screen("find")
    for _ in range(rounds):
        find.reset()
        h.pump(1)
        start = time.perf_counter()
        find.on_key("P")
        assert h.wait_for(lambda: find.page is not None and find.page.hits, timeout=5)
        h.pump(1)
        glFinish()
        samples["search"].append(time.perf_counter() - start)

    renderer = glGetString(GL_RENDERER).decode()
    sample_buffers = glGetIntegerv(0x80A8)[0]  # GL_SAMPLE_BUFFERS: 1 when the window is multisampled
    h.close()
    return {"renderer": renderer, "multisamples": settings.ui.multisamples, "sample_buffers": sample_buffers,
            "samples": samples}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--sizes", default="1920x1080,1080x1920,1280x800")
    parser.add_argument("--multisamples", default="0", help="ui.multisamples (the kiosk's default is 0)")
    parser.add_argument("--one-size", help=argparse.SUPPRESS)  # internal: the child process for one size
    args = parser.parse_args()

    if args.one_size:
        width, height = (int(v) for v in args.one_size.split("x"))
        print(json.dumps(measure(width, height, args.rounds, args.multisamples)))
        return

    results = {}
    for size in args.sizes.split(","):
        child = subprocess.run([sys.executable, __file__, "--one-size", size, "--rounds", str(args.rounds),
                                "--multisamples", args.multisamples], capture_output=True, text=True, check=True)
        results[size] = json.loads(child.stdout.strip().splitlines()[-1])
    first = next(iter(results.values()))
    print(f"GL renderer: {first['renderer']}; ui.multisamples = {first['multisamples']}, "
          f"sample buffers = {first['sample_buffers']}; load average before: {os.getloadavg()[0]:.1f}")
    print("| measure | size | target | result |")
    print("| --- | --- | --- | --- |")
    for key, name, target in MEASURES:
        for size, result in results.items():
            samples = result["samples"][key]
            print(f"| {name} | {size.replace('x', '×')} | {target} | {_stats(samples)} |")


if __name__ == "__main__":
    main()
