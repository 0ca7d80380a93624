"""The kiosk with its touch screen: the one module of the core that reaches into `ui` (lazily), to start it."""

from __future__ import annotations

import itertools
import logging
from typing import Any

from kiosk.config import Settings
from kiosk.runtime import KioskRuntime

log = logging.getLogger(__name__)


def run_kiosk(settings: Settings, *, headless: bool = False, alerts: Any = None) -> None:
    """Start devices and session, open the screen, and stop everything when staff exits the kiosk."""
    from kiosk.browse import Browser
    from ui.boot import run_kiosk as run_screen

    runtime = KioskRuntime(settings, alerts=alerts)
    runtime.start()
    try:
        run_screen(settings, runtime.session, Browser(runtime.db, settings.kiosk.branch),
                   occupancy=runtime.occupancy, key_sink=runtime.feed_key, headless=headless)
    finally:
        runtime.stop()


def _demo_actions(runtime: KioskRuntime, link: Any = None) -> list[tuple[str, Any]]:
    """What the demo's control strip can make the simulated hardware do."""
    from devices.idcard.demo_cards import DEMO_CARDS
    from kiosk.demo import available_barcodes, lent_barcodes, simulator

    cards = itertools.cycle(DEMO_CARDS)

    def place_card() -> None:
        reader = simulator("demo-idcard")
        reader.lift_card()
        reader.place_card(next(cards))

    def lift_card() -> None:
        simulator("demo-idcard").lift_card()

    def scan_book() -> None:
        codes = available_barcodes(runtime, limit=50)
        if codes:
            simulator("demo-scanner").scan(codes[len(runtime.session.current().scans) % len(codes)])

    def return_book() -> None:
        codes = lent_barcodes(runtime, limit=1)
        if codes:
            simulator("demo-scanner").scan(codes[0])

    def walk_in() -> None:
        simulator("demo-door").walk_in(1)

    def walk_out() -> None:
        simulator("demo-door").walk_out(1)

    actions = [("demo.place_card", place_card), ("demo.lift_card", lift_card), ("demo.scan_book", scan_book),
               ("demo.return_book", return_book), ("demo.walk_in", walk_in), ("demo.walk_out", walk_out)]
    if runtime.entry is not None:
        entry_cards = itertools.cycle(DEMO_CARDS)

        def badge_in() -> None:
            reader = simulator("demo-entry")
            reader.lift_card()
            reader.place_card(next(entry_cards))

        actions.insert(0, ("demo.entry_card", badge_in))
    if link is not None and link.available:
        actions += [("demo.pull_database", link.pull), ("demo.restore_database", link.restore)]
    return actions


def run_interactive_demo(settings: Settings, *, headless: bool = False) -> None:
    """The kiosk on simulated hardware, with a control strip standing in for the resident's card and books."""
    from kiosk.browse import Browser
    from ui.boot import configure_kivy

    configure_kivy(settings, headless=headless)
    from kiosk.demo import DemoDatabaseLink
    from ui.app import KioskApp
    from ui.demo_panel import attach_demo_panel

    settings, link = DemoDatabaseLink.for_settings(settings)
    runtime = KioskRuntime(settings)
    link.attach(runtime)
    runtime.start()
    app = KioskApp(runtime.session, Browser(runtime.db, settings.kiosk.branch), settings,
                   occupancy=runtime.occupancy, key_sink=runtime.feed_key)
    app.bind(on_start=lambda *_: attach_demo_panel(app, _demo_actions(runtime, link)))
    log.info("demo running: use the control strip at the bottom left to place a card or scan a book")
    try:
        app.run()
    finally:
        runtime.stop()
        link.close()
