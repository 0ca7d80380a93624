"""UI soak, headless: hundreds of whole visits through the real KioskApp, then widget, texture and memory growth.

    SDL_VIDEODRIVER=offscreen .venv/bin/python bench/soak_ui.py --visits 300 [--json]

Each visit is what a resident does at the screen, driven through the real session (SessionRunner → VisitMachine →
Circulation on a SQLite file) and real taps on the real app: card → menu → borrow → one to three scans (some
unknown barcodes, so refusal messages show) → finish → on-screen receipt (a QR texture each time) → rating →
attract; every fifth visit is abandoned and cleared by the idle timeout path (`cancel`), every tenth switches
language and elder mode and back (every screen re-rendered). After a warm-up, the number of live Kivy widgets and
textures (counted through `gc`), the process's RSS, threads and open files are sampled; growth at the end beyond
what one visit can hold is a leak. `kiosk reliability report --ui-visits N` runs this and puts the figures in
docs/RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MAX_WIDGET_GROWTH = 50
"""A visit's own widgets (result rows, receipt lines) are rebuilt, not added: 50 is one screen's worth of slack."""
MAX_TEXTURE_GROWTH = 50
MAX_RSS_GROWTH_KB = 10 * 1024


def live_counts() -> dict[str, int]:
    """Widgets and textures alive; `textures_outside_cache` leaves out those Kivy's own caches hold (label and
    image textures kept for `timeout` seconds after their last use: bounded by time, so not a leak)."""
    from kivy.cache import Cache
    from kivy.graphics.texture import Texture
    from kivy.uix.widget import Widget

    from kiosk.simulate_day import resource_usage

    gc.collect()
    cached: set[int] = set()
    for entries in Cache._objects.values():
        for entry in entries.values():
            held = entry.get("object")
            for candidate in (held, getattr(held, "texture", None), *(held if isinstance(held, (tuple, list)) else ())):
                if isinstance(candidate, Texture):
                    cached.add(id(candidate))
    widgets = textures = outside = 0
    for obj in gc.get_objects():
        if isinstance(obj, Widget):
            widgets += 1
        elif isinstance(obj, Texture):
            textures += 1
            outside += id(obj) not in cached
    import ui.qr

    return {"widgets": widgets, "textures": textures, "textures_outside_cache": outside,
            "receipt_qr_cached": len(ui.qr._CACHE), **resource_usage()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=300)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="soak-ui-"))
    os.environ.setdefault("KIVY_HOME", str(home / "kivy"))

    from kiosk.config import load_settings

    settings = load_settings(env={"KIOSK_DATA_DIR": str(home / "data"), "KIOSK_UI_FULLSCREEN": "0",
                                  "KIOSK_UI_WIDTH": "1280", "KIOSK_UI_HEIGHT": "800"})
    from ui import configure_kivy

    configure_kivy(settings, headless=True)
    from sqlalchemy import select

    from catalog import schema
    from catalog.db import Database
    from catalog.demo import DemoResident, load_demo
    from catalog.model import Item, ItemStatus
    from devices.events import BarcodeScanned, CardKind, CardPresented
    from devices.idcard.demo_cards import DEMO_CARDS
    from devices.identity import mask_id_number, mask_name, person_key
    from kiosk.lending.policy import LendingPolicy
    from kiosk.lending.service import Circulation
    from kiosk.session.runner import SessionRunner
    from kiosk.session.visit import VisitMachine
    from ui.app import KioskApp
    from ui.demo import DemoBrowser, ScriptedSession
    from ui.headless import Harness

    rng = random.Random(args.seed)
    secret = bytes(range(32))
    db = Database.from_url(f"sqlite:///{home / 'soak.sqlite3'}")
    schema.upgrade(db.engine)
    residents = [DemoResident(card_kind=CardKind.ID_CARD.value, card_key=person_key(secret, c.id_number),
                              masked_card=mask_id_number(c.id_number), display_name=mask_name(c.name),
                              valid_until=c.valid_to) for c in DEMO_CARDS]
    load_demo(db, titles=200, branch_code="DEMO", residents=residents, seed=args.seed)
    circulation = Circulation(db, branch_code="DEMO", kiosk_id="soak-ui", network_policy=LendingPolicy())
    session = SessionRunner(VisitMachine(circulation, idle_timeout_s=600, idle_warning_s=15))
    session.start()
    app = KioskApp(ScriptedSession(), DemoBrowser(), settings)
    h = Harness(app)
    h.set_size(1280, 800)
    h.settle()
    app.attach(session)
    h.settle()

    def settled(screen: str) -> bool:
        session.wait_idle(10)
        ok = h.wait_for(lambda: app.root.manager.current == screen, timeout=10)
        h.settle()
        return ok

    def now_showing() -> str:
        session.wait_idle(10)
        h.wait_for(lambda: app.root.manager.current == _screen_of(session.current()), timeout=10)
        h.settle()
        return str(app.root.manager.current)

    def _screen_of(view: Any) -> str:
        return str(view.screen)

    stuck = 0

    def visit(n: int) -> None:
        nonlocal stuck
        resident = rng.choice(residents)
        session.post(CardPresented(device="idcard", kind=CardKind.ID_CARD, key=resident.card_key,
                                   masked_number=resident.masked_card, display_name=resident.display_name,
                                   valid_until=resident.valid_until))
        if not settled("menu"):
            stuck += 1
            session.cancel()
            settled("attract")
            return
        if n % 5 == 4:  # walked away: cleared as the idle timeout would
            session.cancel()
            stuck += not settled("attract")
            return
        h.tap("borrow")
        settled("borrowing")
        with db.read() as s:
            free = list(s.scalars(select(Item.barcode).where(Item.status == ItemStatus.AVAILABLE).limit(40)))
        for _ in range(rng.randint(1, 3)):
            code = rng.choice(free) if free and rng.random() > 0.15 else f"NOSUCH{rng.randrange(999)}"
            session.post(BarcodeScanned(device="scanner", code=code))
            settled("borrowing")
        h.tap("finish")
        for _ in range(4):  # finishing → receipt → rating → attract; a visit that lent nothing skips the receipt
            current = now_showing()
            if current == "finishing":
                h.tap("receipt:screen")
            elif current == "receipt":
                h.tap("receipt_done")
            elif current == "rating":
                h.tap("rate:good")
            else:
                break
        stuck += not settled("attract")
        if n % 10 == 9:
            app.lang, app.elder = "en", True
            h.settle()
            app.lang, app.elder = "zh_CN", False
            h.settle()

    def return_everything() -> None:
        with db.read() as s:
            lent = list(s.scalars(select(Item.barcode).where(Item.status == ItemStatus.ON_LOAN)))
        for code in lent:
            circulation.checkin(code)

    warmup = min(30, args.visits // 2)  # glyph and label caches fill during the first ~20 visits (measured)
    baseline: dict[str, int] = {}
    for n in range(args.visits):
        if n == warmup:
            baseline = live_counts()
        visit(n)
        if n % 25 == 24:
            return_everything()  # the residents bring their books back, so the limits never stop the soak
    end = live_counts()
    session.stop()
    h.close()
    db.dispose()
    growth = {k: end[k] - baseline.get(k, end[k]) for k in end}
    problems = []
    if growth["widgets"] > MAX_WIDGET_GROWTH:
        problems.append(f"widgets grew by {growth['widgets']}")
    if growth["textures_outside_cache"] > MAX_TEXTURE_GROWTH:
        problems.append(f"textures outside Kivy's caches grew by {growth['textures_outside_cache']}")
    if growth["rss_kb"] > MAX_RSS_GROWTH_KB:
        problems.append(f"memory grew by {growth['rss_kb']} kB")
    if growth["threads"] > 0 or growth["fds"] > 0:
        problems.append(f"threads {growth['threads']:+d}, open files {growth['fds']:+d}")
    if stuck:
        problems.append(f"{stuck} visits did not reach the expected screen")
    result: dict[str, Any] = {"ok": not problems, "visits": args.visits, "warmup": warmup, "baseline": baseline,
                              "end": end, "growth": growth, "problems": problems}
    if args.json:
        print(json.dumps(result))
    else:
        g = growth
        print(f"{args.visits} visits on the real app: growth after {warmup} warm-up visits: widgets "
              f"{g['widgets']:+d} (of {end['widgets']}), textures {g['textures']:+d} (of {end['textures']}; outside "
              f"Kivy's caches {g['textures_outside_cache']:+d}), "
              f"memory {g['rss_kb'] / 1024:+.1f} MB, threads {g['threads']:+d}, open files {g['fds']:+d}")
        for problem in problems:
            print("PROBLEM:", problem)
    sys.exit(0 if not problems else 1)


if __name__ == "__main__":
    main()
