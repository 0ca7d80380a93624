"""A new user's walk through the demo kiosk, on the real app: the demo catalog on a real SQLite file, the real
session (`KioskRuntime`), and the simulated ID-card reader and scanner behind their real drivers (`sim:` URLs, the
same ones `kiosk demo` starts). Every step is a tap on a widget the user can see, or a card or book at the wire.

Each flow of the touch-screen issue, as someone who has never seen the kiosk would do it: find how to borrow on the
attract screen, place the card, scan two books and read their due dates, finish with a receipt and a rating; return
a book without a card; My loans and renew; Find a book by pinyin initials on the on-screen keyboard and open a title;
About this center; Audio books; 中/EN; elder mode; help; and the idle timeout that wipes the visit.

At each step the test asserts what the widgets show in the language on screen. With `KIOSK_WALKTHROUGH_DIR` set, a
screenshot of every step goes to `<dir>/<lang>_<mode>_<WxH>/NN-step.png` (for people to look at).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from catalog.model import Title

pytestmark = pytest.mark.ui

SHOTS = os.environ.get("KIOSK_WALKTHROUGH_DIR", "")


@pytest.fixture(scope="module")
def demo_kiosk(_harness: Any, ui_settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """`kiosk demo`'s runtime (demo catalog, simulated devices) serving the test process's one app."""
    from kiosk.browse import Browser
    from kiosk.demo import demo_settings, ensure_demo_data
    from kiosk.runtime import KioskRuntime

    base = replace(ui_settings, data_dir=tmp_path_factory.mktemp("walkthrough"))
    settings = demo_settings(base, headless=True)
    settings = replace(settings, kiosk=replace(settings.kiosk, demo_data_titles=300, idle_timeout_s=600,
                                               idle_warning_s=15))
    ensure_demo_data(settings)
    runtime = KioskRuntime(settings)
    runtime.start()
    app = _harness.app
    saved = app.browser, app.occupancy_source, app.key_sink
    app.browser, app.occupancy_source, app.key_sink = (Browser(runtime.db, settings.kiosk.branch),
                                                       runtime.occupancy, runtime.feed_key)
    app.attach(runtime.session)
    def forget_catalog() -> None:
        """What the browse screens keep from the catalog they last read (branch, categories, audio books)."""
        app.root.screen("find").categories = []
        app.root.screen("audio").books = []
        app.occupancy = None
        app.refresh_browse_data()
        _harness.settle()

    try:
        forget_catalog()
        yield runtime
    finally:
        from ui.demo import ScriptedSession

        app.attach(ScriptedSession())
        runtime.stop()
        app.browser, app.occupancy_source, app.key_sink = saved
        forget_catalog()


class Walk:
    """One new user at the kiosk: taps, a card and books at the wire, and a screenshot per step."""

    def __init__(self, h: Any, runtime: Any, lang: str, elder: bool, size: tuple[int, int]) -> None:
        self.h, self.runtime, self.lang = h, runtime, lang
        self.app = h.app
        self.n = 0
        mode = "elder" if elder else "normal"
        self.out = Path(SHOTS) / f"{lang}_{mode}_{size[0]}x{size[1]}" if SHOTS else None

    def zh(self) -> bool:
        return self.app.lang == "zh_CN"

    def t(self, key: str, **params: Any) -> str:
        return str(self.app.t(key, self.app.lang, **params))

    def settled(self, screen: str | None = None) -> None:
        assert self.runtime.session.wait_idle(10)
        target = self.runtime.session.current().sequence
        assert self.h.wait_for(lambda: self.app.view.sequence >= target, timeout=10)
        if screen is not None:
            assert self.h.wait_for(lambda: self.app.root.manager.current == screen, timeout=10), \
                self.app.root.manager.current
        self.h.settle()

    def until(self, condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
        assert self.h.wait_for(condition, timeout=timeout), what
        self.h.settle()

    def shot(self, name: str) -> None:
        self.n += 1
        shown = [self.h.current_screen(), self.app.root.ids.idle, self.app.root.ids.notice_text]
        bad = [line for widget in shown for line in badly_broken(widget)]
        assert not bad, f"{name}: lines that start with closing or end with opening punctuation: {bad}"
        if self.out is not None:
            self.h.pump(6)
            self.h.screenshot(self.out / f"{self.n:02d}-{name}.png")

    def texts(self) -> str:
        widgets = [*self.h.current_screen().walk(restrict=True), *self.app.root.ids.idle.walk(restrict=True)]
        return "\n".join(str(getattr(w, "text", "")) for w in widgets if getattr(w, "opacity", 1) > 0)

    def tap(self, action: str) -> None:
        self.h.tap(action)
        self.h.settle()

    def card(self, index: int) -> Any:
        from devices.idcard.demo_cards import DEMO_CARDS
        from kiosk.demo import simulator

        card = DEMO_CARDS[index]
        reader = simulator("demo-idcard")
        reader.lift_card()
        reader.place_card(card)
        self.until(lambda: self.app.view.screen.value in ("menu", "consent"), "the card is read")
        if self.app.view.screen.value == "consent":
            self.shot("consent")
            self.tap("agree")
            self.settled("menu")
        reader.lift_card()
        return card

    def finish_without_receipt(self) -> None:
        """Finish, as someone in a hurry: no receipt, no rating (whichever of the two the session asks)."""
        self.tap("finish")
        self.settled()
        if self.app.root.manager.current == "finishing":
            self.tap("receipt:none")
            self.settled()
        if self.app.root.manager.current == "rating":
            self.tap("rate:skip")
        self.settled("attract")

    def scan(self, code: str) -> None:
        from kiosk.demo import simulator

        before = len(self.app.view.scans)
        simulator("demo-scanner").scan(code)
        self.until(lambda: len(self.app.view.scans) > before, f"the scan of {code} is answered")


def drawn_lines(label: Any) -> list[str]:
    """The lines as Kivy laid them out (after wrapping), leading spaces dropped."""
    label.texture_update()
    return ["".join(word.text for word in line.words).lstrip() for line in label._label._cached_lines]


def badly_broken(root: Any) -> list[str]:
    """The drawn lines, in every label under `root`, that start with closing punctuation or end with opening
    punctuation (Chinese line-breaking rules, `ui.line_breaking`)."""
    from kivy.uix.label import Label

    from ui.line_breaking import CLOSING, OPENING

    bad = []
    for label in root.walk(restrict=True):
        if not isinstance(label, Label) or label.markup or not label.text or label.opacity == 0:
            continue
        lines = [line.rstrip() for line in drawn_lines(label)]
        for n, line in enumerate(lines):
            if (n > 0 and line[:1] in CLOSING) or (n < len(lines) - 1 and line[-1:] in OPENING):
                bad.append(" / ".join(lines[max(0, n - 1) : n + 1]))
    return bad


def under(box: Any, screen: Any) -> list[Any]:
    """The buttons and the card prompt of `screen` that `box` (a widget of the window's root) covers."""
    from ui.widgets import KButton

    def rect(w: Any) -> tuple[float, float, float, float]:
        x, y = w.to_window(w.x, w.y)
        return x, y, x + w.width, y + w.height

    bx, by, bx2, by2 = box.x, box.y, box.right, box.top
    hits = []
    for w in screen.walk(restrict=True):
        if not (isinstance(w, KButton) or getattr(w, "action", "") == "card_hint") or w.opacity == 0 or not w.width:
            continue
        x, y, x2, y2 = rect(w)
        if x < bx2 and bx < x2 and y < by2 and by < y2:
            hits.append(w)
    return hits


def whole(label: Any) -> bool:
    """The label draws all of its text: no line was cut short with an ellipsis (Kivy's `shorten`/`max_lines`)."""
    return re.sub(r"\s", "", "".join(drawn_lines(label))) == re.sub(r"\s", "", label.text)


def _books(runtime: Any, n: int) -> list[str]:
    from kiosk.demo import available_barcodes

    return available_barcodes(runtime, limit=n)


def _walk(w: Walk, card_index: int) -> None:
    h, app = w.h, w.app
    # 1. The attract screen: the way to borrow is a big button; it says where the card goes.
    w.tap("home")
    w.settled("attract")
    w.shot("attract")
    assert h.find("borrow").text and h.find("find").text
    w.tap("borrow")
    hint = h.find("card_hint").text
    assert hint == w.t("ui.attract.hint_borrow")
    w.shot("borrow-hint")

    # 2. Card, then two books; each shows its title and due date, the count goes up against the limit.
    card = w.card(card_index)
    w.shot("menu")
    assert card.name not in w.texts()
    w.tap("borrow")
    w.settled("borrowing")
    w.shot("borrow-empty")
    books = _books(w.runtime, 2)
    for code in books:
        w.scan(code)
    w.settled("borrowing")
    w.shot("borrowed-two")
    scans = app.view.scans
    assert [s.ok for s in scans] == [True, True], [s.outcome.key for s in scans]
    shown = w.texts()
    for line in scans:
        assert line.title in shown
        assert w.t("ui.borrow.due", date=app.fmt_date(line.due_at)) in shown

    # 3. Finish: receipt on screen, then the rating, then back to the attract screen.
    w.tap("finish")
    w.settled("finishing")
    w.shot("receipt-choice")
    w.tap("receipt:screen")
    w.settled("receipt")
    w.shot("receipt")
    assert h.find("receipt_text").text.startswith(app.branch_name(app.branch) + "\n")  # in the language on screen
    w.tap("receipt_done")
    w.settled("rating")
    w.shot("rating")
    w.tap("tag:fast")
    w.tap("rate:good")
    w.settled("attract")
    w.shot("after-rating")

    # 4. Return a book: no card needed, the return button says to scan.
    w.tap("return")
    w.settled("returning")
    w.shot("return-empty")
    w.scan(books[0])
    w.settled("returning")
    w.shot("returned")
    assert app.view.scans[-1].ok, app.view.scans[-1].outcome.key
    assert app.view.scans[-1].title in w.texts()
    w.finish_without_receipt()

    # 5. My loans: the button says to place the card; the card's loans are listed; renew one.
    w.tap("loans")
    assert h.find("card_hint").text == w.t("ui.attract.hint_loans")
    w.card(card_index)
    w.tap("account")
    w.settled("account")
    w.shot("my-loans")
    loans = app.view.loans
    assert [line.barcode for line in loans if line.barcode in books] == [books[1]]
    loan = next(line for line in loans if line.barcode == books[1])
    w.tap(f"renew:{loan.loan_id}")
    w.settled("account")
    w.shot("renewed")
    assert app.view.last is not None and app.msg(app.view.last) in w.texts()
    w.finish_without_receipt()

    # 6. Find a book: the keyboard's letters are pinyin initials; results come as they are typed.
    w.tap("find")
    w.until(lambda: bool(h.current_screen().categories), "categories shown")
    w.shot("find")
    find = h.current_screen()
    assert h.find("query").text == w.t("ui.find.type_hint")  # what to type, with an example
    tile = find.categories[0]
    w.tap(f"category:{tile.code}")
    w.until(lambda: find.page is not None and not find.loading, "the category's titles")
    w.shot("find-category")
    assert find.page.total == tile.titles
    assert whole(h.find("query")), "the hint beside the category chip ends in an ellipsis"
    w.tap("clear_category")
    w.until(lambda: find.page is None, "back to the categories")
    with w.runtime.db.read() as s:  # the first title on the shelf, found by its initials as a reader would
        initials = s.scalars(select(Title.title_initials).where(Title.title_initials != "")
                             .order_by(Title.id).limit(1)).one()
    for letter in initials[:3].upper():
        w.tap(f"key:{letter}")
        w.until(lambda: find.page is not None and not find.loading, "results")
    w.shot("find-results")
    assert find.page is not None and find.page.hits
    hit = find.page.hits[0]
    assert hit.title in w.texts()
    w.tap(f"hit:{hit.title_id}")
    w.until(lambda: app.root.manager.current == "detail" and h.current_screen().detail is not None, "detail")
    w.shot("detail")
    assert hit.title in h.find("detail_title").text
    assert app.branch_name(app.branch) in w.texts()  # where the copy stands, in the language on screen
    if not w.zh():  # and which shelf: "Zone A, row 3, shelf 2", not "A区 3排 2层"
        copies = h.current_screen().ids.copies
        chinese = [row["detail"] for row in copies.rows if any("\u4e00" <= ch <= "\u9fff" for ch in row["detail"])]
        assert copies.rows and not chinese, chinese
    w.tap("back")
    w.until(lambda: app.root.manager.current == "find", "back to find")
    w.tap("home")
    w.until(lambda: app.root.manager.current == "attract", "home")

    # 7. About and audio books.
    w.tap("about")
    w.until(lambda: app.root.manager.current == "about", "about")
    w.shot("about")
    assert app.branch is not None and w.t("ui.about.hours") in w.texts()
    nearby = h.find("nearby")
    body = next(x for x in nearby.walk(restrict=True) if x is not nearby and getattr(x, "text", "") == nearby.body)
    starts = [line[:1] for line in drawn_lines(body)]
    assert starts.count("•") == len(app.branch.nearby) and "·" not in starts  # one bullet a center, no stray dots
    w.tap("home")
    w.tap("audio")
    w.until(lambda: app.root.manager.current == "audio" and bool(h.current_screen().books), "audio")
    w.shot("audio")
    assert w.t("ui.audio.narrator", name="").strip() in w.texts()
    assert ("播音" in w.texts()) == w.zh()
    w.tap("home")

    # 8. Help: a visible answer, on the screen the user is on.
    w.tap("help")
    assert app.notice == "ui.help.called"
    w.shot("help")
    notice = app.root.ids.notice_text
    assert notice.text == w.t("ui.help.called") and notice.height <= notice.parent.height
    assert notice.texture_size[0] <= notice.parent.width
    box = notice.parent
    assert box.y >= 0 and box.top <= app.root.height and box.x >= 0 and box.right <= app.root.width
    covered = [getattr(x, "action", "") or x.text for x in under(box, h.current_screen())]
    assert not covered, f"the help notice covers {covered}"  # at the bottom, it covered where the card goes

    # 9. Idle timeout: a card, then nothing: a warning with a countdown, then every personal detail is gone.
    card = w.card(card_index)
    name = app.view.patron.masked_name if app.view.patron else ""
    assert name and name in w.texts()
    w.runtime.machine.idle_timeout_s, w.runtime.machine.idle_warning_s = 4.0, 3.0
    try:
        w.until(lambda: app.idle_left >= 0, "the idle warning", timeout=10)
        w.shot("idle-warning")
        assert str(app.idle_left) in w.texts()
        w.until(lambda: app.view.patron is None and app.root.manager.current == "attract", "timed out", timeout=10)
    finally:
        w.runtime.machine.idle_timeout_s, w.runtime.machine.idle_warning_s = 600.0, 15.0
    w.shot("after-timeout")
    everything = "\n".join(str(getattr(x, "text", "")) for x in app.root.walk(restrict=False))
    assert name not in everything and card.name not in everything

    # Leave the shelf as it was: the renewed book goes back (a return at the attract screen).
    w.scan(books[1])
    w.settled()
    if app.root.manager.current != "attract":
        w.tap("finish")
        w.settled()


CASES = [("zh_CN", False), ("en", False), ("zh_CN", True), ("en", True)]
SIZES = [(1080, 1920), (1280, 800), (1920, 1080)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(("lang", "elder"), CASES, ids=lambda v: str(v))
def test_new_user_walkthrough(_harness: Any, demo_kiosk: Any, lang: str, elder: bool, size: tuple[int, int]) -> None:
    h = _harness
    h.set_size(*size)
    app = h.app
    app.local_screen, app.attract_hint = "", ""
    h.settle()
    w = Walk(h, demo_kiosk, lang, elder, size)
    # The language and elder mode are switched the way a user does: the buttons on the attract screen.
    if app.lang != lang:
        w.tap("lang")
    assert app.lang == lang
    if app.elder != elder:
        w.tap("elder")
    assert app.elder == elder
    card_index = (CASES.index((lang, elder)) + SIZES.index(size)) % 5  # the sixth demo card is the expired one
    try:
        _walk(w, card_index)
    finally:
        app.lang, app.elder = "zh_CN", False
        h.settle()


STAFF_CASES = [("zh_CN", False, (1920, 1080)), ("en", True, (1280, 800)), ("zh_CN", True, (1080, 1920))]


@pytest.mark.parametrize(("lang", "elder", "size"), STAFF_CASES, ids=lambda v: str(v))
def test_librarian_walkthrough(_harness: Any, demo_kiosk: Any, lang: str, elder: bool, size: tuple[int, int]) -> None:
    """The librarian on duty: their own ID card on the reader, the PIN on the pad, then device health and today's
    numbers, this week's traffic, and out again, with every step readable at the kiosk's sizes."""
    from devices.idcard.demo_cards import DEMO_CARDS
    from devices.identity import gb11643_check_char
    from kiosk.demo import simulator
    from kiosk.staff_accounts import staff_card_key

    h, app, runtime = _harness, _harness.app, demo_kiosk
    h.set_size(*size)
    app.local_screen, app.attract_hint = "", ""
    h.settle()
    w = Walk(h, runtime, lang, elder, size)
    w.out = w.out.with_name(w.out.name + "_librarian") if w.out is not None else None
    if app.lang != lang:
        w.tap("lang")
    if app.elder != elder:
        w.tap("elder")
    # An invented librarian (no resident of the demo): a staff account with their ID card and a PIN.
    first17 = "32010219760315004"
    librarian = replace(DEMO_CARDS[1], name="王秀兰", id_number=first17 + gb11643_check_char(first17))
    username = f"walk-{STAFF_CASES.index((lang, elder, size))}"
    runtime.staff.add(username, "2468", display_name="王*",
                      card_key_value=staff_card_key(runtime.secret, id_number=librarian.id_number))
    reader = simulator("demo-idcard")
    try:
        w.tap("home")
        w.settled("attract")
        reader.lift_card()
        reader.place_card(librarian)
        w.until(lambda: app.root.manager.current == "staff_login", "the staff card asks for the PIN")
        reader.lift_card()
        w.shot("staff-pin")
        assert librarian.name not in w.texts()
        for digit in "2468":
            w.tap(f"pin:{digit}")
        w.tap("pin:ok")
        w.settled("staff")
        # Device health and today's numbers come first, as words a librarian reads at a glance.
        w.until(lambda: bool(h.current_screen().report), "the staff report")
        w.shot("staff-home")
        report = h.find("staff_report").text
        for device in ("idcard", "scanner"):  # every device by its name, and whether it answers
            assert w.t(f"ui.device.{device}") in report
        assert w.t("ui.device_state.connected") in report
        assert ("Loans today" if lang == "en" else "今日借出") in report
        assert whole(h.find("staff_report"))
        # This week's traffic: numbers, and the chart drawn at its panel's size.
        w.tap("tab_dashboard")
        staff = h.current_screen()
        panel = staff.panels["dashboard"]
        w.until(lambda: not panel.loading and panel.data is not None, "the dashboard", timeout=60)
        w.shot("staff-dashboard")
        if panel.chart_texture is not None:
            pw, ph = panel.chart_pixels()
            assert abs(panel.chart_texture.width - pw) <= 2 and abs(panel.chart_texture.height - ph) <= 2
        else:  # the demo has no door counter: "no data yet", never a made-up 0
            assert h.find("visits_today").value == w.t("ui.librarian.no_data")
        # Out of librarian mode: the exit of the kiosk program is there and asks for a second tap (the second one
        # stops the program: tests/ui/test_exit_kiosk.py), but the librarian signs out instead.
        assert h.find("exit_kiosk").text == w.t("ui.staff.exit_kiosk") and not h.find("exit_kiosk").disabled
        w.tap("exit_kiosk")
        assert h.find("exit_kiosk").text == w.t("ui.staff.exit_confirm") and whole(h.find("exit_kiosk"))
        w.shot("exit-asks-again")
        w.tap("staff_signout")
        w.settled("attract")
        w.shot("signed-out")
        assert app.view.patron is None
        assert not app.root.screen("staff").exit_armed  # the next librarian finds the plain button
    finally:
        runtime.staff.remove(username)
        reader.lift_card()
        app.lang, app.elder = "zh_CN", False
        h.settle()
