"""The real app, headless: taps go through Kivy's touch dispatch, views come from a session on another thread.

The session here is `ui.demo.ScriptedSession` (it publishes given `SessionView`s and records commands), because these
tests are about what the widgets show and send; the flows themselves are tested against the real session runner.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image

from kiosk.session.view import Screen

pytestmark = pytest.mark.ui


def _texts(h: Any, *, everywhere: bool = False) -> str:
    """Texts of the current screen, or of every screen (a ScreenManager holds only the current one in its tree)."""
    scopes = [*h.app.root.manager.screens, h.app.root] if everywhere else [h.current_screen()]
    return "\n".join(str(getattr(w, "text", "")) for scope in scopes for w in scope.walk(restrict=True))


def _publish_from_thread(h: Any, view: Any) -> None:
    """Publish as the core does: from a worker thread, not the UI thread."""
    worker = threading.Thread(target=h.session.publish, args=(view,))
    worker.start()
    worker.join()
    assert h.wait_for(lambda: h.app.view.sequence == h.session.current().sequence)
    h.settle()


def test_attract_shows_branch_hours_and_no_invented_occupancy(kiosk_ui: Any) -> None:
    h = kiosk_ui
    assert h.app.root.manager.current == "attract"
    text = _texts(h)
    assert "幸福里社区党群服务中心" in text
    assert h.find("open_status").text == "全天开放"  # said once, not "正在开放  今日 全天开放"
    assert "当前在馆" not in text  # no door-counter data: no number at all
    from ui.demo import demo_occupancy

    h.app.occupancy = demo_occupancy()
    h.pump(3)
    assert "当前在馆 12 人 · 舒适" in _texts(h)


def test_borrow_on_attract_points_at_the_card_reader_and_language_switches(kiosk_ui: Any) -> None:
    h = kiosk_ui
    h.tap("borrow")
    assert h.find("card_hint").text == "借书请先放置身份证或社保卡"
    h.tap("lang")
    assert h.app.lang == "en"
    assert h.find("card_hint").text == "To borrow, first place your ID card"
    assert "Find a book" in h.find("find").text
    h.tap("lang")
    assert "查找图书" in h.find("find").text


def test_borrowing_view_from_a_worker_thread_is_rendered(kiosk_ui: Any) -> None:
    from ui.demo import demo_views

    h = kiosk_ui
    _publish_from_thread(h, demo_views()["borrowing_refused"])
    assert h.app.root.manager.current == "borrowing"
    assert h.find("last_message").text == "没有找到条码 TS0009999 的图书。请扫描书背面的馆藏条码"
    assert h.find("count").text == "已借 5/5"
    text = _texts(h)
    assert "平凡的世界（全三册）" in text and "TS0009999" in text and "应还 2026年12月22日" in text
    h.tap("finish")
    assert h.session.commands[-1] == ("finish", ())


def test_account_renews_one_and_explains_why_not(kiosk_ui: Any) -> None:
    from ui.demo import demo_views

    h = kiosk_ui
    _publish_from_thread(h, demo_views()["account"])
    assert h.app.root.manager.current == "account"
    assert "已逾期，不能续借，请尽快归还" in _texts(h)
    assert h.find("renew:2").disabled
    h.tap("renew:1")
    h.tap("renew_all")
    assert [c for c in h.session.commands if c[0] != "touch"] == [("renew", (1,)), ("renew_all", ())]


def test_idle_warning_counts_down_and_timeout_wipes_personal_data(kiosk_ui: Any) -> None:
    from ui.demo import demo_views

    h = kiosk_ui
    _publish_from_thread(h, demo_views()["idle_warning"])
    assert h.app.root.ids.idle.opacity == 1
    seconds, rest = h.find("idle_countdown").text.split(" ", 1)
    assert rest == "秒后自动退出" and 0 <= int(seconds) <= 15
    h.tap(h.find("idle_continue"))
    assert ("touch", ()) in h.session.commands
    _publish_from_thread(h, demo_views()["attract"])
    assert h.app.root.manager.current == "attract"
    assert h.app.root.ids.idle.opacity == 0
    everything = _texts(h, everywhere=True)
    assert "张*华" not in everything
    assert "习近平新时代中国特色社会主义思想学习纲要" not in everything


def test_find_a_book_with_our_keyboard_and_open_the_detail(kiosk_ui: Any) -> None:
    h = kiosk_ui
    h.tap("find")
    assert h.app.root.manager.current == "find"
    h.settle()
    assert "文学" in _texts(h)
    h.tap("key:P")
    h.tap("key:F")
    h.settle()
    assert h.find("query").text.startswith("PF")
    assert "平凡的世界（全三册）" in _texts(h)
    h.tap("hit:1")
    h.settle()
    assert h.app.root.manager.current == "detail"
    assert h.find("detail_title").text == "平凡的世界（全三册）"
    assert "在架可借" in _texts(h)
    h.tap("home")
    assert h.app.root.manager.current == "attract"


def test_elder_mode_enlarges_text_and_keeps_touch_targets(kiosk_ui: Any) -> None:
    from kivy.metrics import mm

    h = kiosk_ui
    body = h.app.font_body
    h.tap("elder")
    assert h.app.elder and h.app.font_body > body
    h.settle()
    from ui.widgets import KButton

    buttons = [w for w in h.current_screen().walk(restrict=True) if isinstance(w, KButton) and w.opacity]
    assert buttons and min(b.height for b in buttons) >= mm(15) - 1
    h.tap("elder")
    assert not h.app.elder


def test_rating_sends_score_with_chosen_tags(kiosk_ui: Any) -> None:
    from ui.demo import demo_views

    h = kiosk_ui
    _publish_from_thread(h, demo_views()["rating"])
    h.tap("tag:fast")
    h.tap("tag:quiet")
    h.tap("rate:good")
    assert h.session.commands[-1] == ("rate", ("good", ("fast", "quiet")))


def test_staff_pin_pad(kiosk_ui: Any) -> None:
    h = kiosk_ui
    _publish_from_thread(h, replace(h.session.current(), screen=Screen.STAFF_LOGIN))
    for key in "2468":
        h.tap(f"pin:{key}")
    assert h.find("pin_dots").text == "●●●●"
    h.tap("pin:ok")
    assert h.session.commands[-1] == ("staff_login", ("2468",))
    assert h.find("pin_dots").text == ""


def test_receipt_qr_and_screenshot_at_portrait_size(kiosk_ui: Any, tmp_path: Any) -> None:
    from ui.demo import demo_views

    h = kiosk_ui
    _publish_from_thread(h, demo_views()["receipt"])
    qr = h.find("receipt_qr")
    assert qr.texture is not None and qr.texture.size[0] > 20
    h.set_size(1080, 1920)
    try:
        shot = h.screenshot(tmp_path / "receipt.png")
        image = Image.open(shot)
        assert image.size == (1080, 1920)
        assert len(set(image.convert("L").resize((54, 96)).getdata())) > 10  # not a blank or black frame
        # What a phone reads off the screen: the receipt in words (it was "DEMO|2026-11-22 10:30|borrowed:…").
        from pyzbar.pyzbar import decode

        [code] = decode(image)
        text = code.data.decode("utf-8")
        assert text == h.app.view.receipt.qr_payload
        assert text.splitlines()[1:] == ["2026-11-22 10:30",
                                         "借出 《习近平新时代中国特色社会主义思想学习纲要》 应还 2026-12-22",
                                         "借出 《平凡的世界（全三册）》 应还 2026-12-22", "归还 《三体》"], text
    finally:
        h.set_size(1280, 800)


@pytest.mark.parametrize("screen", [Screen.BORROWING, Screen.RETURNING])
def test_cancel_is_offered_only_until_something_is_done(kiosk_ui: Any, screen: Screen) -> None:
    """After a loan, "Cancel" beside "Finish" read as "undo it" and only signed the resident out: from the first
    book lent or returned, Finish (with its receipt choice) is the one way out."""
    from kiosk.session.view import Message, ScanLine, SessionView, Severity
    from ui.demo import PATRON

    h = kiosk_ui
    _publish_from_thread(h, SessionView(screen, patron=PATRON))
    assert h.find("cancel").opacity == 1 and h.find("finish")
    refused = ScanLine("TS9", "", Message("refusal.unknown_barcode", {"barcode": "TS9"}, Severity.ERROR), False)
    _publish_from_thread(h, SessionView(screen, patron=PATRON, scans=(refused,)))
    h.tap("cancel")  # a refusal changed nothing: cancelling is still what it says
    assert ("cancel", ()) in h.app.session.commands
    done = ScanLine("TS1", "书", Message("return.ok", {"title": "书"}, Severity.SUCCESS), True)
    _publish_from_thread(h, SessionView(screen, patron=PATRON, scans=(refused, done)))
    with pytest.raises(LookupError):
        h.find("cancel")
    finish = h.find("finish")
    assert finish.width > finish.parent.width * 0.9  # the row is Finish's alone
    _publish_from_thread(h, SessionView(screen, patron=PATRON))  # the next resident: Cancel is back, first
    assert [w.action for w in reversed(h.find("finish").parent.children)] == ["cancel", "finish"]


def test_due_dates_are_shown_in_the_branch_time_zone(kiosk_ui: Any) -> None:
    from kiosk.session.view import Message, ScanLine, SessionView, Severity
    from ui.demo import NOW, PATRON

    h = kiosk_ui
    due = NOW.replace(hour=17, minute=0) + timedelta(days=1)  # 17:00 UTC is 01:00 next day in Shanghai
    ok = Message("return.ok", {"title": "书"}, Severity.SUCCESS)
    view = SessionView(Screen.BORROWING, patron=PATRON, scans=(ScanLine("TS1", "书", ok, True, due),))
    _publish_from_thread(h, view)
    assert "应还 2026年11月24日" in _texts(h)


def test_raw_keys_go_to_the_key_sink_and_escape_is_swallowed(kiosk_ui: Any) -> None:
    from kivy.core.window import Window

    h = kiosk_ui
    received: list[str] = []
    h.app.key_sink = lambda key, at: received.append(key)
    try:
        for char in "TS01":
            Window.dispatch("on_key_down", ord(char.lower()), 0, char, [])
        Window.dispatch("on_key_down", 13, 0, None, [])
        assert received == ["T", "S", "0", "1", "enter"]
        assert Window.dispatch("on_key_down", 27, 0, None, []) is True
    finally:
        h.app.key_sink = None


def test_the_receipt_choice_offers_paper_only_with_a_printer_and_says_a_known_fault(kiosk_ui: Any) -> None:
    from ui.demo import demo_views

    h = kiosk_ui
    views = demo_views()
    _publish_from_thread(h, views["finishing_no_printer"])
    with pytest.raises(LookupError):
        h.find("receipt:print")
    choices = [w for w in h.find("receipt:screen").parent.children if getattr(w, "action", "")]
    assert sorted(w.action for w in choices) == ["receipt:none", "receipt:screen"]
    assert all(w.width >= h.find("receipt:screen").width - 1 for w in choices)  # two buttons share the row
    _publish_from_thread(h, views["finishing_paper_out"])
    h.settle()
    grid = h.find("receipt:print").parent
    assert [w.action for w in reversed(grid.children)] == ["receipt:print", "receipt:screen", "receipt:none"]
    # Still offered, but "show on screen" is the one in colour: the banner says to choose it.
    assert h.find("receipt:print").bg_color == h.app.c_muted
    assert h.find("receipt:screen").bg_color == h.app.c_secondary != h.app.c_muted
    assert "打印纸用完了，请选“屏幕显示”，用手机扫码保存凭条" in _texts(h)
    h.app.lang = "en"
    h.settle()
    try:  # straight quotes in English: the CJK font's curly ones are full-width
        assert 'The printer is out of paper: choose "Show on screen" and keep the receipt on your phone.' in _texts(h)
    finally:
        h.app.lang = "zh_CN"
        h.settle()
    h.tap("receipt:print")
    assert ("choose_receipt", ("print",)) in h.app.session.commands


def test_the_window_is_made_without_multisampling_by_default(kiosk_ui: Any) -> None:
    """Multisampling made every frame 2.5x as slow on software GL (docs/BENCHMARKS.md, "Touch screen")."""
    from kivy.graphics.opengl import glGetIntegerv

    gl_sample_buffers = 0x80A8
    assert kiosk_ui.app.settings.ui.multisamples == 0
    assert glGetIntegerv(gl_sample_buffers)[0] == 0


def test_offline_mode_is_announced_on_every_screen(kiosk_ui: Any) -> None:
    from ui.demo import demo_views

    h = kiosk_ui
    _publish_from_thread(h, replace(demo_views()["borrowing"], offline=True))
    assert h.find("offline").text == "离线借还中"
    _publish_from_thread(h, demo_views()["attract"])
    assert h.find("offline").text == ""


def test_catalog_is_queried_off_the_ui_thread(kiosk_ui: Any) -> None:
    from ui.demo import DemoBrowser

    threads: list[str] = []

    class Recording(DemoBrowser):
        def search(self, query: str, **kwargs: Any) -> Any:
            threads.append(threading.current_thread().name)
            return super().search(query, **kwargs)

    h = kiosk_ui
    original = h.app.browser
    h.app.browser = Recording()
    try:
        h.tap("find")
        h.tap("key:H")
        h.settle()
        assert threads and all(name.startswith("ui-worker") for name in threads)
        assert threading.current_thread() is threading.main_thread()
    finally:
        h.app.browser = original


def test_chinese_font_is_kivys_default(kiosk_ui: Any) -> None:
    from kivy.core.text import Label as CoreLabel
    from kivy.core.text import LabelBase

    from ui import fonts

    h = kiosk_ui
    assert h.app.font_path == fonts.find_cjk_font(h.app.settings)
    assert LabelBase._fonts["Roboto"][0] == str(h.app.font_path)

    def pixels(text: str) -> bytes:
        label = CoreLabel(text=text, font_size=40)
        label.refresh()
        return bytes(label.texture.pixels)

    # Two different characters draw differently: a font without them would draw the same empty box twice.
    assert pixels("借") != pixels("还")


def test_attract_shows_the_cores_word_until_the_next_tap(kiosk_ui: Any) -> None:
    from kiosk.session.view import Message, SessionView, Severity

    h = kiosk_ui
    _publish_from_thread(h, SessionView(last=Message("session.card_expired", {}, Severity.ERROR)))
    assert h.find("card_hint").text == "您的证件已过期，请使用有效证件"
    h.tap("loans")
    assert h.find("card_hint").text == "查看借阅请先放置身份证或社保卡"


def test_receipt_next_and_rating_use_the_sessions_finish_and_scores(kiosk_ui: Any) -> None:
    from ui.demo import demo_views

    h = kiosk_ui
    _publish_from_thread(h, demo_views()["receipt"])
    h.tap("receipt_done")
    _publish_from_thread(h, demo_views()["rating"])
    h.tap("rate:neutral")
    assert [c for c in h.session.commands if c[0] != "touch"] == [("finish", ()), ("rate", ("neutral", ()))]


def test_staff_overview_speaks_the_librarians_language(kiosk_ui: Any) -> None:
    """The runtime's report labels are bilingual and its devices raw slot names: the screen shows one language."""
    h = kiosk_ui
    _publish_from_thread(h, replace(h.session.current(), screen=Screen.STAFF, staff_name="李馆员"))
    h.settle()
    report = h.find("staff_report")
    assert "今日借出：23" in report.text and "凭条打印机：故障（缺纸）" in report.text
    assert "条码扫描器：正常\n" in report.text  # no empty brackets where there is no reason
    assert "Loans" not in report.text and "设备 printer" not in report.text
    h.tap("lang")
    h.settle()
    assert "Loans today: 23" in report.text and "Receipt printer: FAILED (out of paper)" in report.text
    assert "今日" not in report.text
    h.tap("lang")


def test_about_groups_identical_days_and_shows_the_map(kiosk_ui: Any) -> None:
    h = kiosk_ui
    h.tap("about")
    h.settle()
    hours = "\n".join(str(getattr(w, "text", "")) for w in h.find("hours").walk(restrict=True))
    assert "每天   全天开放" in hours and "星期一" not in hours
    assert h.find("map").opacity == 1 and h.find("map").height > 0
    from kivy.uix.image import Image

    image = next(w for w in h.find("map").walk(restrict=True) if isinstance(w, Image))
    zh_map, en_map = h.app.branch.map_image, h.app.branch.map_image_en
    assert zh_map and en_map and zh_map != en_map
    assert image.source == zh_map and image.texture is not None
    h.tap("lang")
    h.settle()
    assert image.source == en_map  # the map labelled in English
    h.app.branch = replace(h.app.branch, map_image_en="")
    h.pump(3)
    assert image.source == zh_map  # a branch without one shows its Chinese map, not a blank panel
    h.tap("lang")
    h.settle()
    h.app.branch = replace(h.app.branch, map_image="", map_image_en=en_map)
    h.pump(3)
    assert image.source == en_map and h.find("map").opacity == 1  # only an English map: shown in Chinese too
    h.app.branch = replace(h.app.branch, map_image="", map_image_en="")
    h.pump(3)
    assert h.find("map").opacity == 0 and image.source == ""
    from kiosk.browse_view import OpeningHours

    week = (*(OpeningHours(d, (("08:30", "21:00"),)) for d in range(5)), OpeningHours(5, (("09:00", "17:00"),)),
            OpeningHours(6, ()))
    h.app.branch = replace(h.app.branch, hours=week)
    h.pump(3)
    hours = "\n".join(str(getattr(w, "text", "")) for w in h.find("hours").walk(restrict=True))
    assert "星期一至星期五   08:30–21:00\n星期六   09:00–17:00\n星期日   闭馆" in hours
    h.app.refresh_browse_data()


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920), (1280, 800)])
def test_every_screen_has_language_elder_and_help_and_targets_of_15_mm(kiosk_ui: Any, size: tuple[int, int]) -> None:
    """Each state of every screen, at each supported size: 中/EN, elder mode and help are on screen and inside the
    window, every visible button is at least 15 mm in both directions, and none that works wears the disabled
    colour (the pinyin candidates did, and looked unusable)."""
    from kivy.core.window import Window
    from kivy.metrics import mm

    from ui.demo import demo_views
    from ui.widgets import KButton

    h = kiosk_ui
    floor = mm(15) - 1

    def check(state: str) -> None:
        for action in ("lang", "elder", "help"):
            widget = h.find(action)
            x, y = widget.to_window(widget.x, widget.y)
            assert widget.opacity == 1 and not widget.disabled, (state, action)
            assert x >= 0 and y >= 0 and x + widget.width <= Window.width + 1 and y + widget.height <= Window.height + 1
        small = [(w.action or w.text, round(w.width), round(w.height)) for w in h.current_screen().walk(restrict=True)
                 if isinstance(w, KButton) and w.opacity > 0 and w.get_root_window() is not None
                 and w.width * w.height > 0 and (w.width < floor or w.height < floor)]  # 0 × n: folded away
        assert not small, (state, size, small)
        looks_off = [w.action or w.text for w in h.current_screen().walk(restrict=True)
                     if isinstance(w, KButton) and w.opacity > 0 and not w.disabled
                     and list(w.bg_color) == list(h.app.c_disabled)
                     and w.action != "borrow"]  # blocked: looks unavailable, and a tap says why (menu.kv)
        assert not looks_off, (state, size, looks_off)

    h.set_size(*size)
    h.app.elder = size == (1280, 800)  # the tightest case: large text on the smallest screen
    try:
        for state, view in demo_views().items():
            _publish_from_thread(h, view)
            check(state)
        _publish_from_thread(h, demo_views()["staff"])
        for tab in ("overdue", "status", "announcement"):
            h.tap(f"tab_{tab}")
            h.settle()
            check(f"staff {tab}")
        _publish_from_thread(h, demo_views()["attract"])
        for local in ("find", "about", "audio"):
            h.app.open_local(local)
            h.settle()
            check(local)
        h.app.go_home()
    finally:
        h.app.elder = False
        h.set_size(1280, 800)
        h.settle()


def test_category_tile_narrows_the_search_and_its_chip_clears_it(kiosk_ui: Any) -> None:
    h = kiosk_ui
    h.tap("find")
    h.settle()
    h.tap("category:literature")
    h.settle()
    find = h.current_screen()
    assert find.category == "literature" and find.page is not None and find.page.total == 3
    assert h.find("clear_category").text == "文学  ×" and h.find("clear_category").opacity == 1
    assert "共 3 种" in h.find("result_count").text
    h.tap("lang")
    h.settle()
    assert h.find("clear_category").text == "Literature  ×"
    h.tap("lang")
    h.tap("clear_category")
    h.settle()
    assert find.category == "" and find.page is None and h.find("clear_category").opacity == 0
    h.app.go_home()


def test_english_about_shows_the_librarians_english_and_falls_back_per_entry(kiosk_ui: Any) -> None:
    """Rooms, services, hours note, contact, nearby centers and event rooms in English where given (no CJK at all
    in the demo branch, which has English for everything); an entry without English keeps its Chinese."""
    import re

    h = kiosk_ui
    h.tap("about")
    h.tap("lang")
    h.settle()
    cjk = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
    for block in ("hours", "places", "nearby", "contact", "events"):
        text = "\n".join(str(getattr(w, "text", "")) for w in h.find(block).walk(restrict=True))
        assert text.strip() and not cjk.search(text), (block, text)
    places = "\n".join(str(getattr(w, "text", "")) for w in h.find("places").walk(restrict=True))
    assert "Party members' room: By booking" in places
    branch = h.app.branch
    h.app.branch = replace(branch, rooms=(*branch.rooms, ("科普角", "VR体验")), contact_en="")
    h.pump(3)
    places = "\n".join(str(getattr(w, "text", "")) for w in h.find("places").walk(restrict=True))
    contact = "\n".join(str(getattr(w, "text", "")) for w in h.find("contact").walk(restrict=True))
    assert "科普角: VR体验" in places and "Reading room: Open 24 hours" in places
    assert "值班馆员" in contact
    h.tap("lang")
    h.settle()
    places = "\n".join(str(getattr(w, "text", "")) for w in h.find("places").walk(restrict=True))
    assert "党员活动室：预约使用" in places and "Party" not in places
    h.app.refresh_browse_data()


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 800)])
def test_about_map_ends_inside_the_window_in_landscape(kiosk_ui: Any, size: tuple[int, int]) -> None:
    """Side by side, the map panel takes what its column has left: its bottom border is on screen."""
    h = kiosk_ui
    h.set_size(*size)
    try:
        h.tap("about")
        h.pump(6)
        panel = h.find("map")
        _x, bottom = panel.to_window(panel.x, panel.y)
        assert panel.height >= h.app.button_height * 3 and bottom >= 0, (panel.height, bottom)
    finally:
        h.set_size(1280, 800)
        h.settle()


def test_find_keyboard_has_a_space_bar_for_author_and_title_searches(kiosk_ui: Any) -> None:
    h = kiosk_ui
    h.tap("find")
    h.settle()
    find = h.app.root.manager.current_screen
    h.tap("key:space")
    assert find.query == ""  # a leading space asks nothing
    for key in ("key:L", "key:Y", "key:space", "key:space", "key:H"):
        h.tap(key)
    h.settle()
    assert find.query == "LY H" and h.find("query").text.startswith("LY H")
    assert h.find("key:space").text == "空格"
    h.tap("key:back")
    h.tap("key:back")
    assert find.query == "LY"
    h.tap("home")


def test_announcement_editor_keeps_its_one_space_key(kiosk_ui: Any) -> None:
    """The editor's punctuation row has the space key; its letter keyboard has no second one, clear stays."""
    panel = kiosk_ui.app.root.screen("staff").panels["announcement"]
    keyboard = next(w for w in panel.walk(restrict=True) if type(w).__name__ == "LetterKeyboard")
    actions = [getattr(w, "action", "") for w in keyboard.walk(restrict=True)]
    assert keyboard.space_bar is False and "key:space" not in actions and "key:clear" in actions
    assert [getattr(w, "action", "") for w in panel.walk(restrict=True)].count("key:space") == 1


def test_demo_dashboard_state_shows_numbers_and_the_chart(kiosk_ui: Any) -> None:
    """What `kiosk screenshots --states staff_dashboard` stages: the demo week's numbers and its real chart."""
    from ui.demo import demo_views

    h = kiosk_ui
    h.session.publish(demo_views()["staff"])
    h.settle()
    staff = h.app.root.screen("staff")
    h.tap("tab_dashboard")
    panel = staff.panels["dashboard"]
    assert h.wait_for(lambda: not panel.loading and panel.data is not None, timeout=60)
    h.settle()
    assert h.find("visits_today").value == "53" and h.find("visits_week").value == "685"
    assert panel.chart_texture is not None and panel.data.chart.stat().st_size > 10_000
    # Drawn at the panel's pixels, not a page shrunk into it (its labels were 4 px high in landscape).
    w, h = panel.chart_pixels()
    assert h > 100 and abs(panel.chart_texture.width - w) <= 2 and abs(panel.chart_texture.height - h) <= 2
    staff.open_tab("home")


def test_detail_title_and_call_number_wrap_instead_of_being_cut_in_portrait_elder(kiosk_ui: Any) -> None:
    h = kiosk_ui
    h.set_size(1080, 1920)
    h.app.elder, h.app.lang = True, "en"
    try:
        _open_first_hit_of_s(h)
        h.pump(6)
        header = h.find("detail_header")
        assert "Call\u00a0no.\u00a0" in header.text and not header.shorten
        assert header.height >= header.texture_size[1] and header.texture_size[0] <= header.width
        title = h.find("detail_title")
        assert not title.shorten and title.height >= title.texture_size[1]
    finally:
        h.app.elder, h.app.lang = False, "zh_CN"
        h.set_size(1280, 800)
        h.settle()


def test_a_long_loan_title_wraps_beside_its_renew_button_in_portrait_elder(kiosk_ui: Any) -> None:
    from ui.demo import demo_views

    h = kiosk_ui
    h.set_size(1080, 1920)
    h.app.elder = True
    try:
        _publish_from_thread(h, demo_views()["account"])
        h.pump(6)
        titles = [w for w in h.current_screen().walk(restrict=True) if getattr(w, "action", "") == "loan_title"]
        long = next(w for w in titles if w.text.startswith("习近平新时代"))
        assert not long.shorten and long.height >= long.texture_size[1] > h.app.font_body * 1.5  # two lines
        row = long.parent.parent
        assert row.height >= long.height + h.app.pad
    finally:
        h.app.elder = False
        h.set_size(1280, 800)
        h.settle()


def test_top_bar_keeps_the_whole_english_branch_name_in_elder_mode(kiosk_ui: Any) -> None:
    """Too long for one line even at the small size (1280×800, elder): two lines, never "24-hour Reading Ro…"."""
    h = kiosk_ui
    h.app.elder, h.app.lang = True, "en"
    try:
        h.pump(6)
        title = next(w for w in h.current_screen().walk(restrict=True)
                     if getattr(w, "text", "") == h.app.branch.name_en)
        assert not title.shorten and title.texture_size[0] <= title.width + 1
        assert title.texture_size[1] <= title.parent.height
    finally:
        h.app.elder, h.app.lang = False, "zh_CN"
        h.settle()


def test_attract_clock_stays_inside_its_panel_with_large_english_text(kiosk_ui: Any) -> None:
    """Large text in English at 1920x1080: the news list gives way, the clock is not pushed over the top bar."""
    h = kiosk_ui
    h.set_size(1920, 1080)
    try:
        from dataclasses import replace

        h.tap("lang")
        h.tap("elder")
        branch = h.app.branch
        h.app.branch = replace(branch, events=branch.events * 6,  # a busy month of events
                               announcements=(("通知" * 60, "Closed for cleaning tonight. " * 4),))
        h.settle()
        h.pump(6)
        clock = h.find("big_clock")
        panel = clock.parent
        assert clock.top <= panel.top + 1, (clock.top, panel.top)
        events = h.find("events")
        assert events.y >= panel.y - 1
        # Whole events only: the drawn lines are the first few entries, re-wrapped, and they fit the box.
        assert events.texture_size[1] <= events.height + 1
        shown = events.shown_entries
        assert shown == 0 or 2 <= shown <= len(events.entries)
        drawn = "".join(events._label.text.split())
        assert drawn == "".join("".join(events.entries[:shown]).split())
    finally:
        h.app.branch = branch
        h.tap("elder")
        h.tap("lang")
        h.set_size(1280, 800)
        h.settle()


def test_night_dims_only_the_idle_attract_screen_and_a_touch_lifts_it(kiosk_ui: Any) -> None:
    """At night the attract screen is dimmed against burn-in; every other screen (a visit in progress) is not, and
    whoever taps the attract screen reads it at full contrast."""
    from datetime import UTC, datetime

    from ui.demo import demo_views

    h = kiosk_ui
    night = datetime(2026, 11, 22, 15, 40, tzinfo=UTC)  # 23:40 in Shanghai
    saved = h.app._now
    h.app._now = lambda: night.astimezone(h.app.settings.tz)
    h.app.awake = False
    try:
        h.app.refresh_clock()
        h.pump(2)
        assert h.app.night and h.app.root.dimmed
        _publish_from_thread(h, demo_views()["menu"])
        assert h.app.root.manager.current == "menu"
        assert not h.app.root.dimmed
        _publish_from_thread(h, demo_views()["attract"])
        assert h.app.root.manager.current == "attract" and h.app.root.dimmed
        h.tap("borrow")
        assert h.app.awake and not h.app.root.dimmed
        h.app.awake = False  # NIGHT_WAKE_S without a touch
        h.pump(1)
        assert h.app.root.dimmed
    finally:
        h.app._now = saved
        h.app.refresh_clock()


def _open_first_hit_of_s(h: Any) -> None:
    """Find a book, type S, open the first title found."""
    h.tap("find")
    h.settle()
    find = h.app.root.manager.current_screen
    find.on_key("S")
    assert h.wait_for(lambda: find.page is not None and bool(find.page.hits))
    find.open_detail(find.page.hits[0].title_id)


def test_summaries_and_audio_titles_in_english_fall_back_to_chinese(kiosk_ui: Any) -> None:
    """The demo title has an English summary; of the demo audio books, the last two have no English title."""
    h = kiosk_ui
    _open_first_hit_of_s(h)
    assert h.wait_for(lambda: h.app.root.manager.current_screen.detail is not None)
    h.settle()
    assert h.find("detail_summary").text.startswith("地球文明与三体文明")
    h.app.lang = "en"
    h.settle()
    assert h.find("detail_summary").text.startswith("Earth's first contact")
    h.tap("home")
    h.tap("audio")
    audio = h.app.root.manager.current_screen
    assert h.wait_for(lambda: bool(audio.books))
    titles = [c["title"] for c in audio.cards(audio.books, 0, len(audio.books), "en")]
    assert titles[0] == "Stories from the Analects" and titles[-2:] == ["骆驼祥子", "中国历史故事"]
    assert [c["title"] for c in audio.cards(audio.books, 0, 1, "zh_CN")] == ["论语故事"]
    h.app.lang = "zh_CN"
    h.tap("home")


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_receipt_keeps_each_due_date_on_one_line_in_large_text(kiosk_ui: Any, lang: str) -> None:
    """In elder mode at 1920x1080 and 1280x800 the receipt drew "应还 2026年12月 / 22日" and "due 22 Dec / 2026"."""
    from ui.demo import demo_views

    h = kiosk_ui
    h.app.lang, h.app.elder = lang, True
    _publish_from_thread(h, demo_views()["receipt"])
    dates = {h.app.fmt_date(line.due_at, lang) for line in h.app.view.receipt.lines if line.due_at}
    assert dates
    try:
        for size in [(1920, 1080), (1280, 800), (1080, 1920)]:
            h.set_size(*size)
            h.settle()
            h.pump(6)
            label = h.find("receipt_text")
            label.texture_update()
            lines = ["".join(word.text for word in line.words) for line in label._label._cached_lines]
            assert len(lines) > len(label.text.split("\n")), (size, lines)  # large text: some lines do wrap
            for date in dates:
                assert sum(line.count(date) for line in lines) == label.text.count(date), (size, lines)
                if lang == "en":  # "due" is glued to its date; "应还" is two ideographs, no glue inside a word
                    due = h.app.t("ui.borrow.due", lang, date=date)
                    assert all(due in line for line in lines if date in line), (size, lines)
    finally:
        h.set_size(1280, 800)
        h.settle()


@pytest.mark.parametrize(("spans", "zh", "en"), [
    ((("00:00", "24:00"),), "全天开放", "Open 24 hours"),
    ((("08:30", "21:00"),), "正在开放 · 今日 08:30–21:00", "Open now · today 08:30–21:00"),
    ((("12:00", "21:00"),), "现在闭馆 · 今日 12:00–21:00", "Closed now · today 12:00–21:00"),
    ((), "今日闭馆", "Closed today"),
])
def test_the_attract_screen_says_once_whether_the_room_is_open(
        kiosk_ui: Any, spans: tuple[tuple[str, str], ...], zh: str, en: str) -> None:
    """It said "Open now  · today: Open 24 hours" (a double space, and open twice) and "正在开放  今日 全天开放"."""
    from datetime import UTC, datetime

    from kiosk.browse_view import OpeningHours

    h = kiosk_ui
    saved_now, saved_branch = h.app._now, h.app.branch
    morning = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
    h.app._now = lambda: morning.astimezone(h.app.settings.tz)
    try:
        h.app.branch = replace(saved_branch, hours=tuple(OpeningHours(day, spans) for day in range(7)))
        for lang, expected in (("zh_CN", zh), ("en", en)):
            h.app.lang = lang
            h.pump(2)
            assert h.find("open_status").text == expected
            assert "  " not in h.find("open_status").text
    finally:
        h.app._now, h.app.branch, h.app.lang = saved_now, saved_branch, "zh_CN"
        h.app.refresh_clock()


@pytest.mark.parametrize("elder", [True, False])
def test_an_overdue_page_holds_the_rows_that_fit(kiosk_ui: Any, elder: bool) -> None:
    """In elder mode at 1920x1080 a page held 4 rows (the elder page size) and only 3½ fitted the list: the 4th was
    cut, to be scrolled to inside a paged list; in portrait half the list stayed empty under 6 rows on two pages.
    Every page now shows whole rows, as many as fit, and paging shows each line once."""
    from ui.demo import demo_views

    h = kiosk_ui
    h.app.elder = elder
    _publish_from_thread(h, demo_views()["staff"])
    staff = h.current_screen()
    panel = staff.panels["overdue"]
    try:
        for size in [(1920, 1080), (1280, 800), (1080, 1920)]:
            h.set_size(*size)
            h.settle()
            staff.open_tab("overdue")
            assert h.wait_for(lambda: panel.page is not None and panel.page.offset == 0
                              and len(panel.ids.overdue_list.children) == len(panel.page.lines)
                              and panel.rows_that_fit() >= len(panel.page.lines), timeout=10), size
            h.settle_until_quiet()
            seen: list[str] = []
            first_page = len(panel.ids.overdue_list.children)
            while True:
                area = panel.ids.overdue_scroll
                listed = panel.ids.overdue_list
                rows = list(reversed(listed.children))
                if not h.find("overdue_next").disabled:  # a page before the last has no room for one row more
                    used = sum(row.height for row in rows) + listed.spacing * (len(rows) - 1)
                    tallest = max(row.height for row in rows)
                    assert area.height - used < tallest + listed.spacing, (size, len(rows))
                for row in rows:  # whole rows only: each inside the list's visible area
                    top = row.to_window(row.x, row.top)[1]
                    bottom = row.to_window(row.x, row.y)[1]
                    assert area.to_window(area.x, area.y)[1] - 0.5 <= bottom and \
                        top <= area.to_window(area.x, area.top)[1] + 0.5, (size, row.title)
                seen += [row.title for row in rows]
                if h.find("overdue_next").disabled:
                    break
                offset = panel.page.offset
                h.tap("overdue_next")
                assert h.wait_for(lambda o=offset: panel.page.offset > o, timeout=10)
                h.settle_until_quiet()
            assert len(seen) == panel.page.total == len(set(seen)), (size, seen)
            if size == (1080, 1920):
                assert first_page > int(h.app.page_size), "portrait has room for more than the theme's page"
            if elder and size == (1920, 1080):
                assert panel.page_size() < int(h.app.page_size)  # the case the review found
    finally:
        staff.open_tab("home")
        h.set_size(1280, 800)
        h.settle()


def test_an_overdue_page_stays_on_a_page_boundary_when_the_text_size_changes(kiosk_ui: Any) -> None:
    """On page 2 of a list paged by 6, large text pages it by fewer: the page shown starts on a boundary of the new
    size, so Previous comes back to the first row (from offset 6 by 4 it went to 2, then refused to go below 0)."""
    from ui.demo import demo_views

    h = kiosk_ui
    _publish_from_thread(h, demo_views()["staff"])
    staff = h.current_screen()
    panel = staff.panels["overdue"]
    try:
        h.set_size(1280, 800)
        h.app.elder = False
        h.settle()
        staff.open_tab("overdue")
        h.settle_until_quiet()
        assert not h.find("overdue_next").disabled
        h.tap("overdue_next")
        assert h.wait_for(lambda: panel.page is not None and panel.page.offset > 0, timeout=10)
        h.settle_until_quiet()
        h.app.elder = True
        h.settle_until_quiet()
        assert panel.page.offset % panel.page_size() == 0, (panel.page.offset, panel.page_size())
        while not h.find("overdue_prev").disabled:
            offset = panel.page.offset
            h.tap("overdue_prev")
            assert h.wait_for(lambda o=offset: panel.page.offset < o, timeout=10)
            h.settle_until_quiet()
        assert panel.page.offset == 0
    finally:
        h.app.elder = False
        staff.open_tab("home")
        h.settle()


@pytest.mark.parametrize("elder", [True, False])
def test_the_copies_list_shows_every_copy_or_says_that_more_follow(kiosk_ui: Any, elder: bool) -> None:
    """In elder mode at 1920x1080 the copies list cut its 3rd row under a tall one-line summary, with nothing saying
    that it scrolls. The demo title's 3 copies now fit at every size; a title with more says how many and to swipe."""
    from dataclasses import replace as copy_with

    h = kiosk_ui
    h.app.elder = elder
    _open_first_hit_of_s(h)
    assert h.wait_for(lambda: h.current_screen().name == "detail" and h.current_screen().detail is not None)
    screen = h.current_screen()
    shown = screen.detail
    try:
        for size in [(1920, 1080), (1280, 800), (1080, 1920)]:
            h.set_size(*size)
            h.settle()
            h.pump(6)
            area, rows = screen.ids.copies_scroll, screen.ids.copies
            assert len(rows.children) == len(shown.copies) == 3
            assert rows.height <= area.height + 0.5, size  # all three rows whole, no scrolling needed
            assert h.find("copies_header").text == "馆藏复本"
        h.set_size(1280, 800)
        screen.detail = copy_with(shown, copies=shown.copies * 4)
        h.settle()
        h.pump(6)
        assert screen.ids.copies.height > screen.ids.copies_scroll.height
        assert h.find("copies_header").text == "馆藏复本 12 册 · 向上滑动看全部"
        h.app.lang = "en"
        h.pump(3)
        assert h.find("copies_header").text == "12 copies · swipe up for all"
    finally:
        h.set_size(1280, 800)
        h.settle()


def test_english_screens_name_the_branch_and_the_audio_category_in_english(kiosk_ui: Any) -> None:
    """The English receipt, copies list and audio cards showed "幸福里社区党群服务中心 24小时智慧书房" and "经典" (the
    demo's names did not match its branch, and a placeholder stood where the author goes). Names (authors, readers)
    and shelf marks stay as written: they have no English field."""
    from ui.demo import demo_branch, demo_views
    from ui.screens import SEP

    h = kiosk_ui
    english = demo_branch().name_en
    h.app.lang = "en"
    _publish_from_thread(h, demo_views()["receipt"])
    assert h.find("receipt_text").text.split("\n")[0] == english
    _publish_from_thread(h, demo_views()["attract"])
    _open_first_hit_of_s(h)
    assert h.wait_for(lambda: h.current_screen().name == "detail" and h.current_screen().detail is not None)
    h.settle()
    copies = [row.detail for row in reversed(h.current_screen().ids.copies.children)]
    assert copies and all(detail.startswith(english) for detail in copies), copies
    h.tap("home")
    h.tap("audio")
    assert h.wait_for(lambda: bool(h.current_screen().books))
    h.settle()
    text = _texts(h)
    assert "经典" not in text and SEP.join(("鲁迅", "Culture and art", "read by 王芳")) in text
    h.app.lang = "zh_CN"
    h.pump(3)
    assert SEP.join(("鲁迅", "文化艺术", "播音：王芳")) in _texts(h)
    h.tap("home")


def test_find_results_keep_availability_and_shelf_whole_and_shorten_the_authors(kiosk_ui: Any) -> None:
    """Large English text at 1280x800: "0/3 available · Zone A, stack 2, shelf 6" is what a visitor walks to the
    shelf with, so it is drawn whole and the authors before it give way."""
    h = kiosk_ui
    h.app.elder, h.app.lang = True, "en"
    try:
        h.tap("find")
        h.settle()
        find = h.app.root.manager.current_screen
        find.on_key("S")
        assert h.wait_for(lambda: find.page is not None and bool(find.page.hits))
        h.pump(6)
        rows = [w for w in find.walk(restrict=True) if getattr(w, "action", "").startswith("hit:")]
        assert rows
        for row in rows:
            labels = {getattr(w, "action", ""): w for w in row.walk(restrict=True)}
            authors, where = labels["hit_authors"], labels["hit_where"]
            assert "Zone A, stack" in where.text
            assert where.width >= where.natural_width and not where.is_shortened, where.text
            assert authors.right <= where.x + 1 and where.right <= row.right
            assert authors.text.startswith(row.authors[:1])
    finally:
        h.app.elder, h.app.lang = False, "zh_CN"
        h.tap("home")
        h.settle()


def test_about_in_one_column_says_there_is_more_below_until_the_bottom_is_reached(kiosk_ui: Any) -> None:
    """Large text: About runs past the screen's bottom, and a block cut at the edge does not tell an elderly
    visitor the page moves; the bar says so until the page is scrolled to its end. Two columns that fit: no bar."""
    h = kiosk_ui
    h.set_size(1920, 1080)
    try:
        h.tap("about")
        h.settle()
        h.pump(4)
        assert h.find("more_below").text == ""  # normal text, two columns: everything on screen
        h.tap("elder")
        h.settle()
        h.pump(4)
        hint = h.find("more_below")
        assert hint.text == h.app.t("ui.about.more_below", "zh_CN") and hint.height > 0
        sv = h.current_screen().ids.sv
        sv.scroll_y = 0
        h.pump(4)
        assert h.find("more_below").text == "" and h.find("more_below").height == 0
    finally:
        if h.app.elder:
            h.tap("elder")
        h.tap("home")
        h.set_size(1280, 800)
        h.settle()


def test_the_loans_line_counts_overdue_books_only_when_there_are_some(kiosk_ui: Any) -> None:
    from ui.demo import demo_views

    h = kiosk_ui
    views = demo_views()
    _publish_from_thread(h, views["menu"])
    h.settle()
    assert views["menu"].patron is not None and views["menu"].patron.overdue_count == 0
    assert "已借 3/5 本，没有逾期" in _texts(h) and "逾期 0" not in _texts(h)
    h.tap("lang")
    h.settle()
    assert "3/5 books on loan, none overdue" in _texts(h)
    h.tap("lang")
    _publish_from_thread(h, views["menu_blocked"])
    h.settle()
    assert "已借 3/5 本，逾期 1 本" in _texts(h)
    _publish_from_thread(h, views["attract"])
    h.settle()


def test_a_fitted_title_really_fits_and_a_too_long_one_splits_at_its_separator(kiosk_ui: Any) -> None:
    """The proportional guess of `fit_font` came out 4 px too wide for the English branch name in elder mode at
    1280x800, which wrapped "Room" alone onto a second line of the top bar."""
    from kivy.core.text import Label as CoreLabel

    app = kiosk_ui.app
    title = "Xingfuli Community Center · 24-hour Reading Room"
    for width in range(300, 900, 7):
        size = app.fit_font(title, width, 42, 10)
        assert size == 10 or CoreLabel(font_size=size, bold=True).get_extents(title)[0] <= width, width
    assert app.title_lines(title, 2000, 24) == title
    assert app.title_lines("幸福里书房", 10, 24) == "幸福里书房"  # no separator: left to the line breaker
    long = "Xingfuli Community Service Center · Gulou District · 24-hour Reading Room"
    assert app.title_lines(long, 500, 24) == \
        "Xingfuli Community Service Center ·\nGulou District · 24-hour Reading Room"


def test_a_page_of_find_results_holds_the_rows_the_list_has_room_for(kiosk_ui: Any) -> None:
    """Portrait showed 6 results with room for 8 under them: a page now holds what fits, at every size, and paging
    shows every title once."""
    h = kiosk_ui
    browser = h.app.browser
    saved = browser.hits
    first = saved[0]
    browser.hits = tuple(replace(first, title_id=1000 + n, title=f"测试图书{n}") for n in range(30))
    try:
        for size in [(1920, 1080), (1080, 1920), (1280, 800)]:
            h.set_size(*size)
            h.app.open_local("find")
            h.settle()
            find = h.current_screen()
            find.choose_category(first.category, "")
            h.settle_until_quiet()
            seen: list[int] = []
            while True:
                panel = find.ids.results_panel
                rows = [w for w in h.find("results").children]
                room = panel.height - panel.padding[1] - panel.padding[3]
                assert len(rows) * find.hit_row_height <= room + 0.5, size  # whole rows only
                if find.offset + len(rows) < find.page.total:
                    assert room - len(rows) * find.hit_row_height < find.hit_row_height, size  # and no room left
                seen += [hit.title_id for hit in find.page.hits]
                if h.find("next_page").disabled:
                    break
                h.tap("next_page")
                h.settle_until_quiet()
            assert sorted(seen) == list(range(1000, 1030)), size
            if size == (1080, 1920):
                assert find.page_size() > int(h.app.page_size), "portrait has room for more than the theme's page"
            find.reset()
            h.app.go_home()
            h.settle()
    finally:
        browser.hits = saved
        h.set_size(1280, 800)
        h.settle()
