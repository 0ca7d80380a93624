"""Demo content for screenshots and widget tests: plain `SessionView` values (the contract between core and UI) and
a `BrowserPort` over plain browse values, plus `ScriptedSession`, a SessionPort that publishes the views it is given.

`ScriptedSession` is not the kiosk's session: it makes no decisions. It exists so that every screen state can be
rendered in a screenshot (a refusal, an idle warning) without staging the whole visit on devices; it records the
commands the screens send so widget tests can check what a tap asked for. The real flows run on
`kiosk.session.runner`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from kiosk.browse_view import (
    AudioBookView,
    BranchInfo,
    CategoryCount,
    CopyView,
    EventView,
    NearbyCenter,
    OccupancyView,
    OpeningHours,
    SearchPage,
    TitleDetail,
    TitleHit,
)
from kiosk.librarian import Dashboard, OverdueLine, OverduePage, TodaysAnnouncement
from kiosk.session.view import (
    LoanLine,
    Message,
    PatronView,
    ReceiptLine,
    ReceiptView,
    ScanLine,
    Screen,
    SessionView,
    Severity,
)
from kiosk.session.visit import receipt_qr_text

if TYPE_CHECKING:
    from kiosk.traffic.charts import ChartFrame

NOW = datetime(2026, 11, 22, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai, a Sunday
SHANGHAI = ZoneInfo("Asia/Shanghai")


class ScriptedSession:
    """A SessionPort that shows whatever view it is told to, and remembers every command it receives."""

    def __init__(self, view: SessionView | None = None) -> None:
        self._view = view or SessionView()
        self._listeners: list[Callable[[SessionView], None]] = []
        self._lock = threading.Lock()
        self.commands: list[tuple[str, tuple[Any, ...]]] = []
        self.announcement = TodaysAnnouncement("今晚 21:00 闭馆消毒，", "Closed for cleaning from 9 pm tonight.")
        self.first_day = False
        """The dashboard of a room's first day: no door count, session or rating yet, no events in the calendar."""

    def publish(self, view: SessionView) -> None:
        with self._lock:
            view = replace(view, sequence=self._view.sequence + 1)
            self._view = view
            listeners = list(self._listeners)
        for listener in listeners:
            listener(view)

    def subscribe(self, listener: Callable[[SessionView], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def current(self) -> SessionView:
        return self._view

    def _record(self, name: str, *args: Any) -> None:
        self.commands.append((name, args))

    def choose(self, screen: Screen) -> None:
        self._record("choose", screen)

    def scan(self, code: str) -> None:
        self._record("scan", code)

    def accept_consent(self) -> None:
        self._record("accept_consent")

    def decline_consent(self) -> None:
        self._record("decline_consent")

    def renew(self, loan_id: int) -> None:
        self._record("renew", loan_id)

    def renew_all(self) -> None:
        self._record("renew_all")

    def finish(self) -> None:
        self._record("finish")

    def choose_receipt(self, kind: str) -> None:
        self._record("choose_receipt", kind)

    def rate(self, score: str, tags: tuple[str, ...] = ()) -> None:
        self._record("rate", score, tags)

    def cancel(self) -> None:
        self._record("cancel")

    def touch(self) -> None:
        self._record("touch")

    def staff_login(self, pin: str) -> None:
        self._record("staff_login", pin)

    def staff_exit(self) -> None:
        self._record("staff_exit")

    def staff_report(self) -> dict[str, Any]:
        """The shape `kiosk.runtime.KioskRuntime.staff_report` answers with, on demo numbers."""
        return {"今日借出 Loans today": 23, "今日归还 Returns today": 17, "今日续借 Renewals today": 4,
                "今日到访 Visits today": 53,  # as the demo dashboard's today (demo_dashboard)
                "当前在馆 In the room": 12, "设备 idcard": "connected", "设备 scanner": "connected",
                "设备 printer": "failed (paper out)"}

    def staff_dashboard(self, out_dir: Path, language: str, frame: ChartFrame | None = None) -> Dashboard:
        """The shape `kiosk.librarian.Librarian.dashboard` answers with, on a demo week (chart drawn by the same
        `kiosk.traffic.charts` code, so the screenshot shows the real chart)."""
        if self.first_day:
            return Dashboard(None, None, None, 0.0, None, None, ("activity",))
        return demo_dashboard(out_dir, language, frame)

    def staff_overdue(self, offset: int, limit: int) -> OverduePage:
        lines = tuple(OverdueLine(title, f"TS00{n:05d}", NOW - timedelta(days=3 + 5 * n), 3 + 5 * n, name)
                      for n, (title, name) in enumerate(zip(
                          ("明朝那些事儿（第一部）", "三体", "活着", "乡土中国", "时间简史", "孙子兵法", "家常菜精选"),
                          ("张*", "李*", "王*", "赵*", "刘*", "陈*", "周*"), strict=True)))
        return OverduePage(lines[offset : offset + limit], len(lines), offset)

    def staff_announcement(self) -> TodaysAnnouncement:
        return self.announcement

    def staff_save_announcement(self, text: str, text_en: str) -> TodaysAnnouncement:
        self._record("staff_save_announcement", text, text_en)
        self.announcement = TodaysAnnouncement(text, text_en)
        return self.announcement


def demo_dashboard(out_dir: Path, language: str, frame: ChartFrame | None = None) -> Dashboard:
    """This demo week (Monday to NOW's Sunday): busier evenings and weekends, a quiet night, a satisfied room."""
    from kiosk.traffic.charts import write_png
    from kiosk.traffic.reports import PeriodRow, TrafficReport

    today = NOW.astimezone(SHANGHAI).date()
    monday = today - timedelta(days=today.weekday())
    # Mean visits per hour, Monday first: a weekday and a weekend profile (opening at 8, peaks after school/work).
    weekday = (0, 0, 0, 0, 0, 0, 1, 2, 4, 5, 6, 6, 5, 4, 5, 6, 8, 9, 11, 12, 9, 6, 3, 1)
    weekend = (0, 0, 0, 0, 0, 0, 0, 1, 3, 7, 10, 11, 9, 8, 10, 12, 11, 9, 8, 7, 5, 3, 2, 1)
    heatmap = tuple(tuple(float(v) for v in (weekday if d < 5 else weekend)) for d in range(7))
    days = [monday + timedelta(days=d) for d in range(today.weekday() + 1)]
    # Today is under way (10:30): fewer visits so far, but every quarter so far counted (kiosk.traffic.reports).
    rows = tuple(PeriodRow(datetime(d.year, d.month, d.day, tzinfo=SHANGHAI), d.isoformat(),
                           sum(heatmap[d.weekday()]) * (1.0 if d != today else 0.45), None, 1.0) for d in days)
    total = sum(r.visits or 0.0 for r in rows)
    branch = demo_branch()
    name = branch.name_en if language == "en" else branch.name
    report = TrafficReport("DEMO", name, "day", monday, today, "Asia/Shanghai", rows, total,
                           heatmap=heatmap, peak_hours=((19, 12.0), (18, 11.0)), satisfaction=0.93)
    out_dir.mkdir(parents=True, exist_ok=True)
    chart = write_png(report, out_dir / f"dashboard-demo-{language}.png", language, frame)
    return Dashboard(rows[-1].visits, total, 19, 78.4, 0.93, chart)


# ---------------------------------------------------------------------------------------------------------------- views
PATRON = PatronView(masked_name="张*华", masked_card="3201**********1234", loans_count=3, max_loans=5)
DUE = NOW + timedelta(days=30)


def _m(key: str, severity: Severity = Severity.INFO, /, **params: Any) -> Message:
    return Message(key, params, severity)


def demo_views() -> dict[str, SessionView]:
    """Named states of a visit, with the core's own message keys (`kiosk/locale/*/core.po`), as the real session
    would publish them."""
    t1, t2, t3 = "习近平新时代中国特色社会主义思想学习纲要", "平凡的世界（全三册）", "明朝那些事儿（第一部）"
    due = DUE.astimezone(SHANGHAI).date()  # the session passes the local due day (a date), as `_local_day` does

    def lent(title: str, count: int) -> Message:
        return _m("loan.lent", Severity.SUCCESS, title=title, due=due, count=count, max=5)

    unknown = _m("refusal.unknown_barcode", Severity.ERROR, barcode="TS0009999")
    scans = (
        ScanLine("TS0001021", t1, lent(t1, 4), True, DUE),
        ScanLine("TS0001388", t2, lent(t2, 5), True, DUE),
        ScanLine("TS0009999", "", unknown, False),
    )
    loans = (
        LoanLine(1, "TS0001021", t1, DUE, False, True, 0),
        LoanLine(2, "TS0000417", t3, NOW - timedelta(days=3), True, False, 1,
                 _m("refusal.renewal.too_overdue", Severity.WARNING, title=t3)),
        LoanLine(3, "TS0001388", t2, NOW + timedelta(days=12), False, True, 0),
    )
    receipt_lines = (ReceiptLine(t1, "TS0001021", DUE, "borrowed"), ReceiptLine(t2, "TS0001388", DUE, "borrowed"),
                     ReceiptLine("三体", "TS0000102", None, "returned"))
    receipt = ReceiptView(
        branch_name=demo_branch().name,  # as the core names it: the branch's own name, shown in English in English
        masked_name="张*华",
        at=NOW,
        lines=receipt_lines,
        qr_payload=receipt_qr_text(demo_branch().name, NOW, receipt_lines, SHANGHAI),
    )
    returned = _m("return.ok", Severity.SUCCESS, title="三体")
    renewed_due = NOW + timedelta(days=42)
    return {
        "attract": SessionView(),
        "consent": SessionView(Screen.CONSENT),
        "menu": SessionView(Screen.MENU, patron=PATRON, loans=loans,
                            last=_m("session.welcome", name=PATRON.masked_name)),
        "menu_blocked": SessionView(Screen.MENU, patron=replace(
            PATRON, overdue_count=1, blocks=(_m("refusal.patron_blocked.overdue", Severity.WARNING, days=30),))),
        "borrowing": SessionView(Screen.BORROWING, patron=replace(PATRON, loans_count=5), scans=scans[:2],
                                 last=lent(t2, 5)),
        "borrowing_refused": SessionView(Screen.BORROWING, patron=replace(PATRON, loans_count=5), scans=scans,
                                         last=unknown),
        "borrowing_limit": SessionView(Screen.BORROWING, patron=replace(PATRON, loans_count=5), scans=scans[:2],
                                       last=_m("refusal.limit_reached", Severity.WARNING, count=5, max=5)),
        "returning": SessionView(Screen.RETURNING, scans=(ScanLine("TS0000102", "三体", returned, True),),
                                 last=returned),
        "account": SessionView(Screen.ACCOUNT, patron=replace(PATRON, overdue_count=1), loans=loans,
                               last=_m("account.prompt")),
        # As the session machine shows it after a renewal: the list re-read, the renewed loan with its new due date
        # and, at the default one renewal, no second one.
        "account_renewed": SessionView(
            Screen.ACCOUNT, patron=replace(PATRON, overdue_count=1),
            loans=(*loans[:2], replace(loans[2], due_at=renewed_due, renewable=False, renewals=1,
                                       refusal=_m("refusal.renewal.max_renewals", Severity.WARNING, title=t2, max=1))),
            last=_m("renew.ok", Severity.SUCCESS, title=t2, due=renewed_due.astimezone(SHANGHAI).date())),
        "finishing": SessionView(Screen.FINISHING, patron=PATRON, last=_m("receipt.choose")),
        "finishing_paper_out": SessionView(Screen.FINISHING, patron=PATRON,
                                           last=_m("receipt.choose.paper_out", Severity.WARNING)),
        "finishing_no_printer": SessionView(Screen.FINISHING, patron=PATRON, can_print=False,
                                            last=_m("receipt.choose")),
        "receipt": SessionView(Screen.RECEIPT, patron=PATRON, receipt=receipt, last=_m("receipt.on_screen")),
        "rating": SessionView(Screen.RATING, last=_m("rating.prompt")),
        "idle_warning": SessionView(Screen.BORROWING, patron=replace(PATRON, loans_count=4), scans=scans[:1],
                                    last=lent(t1, 4), idle_warning_remaining_s=15),
        "staff_login": SessionView(Screen.STAFF_LOGIN),
        "staff": SessionView(Screen.STAFF, staff_name="李馆员", last=_m("staff.welcome", name="李馆员")),
        "staff_status": SessionView(
            Screen.STAFF, staff_name="李馆员", staff_mode="in_repair",
            scans=(ScanLine("TS0000417", t3, _m("librarian.status_set.in_repair", Severity.SUCCESS, title=t3), True),),
            last=_m("librarian.status_set.in_repair", Severity.SUCCESS, title=t3)),
    }


LOCAL_STATES = ("attract_hint", "attract_night", "find", "find_results", "find_category", "detail", "about", "audio")
STAFF_STATES = ("staff_dashboard", "staff_dashboard_first_day", "staff_overdue", "staff_announcement")
"""Librarian panels inside the staff screen, opened by tapping their tab."""
"""Screens a visitor reaches without a card (no SessionView needed), as `kiosk screenshots` stages them."""


def all_states() -> list[str]:
    return [*demo_views().keys(), *LOCAL_STATES, *STAFF_STATES]


# ------------------------------------------------------------------------------------------------------------ browsing
CATEGORIES = (
    ("party", "党建", 312, 290), ("economy", "经济", 228, 201), ("military_politics", "军事政治", 176, 160),
    ("history_geography", "历史地理", 254, 230), ("culture_art", "文化艺术", 241, 222),
    ("literature", "文学", 388, 301),
    ("children", "少儿", 205, 170), ("science", "科普", 133, 120), ("life", "生活", 117, 109),
)
TITLES = (
    ("平凡的世界（全三册）", "路遥", "北京十月文艺出版社", "literature", "pfdsj", "I247.57/L84"),
    ("三体", "刘慈欣", "重庆出版社", "literature", "st", "I247.55/L67"),
    ("明朝那些事儿（第一部）", "当年明月", "北京联合出版公司", "history_geography", "mcnxse", "K248.09/D22"),
    ("中国共产党简史", "本书编写组", "人民出版社", "party", "zggcdjs", "D239/Z62"),
    ("乡土中国", "费孝通", "人民出版社", "culture_art", "xtzg", "C912.82/F32"),
    ("时间简史", "史蒂芬·霍金", "湖南科学技术出版社", "science", "sjjs", "P159/H85"),
    ("活着", "余华", "作家出版社", "literature", "hz", "I247.57/Y78"),
    ("家常菜精选", "王琳", "中国轻工业出版社", "life", "jccjx", "TS972.12/W24"),
    ("孙子兵法", "孙武", "中华书局", "military_politics", "szbf", "E892.2/S91"),
)

SUMMARIES = {
    "平凡的世界（全三册）": ("陕北农村孙少安、孙少平兄弟十年间的奋斗与生活。",
                       "Ten years in the lives of two brothers from a village in northern Shaanxi."),
    "三体": ("地球文明与三体文明的第一次接触，中国科幻代表作。",
           "Earth's first contact with an alien civilisation: a landmark of Chinese science fiction."),
    "明朝那些事儿（第一部）": ("用通俗的语言讲述明朝开国的历史。",
                     "The founding of the Ming dynasty, told in plain words."),
    "中国共产党简史": ("中国共产党百年历程的简明读本。", "A short history of the Communist Party of China."),
    "乡土中国": ("费孝通关于中国乡村社会结构的经典论著。", "Fei Xiaotong's classic study of rural Chinese society."),
    "时间简史": ("霍金讲述宇宙的起源、黑洞与时间。", "Hawking on the origin of the universe, black holes and time."),
    "活着": ("一个普通人历经时代变迁的一生。", "One ordinary man's life through decades of upheaval."),
    "家常菜精选": ("简单易学的家常菜做法。", "Simple home cooking, step by step."),
    "孙子兵法": ("中国古代最著名的兵书。", "The best-known military classic of ancient China."),
}
"""Each demo title's own summary (zh, en): the detail screenshots show the one of the title they open."""


class DemoBrowser:
    """A BrowserPort over a few plain values, for screenshots and widget tests (the real one queries the catalog)."""

    def __init__(self) -> None:
        self.hits = tuple(
            TitleHit(i + 1, title, author, publisher, 2015 + i % 8, f"978711{i:07d}", cat, call, 3, 2 - i % 3,
                     (f"A区{i % 4 + 1}架{i % 6 + 1}层",))
            for i, (title, author, publisher, cat, _initials, call) in enumerate(TITLES)
        )
        self._initials = {i + 1: t[4] for i, t in enumerate(TITLES)}

    def categories(self) -> Sequence[CategoryCount]:
        return [CategoryCount(code, name, titles, available) for code, name, titles, available in CATEGORIES]

    def search(self, query: str, *, category: str | None = None, offset: int = 0, limit: int = 20) -> SearchPage:
        q = query.lower()
        hits = [h for h in self.hits
                if (not category or h.category == category)
                and (not q or self._initials[h.title_id].startswith(q) or q in (h.isbn13 or ""))]
        return SearchPage(query, tuple(hits[offset : offset + limit]), len(hits), offset)

    def title_detail(self, title_id: int) -> TitleDetail | None:
        hit = next((h for h in self.hits if h.title_id == title_id), None)
        if hit is None:
            return None
        copies = tuple(
            CopyView(f"TS{title_id:04d}{n}", "available" if n < hit.available else "on_loan",
                     demo_branch().name, hit.shelf_locations[0], None if n < hit.available else DUE)
            for n in range(hit.copies)
        )
        summary, summary_en = SUMMARIES[hit.title]
        return TitleDetail(hit, summary, hit.call_number, copies, summary_en)

    def branch_info(self) -> BranchInfo:
        from ui.demo_map import demo_map_path

        return replace(demo_branch(), map_image=demo_map_path(), map_image_en=demo_map_path("en"))

    def audio_books(self) -> Sequence[AudioBookView]:
        # The last two without an English title: shown in Chinese in English too.
        # Authors are names (shown as written); an anthology has none.
        names = (("论语故事", "Stories from the Analects", ""),
                 ("红楼梦（精选）", "Dream of the Red Chamber (selections)", "曹雪芹"),
                 ("边城", "Border Town", "沈从文"), ("朝花夕拾", "Dawn Blossoms Plucked at Dusk", "鲁迅"),
                 ("西游记（少儿版）", "Journey to the West (for children)", "吴承恩"),
                 ("唐诗三百首", "Three Hundred Tang Poems", "蘅塘退士"), ("骆驼祥子", "", "老舍"),
                 ("中国历史故事", "", ""))
        return [AudioBookView(i + 1, name, author, "王芳", "culture_art", f"https://audio.example.cn/a/{1000 + i}",
                              35 + 7 * i, name_en) for i, (name, name_en, author) in enumerate(names)]


def demo_branch() -> BranchInfo:
    week = tuple(OpeningHours(d, (("00:00", "24:00"),)) for d in range(7))
    return BranchInfo(
        code="DEMO",
        name="幸福里社区党群服务中心 · 24小时智慧书房",
        name_en="Xingfuli Community Center · 24-hour Reading Room",
        address="南京市鼓楼区幸福里路88号1楼",
        address_en="1F, 88 Xingfuli Road, Gulou District, Nanjing",
        phone="025-8888 6666",
        timezone="Asia/Shanghai",
        hours=week,
        hours_note="服务大厅：周一至周五 8:30–17:30，周末 9:00–17:00",
        hours_note_en="Service hall: Mon–Fri 8:30–17:30, weekends 9:00–17:00",
        rooms=(("阅览室", "24小时开放，刷身份证进门"), ("党员活动室", "预约使用"), ("老年人服务站", "棋牌、书法、助餐"),
               ("儿童之家", "周末开放"), ("多功能厅", "讲座、读书会，容纳80人")),
        rooms_en=(("Reading room", "Open 24 hours, enter with your ID card"), ("Party members' room", "By booking"),
                  ("Elders' station", "Chess, calligraphy, meals"), ("Children's room", "Open at weekends"),
                  ("Multi-purpose hall", "Lectures and reading clubs, 80 seats")),
        services=(("一站式服务大厅", "社保、医保、居住证办理"), ("有声阅读角", "手机扫码听书")),
        services_en=(("One-stop service hall", "Social security, health insurance, residence permits"),
                     ("Audio reading corner", "Scan a QR code to listen")),
        contact="值班馆员：工作日 9:00–21:00",
        contact_en="Librarian on duty: weekdays 9:00–21:00",
        map_image="",
        nearby=(NearbyCenter("安康里社区党群服务中心", "安康路12号", 0.8, "8:30–21:00",
                             name_en="Ankangli Community Center", address_en="12 Ankang Road"),
                NearbyCenter("鼓楼区党群服务中心", "中山北路101号", 1.6, "9:00–20:00",
                             name_en="Gulou District Community Center", address_en="101 Zhongshan North Road")),
        events=(EventView("国学讲堂：《论语》里的家风", "Classics lecture: family values in the Analects", "多功能厅",
                          NOW + timedelta(days=2, hours=5), NOW + timedelta(days=2, hours=7),
                          room_en="Multi-purpose hall"),
                EventView("周末读书会：《平凡的世界》", "Weekend reading club: Ordinary World", "阅览室",
                          NOW + timedelta(days=6, hours=4), NOW + timedelta(days=6, hours=6),
                          room_en="Reading room")),
        announcements=(("本周新到图书120册，欢迎借阅", "120 new books arrived this week"),),
        capacity=40,
    )


def demo_occupancy() -> OccupancyView:
    return OccupancyView(people=12, level="comfortable", updated_at=NOW)
