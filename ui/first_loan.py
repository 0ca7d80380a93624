"""`kiosk demo --scenario first-loan`: the scripted visit of a resident, run on the real app and real drivers.

A script thread plays the resident (places a demo ID card on the simulated reader, scans one book on the simulated
scanner, finishes, takes the receipt on screen, rates) and waits, after each step, until the touch screen has
rendered the session's new state; the main thread keeps running Kivy and takes the screenshots. It passes only
when the loan is committed in the database AND the book's title was on the screen: the end-to-end test of the
product, card to screen.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from catalog.model import Item, Loan, Patron
from devices.identity import person_key
from kiosk.config import Settings
from kiosk.session.view import Screen, SessionView
from ui.boot import configure_kivy

log = logging.getLogger(__name__)

STEP_TIMEOUT_S = 20.0
RENDER_DELAY_S = 0.8


@dataclass
class ScenarioResult:
    ok: bool = False
    steps: list[str] = field(default_factory=list)
    screenshots: list[Path] = field(default_factory=list)
    barcode: str = ""
    title: str = ""
    error: str = ""


class ScenarioFailed(RuntimeError):
    pass


def run_first_loan(settings: Settings, screenshots: Path | None, *, headless: bool = True) -> ScenarioResult:
    configure_kivy(settings, headless=headless)
    from kivy.clock import Clock
    from kivy.core.window import Window

    from devices.idcard.demo_cards import DEMO_CARDS
    from kiosk.browse import Browser
    from kiosk.demo import available_barcodes, demo_runtime, simulator
    from ui.app import KioskApp

    result = ScenarioResult()
    runtime = demo_runtime(settings)
    browser = Browser(runtime.db, settings.kiosk.branch)
    app = KioskApp(runtime.session, browser, settings, key_sink=runtime.feed_key)
    if screenshots is not None:
        screenshots.mkdir(parents=True, exist_ok=True)

    def on_main(fn: Callable[[], Any], delay: float = 0.0) -> Any:
        """Run `fn` on the Kivy thread and wait for its result."""
        done = threading.Event()
        box: dict[str, Any] = {}

        def call(_dt: float) -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:
                box["error"] = exc
            done.set()

        Clock.schedule_once(call, delay)
        if not done.wait(STEP_TIMEOUT_S):
            raise ScenarioFailed("the UI thread did not answer")
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def wait_shown(predicate: Callable[[SessionView], bool], what: str) -> SessionView:
        """Wait until the session reached a state AND the screen has rendered it."""
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while time.monotonic() < deadline:
            view = runtime.session.current()
            if predicate(view) and on_main(lambda: app.view.sequence) >= view.sequence:
                return view
            time.sleep(0.05)
        raise ScenarioFailed(f"timed out waiting for: {what} (screen is {runtime.session.current().screen})")

    def shot(name: str) -> None:
        result.steps.append(name)
        if screenshots is None:
            return
        target = screenshots / f"{name}.png"
        written = on_main(lambda: Window.screenshot(name=str(target)), delay=RENDER_DELAY_S)
        if written:
            Path(written).replace(target)  # Kivy appends 0001 to the name it is given
            result.screenshots.append(target)

    def texts_on_screen() -> str:
        return "\n".join(str(getattr(w, "text", "")) for w in app.root.walk(restrict=False))

    def script() -> None:
        try:
            wait_shown(lambda v: v.screen == Screen.ATTRACT, "attract screen")
            shot("01-attract")
            card = next(c for c in DEMO_CARDS if c.valid_to is None or c.valid_to.year > 2030)
            simulator("demo-idcard").place_card(card)
            view = wait_shown(lambda v: v.screen in (Screen.MENU, Screen.CONSENT), "card identified")
            if view.screen == Screen.CONSENT:
                shot("02a-consent")
                runtime.session.accept_consent()
                view = wait_shown(lambda v: v.screen == Screen.MENU, "registered after consent")
            shot("02-welcome")
            runtime.session.choose(Screen.BORROWING)
            wait_shown(lambda v: v.screen == Screen.BORROWING, "borrow screen")
            barcode = available_barcodes(runtime)[0]
            result.barcode = barcode
            simulator("demo-scanner").scan(barcode)
            view = wait_shown(lambda v: bool(v.scans) and v.scans[-1].barcode == barcode, "scan answered")
            line = view.scans[-1]
            if not line.ok:
                raise ScenarioFailed(f"the loan was refused: {line.outcome.key}")
            result.title = line.title
            shot("03-lent")
            if line.title not in on_main(texts_on_screen):
                raise ScenarioFailed(f"the title {line.title!r} is not on the screen")
            simulator("demo-idcard").lift_card()
            runtime.session.finish()
            wait_shown(lambda v: v.screen == Screen.FINISHING, "receipt choice")
            shot("04-receipt-choice")
            runtime.session.choose_receipt("screen")
            wait_shown(lambda v: v.screen == Screen.RECEIPT, "receipt on screen")
            shot("05-receipt")
            runtime.session.finish()
            wait_shown(lambda v: v.screen == Screen.RATING, "rating")
            shot("06-rating")
            runtime.session.rate("good")
            wait_shown(lambda v: v.screen == Screen.ATTRACT and v.patron is None, "back to attract")
            shot("07-goodbye")
            if on_main(texts_on_screen).count(card.name):
                raise ScenarioFailed("the resident's full name is on the screen")
            with runtime.db.read() as s:
                committed = s.scalar(
                    select(Loan.id).join(Item, Item.id == Loan.item_id).join(Patron, Patron.id == Loan.patron_id)
                    .where(Item.barcode == barcode, Loan.returned_at.is_(None),
                           Patron.card_key == person_key(runtime.secret, card.id_number)))
            if committed is None:
                raise ScenarioFailed("no committed loan found in the database")
            result.ok = True
        except Exception as exc:
            result.error = f"{type(exc).__name__}: {exc}"
            log.error("first-loan scenario failed: %s\n%s", result.error, traceback.format_exc())
        finally:
            Clock.schedule_once(lambda _dt: app.stop(), 0.2)

    Clock.schedule_once(lambda _dt: threading.Thread(target=script, name="scenario", daemon=True).start(), 1.0)
    try:
        app.run()
    finally:
        runtime.stop()
    return result
