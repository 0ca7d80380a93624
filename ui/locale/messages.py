"""Source of the UI catalogs: run `python -m ui.locale.messages` to rewrite both `ui.po` files from this table.

Librarians may later edit the `.po` files directly with any gettext editor; this table is the developers' copy.
"""

from __future__ import annotations

from pathlib import Path

MESSAGES: dict[str, tuple[str, str]] = {
    "ui.app.title": ("24小时智慧书房", "24-hour reading room"),
    "ui.nav.home": ("首页", "Home"),
    "ui.nav.help": ("求助", "Help"),
    "ui.nav.elder_on": ("长者模式", "Large text"),
    "ui.nav.elder_off": ("标准模式", "Normal text"),
    "ui.nav.offline": ("离线借还中", "Offline mode"),
    "ui.help.called": ("已通知值班馆员，请稍候", "A librarian has been called. Please wait."),
    "ui.common.back": ("返回", "Back"),
    "ui.common.cancel": ("取消", "Cancel"),
    "ui.common.finish": ("完成", "Finish"),
    "ui.common.next": ("下一步", "Next"),
    "ui.common.done_leave": ("结束并退出", "Done, sign out"),
    "ui.common.busy": ("正在处理，请稍候……", "Working on it, one moment…"),
    "ui.common.loading": ("正在加载……", "Loading…"),
    "ui.common.prev_page": ("上一页", "Previous page"),
    "ui.common.next_page": ("下一页", "Next page"),
    "ui.hours.closed": ("闭馆", "Closed"),
    "ui.hours.all_day": ("全天开放", "Open 24 hours"),
    "ui.weekday.mon": ("星期一", "Monday"),
    "ui.weekday.tue": ("星期二", "Tuesday"),
    "ui.weekday.wed": ("星期三", "Wednesday"),
    "ui.weekday.thu": ("星期四", "Thursday"),
    "ui.weekday.fri": ("星期五", "Friday"),
    "ui.weekday.sat": ("星期六", "Saturday"),
    "ui.weekday.sun": ("星期日", "Sunday"),
    "ui.attract.borrow": ("借书", "Borrow"),
    "ui.attract.return": ("还书", "Return"),
    "ui.attract.my_loans": ("我的借阅", "My loans"),
    "ui.attract.find": ("查找图书", "Find a book"),
    "ui.attract.about": ("本馆服务", "About this center"),
    "ui.attract.audio": ("有声读物", "Audio books"),
    "ui.attract.open_now": ("正在开放", "Open now"),
    "ui.attract.closed_now": ("现在闭馆", "Closed now"),
    "ui.attract.hours_today": ("今日 {hours}", "Today {hours}"),
    "ui.attract.occupancy": ("当前在馆 {people} 人 · {level}", "{people} people here now · {level}"),
    "ui.attract.news": ("公告与活动", "News and events"),
    "ui.attract.event_line": ("活动：{title}，{when}，{room}", "Event: {title}, {when}, {room}"),
    "ui.attract.card_title": ("请放置身份证或社保卡", "Place your ID card or social-security card"),
    "ui.attract.hint_borrow": ("借书请先放置身份证或社保卡", "To borrow, first place your ID card"),
    "ui.attract.hint_loans": ("查看借阅请先放置身份证或社保卡", "To see your loans, first place your ID card"),
    "ui.attract.card_prompt": (
        "借书、续借：把身份证或社保卡平放在屏幕下方的读卡区，听到“嘀”声即可。",
        "Borrow or renew: lay your ID card or social-security card flat on the card reader below the screen "
        "until it beeps.",
    ),
    "ui.attract.scan_prompt": (
        "还书：不用刷卡，把书背面的条码对准扫描窗口即可。",
        "Return: no card needed. Hold the barcode on the back of the book to the scanner window.",
    ),
    "ui.occupancy.comfortable": ("舒适", "comfortable"),
    "ui.occupancy.busy": ("较多", "busy"),
    "ui.occupancy.full": ("已满", "full"),
    "ui.consent.title": ("个人信息使用说明", "How we use your information"),
    "ui.consent.text": (
        "首次使用本机借书，需要您同意以下事项：\n"
        "•\u00a0我们只保存经过加密处理的卡号摘要和遮挡后的姓名（如 张*），不保存身份证号码和照片。\n"
        "•\u00a0借阅记录仅用于借还书、催还和统计，不向第三方提供。\n"
        "•\u00a0您可以随时请馆员删除您的信息。\n"
        "不同意也可以继续查找图书和还书。",
        "The first time you borrow here we need your consent:\n"
        "• We keep only an encrypted digest of your card number and a masked name (e.g. Zhang*), never your ID "
        "number or photo.\n"
        "• Loan records are used only for lending, reminders and statistics, and are never given to third parties.\n"
        "• You can ask a librarian to delete your data at any time.\n"
        "Without consent you can still search for books and return them.",
    ),
    "ui.consent.agree": ("同意并继续", "Agree and continue"),
    "ui.consent.decline": ("不同意", "Decline"),
    "ui.menu.title": ("请选择", "What would you like to do?"),
    "ui.menu.hello": ("{name}，您好", "Hello, {name}"),
    "ui.menu.loans": ("已借 {count}/{limit} 本，逾期 {overdue} 本", "{count}/{limit} books on loan, {overdue} overdue"),
    "ui.borrow.title": ("借书", "Borrow"),
    "ui.borrow.prompt": (
        "请把书背面的条码对准扫描窗口，一本一本地扫", "Scan the barcode on the back of each book, one at a time"),
    "ui.borrow.count": ("已借 {count}/{limit}", "On loan {count}/{limit}"),
    "ui.borrow.due": ("应还 {date}", "due {date}"),
    "ui.return.title": ("还书", "Return"),
    "ui.return.prompt": ("请把书背面的条码对准扫描窗口，还完按“完成”", "Scan each book's barcode, then tap Finish"),
    "ui.account.title": ("我的借阅", "My loans"),
    "ui.account.due": ("应还 {date}", "due {date}"),
    "ui.account.overdue": ("已逾期", "OVERDUE"),
    "ui.account.renew": ("续借", "Renew"),
    "ui.account.renew_all": ("全部续借", "Renew all"),
    "ui.account.none": ("您目前没有借阅的图书", "You have no books on loan"),
    "ui.finish.title": ("完成", "Finish"),
    "ui.finish.question": ("需要借还凭条吗？", "Would you like a receipt?"),
    "ui.finish.print": ("打印凭条", "Print a receipt"),
    "ui.finish.screen": ("屏幕显示（扫码保存）", "Show on screen (scan to keep)"),
    "ui.finish.none": ("不需要", "No receipt"),
    "ui.receipt.title": ("借还凭条", "Receipt"),
    "ui.receipt.scan_hint": ("用手机扫码保存凭条", "Scan with your phone to keep this receipt"),
    "ui.receipt.borrowed": ("借出", "Borrowed"),
    "ui.receipt.returned": ("归还", "Returned"),
    "ui.receipt.renewed": ("续借", "Renewed"),
    "ui.rating.title": ("服务评价", "Rate our service"),
    "ui.rating.question": ("您对这次服务满意吗？", "How was your visit?"),
    "ui.rating.good": ("好评", "Good"),
    "ui.rating.ok": ("一般", "OK"),
    "ui.rating.bad": ("差评", "Poor"),
    "ui.rating.skip": ("跳过", "Skip"),
    "ui.rating.tag.fast": ("办理快", "Quick"),
    "ui.rating.tag.easy": ("操作简单", "Easy to use"),
    "ui.rating.tag.books": ("好书多", "Good books"),
    "ui.rating.tag.quiet": ("环境安静", "Quiet room"),
    "ui.rating.tag.slow": ("等待久", "Slow"),
    "ui.rating.tag.confusing": ("看不懂", "Confusing"),
    "ui.rating.tag.few_books": ("书太少", "Too few books"),
    "ui.rating.tag.noisy": ("环境嘈杂", "Noisy"),
    "ui.idle.title": ("您还在吗？", "Are you still there?"),
    "ui.idle.countdown": ("{seconds} 秒后自动退出", "Signing out in {seconds} s"),
    "ui.idle.privacy": ("为保护您的信息，无操作时将自动退出", "To protect your data the kiosk signs out when idle"),
    "ui.idle.continue": ("继续使用", "Continue"),
    "ui.staff.login_title": ("馆员登录", "Librarian sign-in"),
    "ui.staff.enter_pin": ("请输入馆员密码", "Enter your PIN"),
    "ui.staff.title": ("馆员模式", "Librarian mode"),
    "ui.staff.signed_in": ("当前馆员：{name}", "Signed in: {name}"),
    "ui.staff.offline": ("数据库离线：借还记录暂存本机", "Database offline: transactions are kept on this kiosk"),
    "ui.staff.no_report": ("设备与统计信息暂不可用", "Device and statistics report not available"),
    "ui.staff.sign_out": ("退出馆员模式", "Leave librarian mode"),
    "ui.staff.exit_kiosk": ("关闭自助机程序", "Exit the kiosk program"),
    "ui.staff.tab_home": ("概览", "Overview"),
    "ui.staff.tab_dashboard": ("客流统计", "Traffic"),
    "ui.staff.tab_overdue": ("逾期图书", "Overdue"),
    "ui.staff.tab_status": ("图书状态", "Item status"),
    "ui.librarian.no_data": ("暂无数据", "No data yet"),
    "ui.librarian.unavailable": ("此功能暂不可用", "Not available here"),
    "ui.librarian.visits_today": ("今日到访", "Visits today"),
    "ui.librarian.visits_week": ("本周到访", "Visits this week"),
    "ui.librarian.peak_hour": ("高峰时段", "Peak hour"),
    "ui.librarian.peak_value": ("{hour}时", "{hour}:00"),
    "ui.librarian.index": ("人气指数", "Popularity index"),
    "ui.librarian.satisfaction": ("满意率", "Satisfaction"),
    "ui.librarian.refresh": ("刷新", "Refresh"),
    "ui.librarian.overdue_count": ("本馆逾期共 {total} 册", "{total} overdue at this branch"),
    "ui.librarian.overdue_none": ("目前没有逾期图书", "Nothing is overdue"),
    "ui.librarian.overdue_detail": ("条码 {barcode} · 应还 {due} · 逾期 {days} 天 · {patron}",
                                    "Barcode {barcode} · due {due} · {days} days late · {patron}"),
    "ui.librarian.page": ("第 {page}/{pages} 页", "Page {page} of {pages}"),
    "ui.librarian.mode.lost": ("标记丢失", "Mark lost"),
    "ui.librarian.mode.in_repair": ("标记修补", "Mark in repair"),
    "ui.librarian.mode.withdrawn": ("标记剔除", "Mark withdrawn"),
    "ui.librarian.mode.available": ("恢复可借", "Available again"),
    "ui.librarian.mode.add_copy": ("新增馆藏", "Add a copy"),
    "ui.librarian.choose_mode": ("请先选择状态，再逐本扫描图书条码", "Choose a status, then scan each copy"),
    "ui.keyboard.clear": ("清除", "Clear"),
    "ui.keyboard.ok": ("确定", "OK"),
    "ui.find.title": ("查找图书", "Find a book"),
    "ui.find.type_hint": ("输入拼音首字母、书名、作者或ISBN", "Type pinyin initials, title, author or ISBN"),
    "ui.find.categories": ("按分类浏览", "Browse by category"),
    "ui.find.category_tile": ("{name}\n{titles} 种 · 可借 {available}", "{name}\n{titles} titles · {available} in"),
    "ui.find.all_categories": ("全部分类", "All categories"),
    "ui.find.results": ("共 {total} 种，第 {first}–{last} 种", "{total} titles, showing {first}–{last}"),
    "ui.find.no_results": ("没有找到，换个关键词试试", "Nothing found. Try other letters."),
    "ui.find.available": ("可借 {available}/{copies}", "{available}/{copies} available"),
    "ui.detail.title": ("图书详情", "Book details"),
    "ui.detail.call_number": ("索书号 {call}", "Call no. {call}"),
    "ui.detail.no_summary": ("暂无简介", "No summary"),
    "ui.detail.copies": ("馆藏复本", "Copies"),
    "ui.item_status.available": ("在架可借", "On the shelf"),
    "ui.item_status.on_loan": ("已借出", "On loan"),
    "ui.item_status.in_transit": ("调拨中", "In transit"),
    "ui.item_status.lost": ("遗失", "Lost"),
    "ui.item_status.withdrawn": ("已剔除", "Withdrawn"),
    "ui.item_status.reserved": ("已预约", "Reserved"),
    "ui.item_status.repair": ("修补中", "Being repaired"),
    "ui.category.party": ("党建", "Party building"),
    "ui.category.economy": ("经济", "Economy"),
    "ui.category.military_politics": ("军事政治", "Military and politics"),
    "ui.category.history_geography": ("历史地理", "History and geography"),
    "ui.category.culture_art": ("文化艺术", "Culture and art"),
    "ui.category.literature": ("文学", "Literature"),
    "ui.category.children": ("少儿", "Children"),
    "ui.category.science": ("科普", "Popular science"),
    "ui.category.life": ("生活", "Everyday life"),
    "ui.about.title": ("本馆服务", "About this center"),
    "ui.about.hours": ("开放时间", "Opening hours"),
    "ui.about.contact": ("地址与联系", "Address and contact"),
    "ui.about.address": ("地址：{address}", "Address: {address}"),
    "ui.about.phone": ("电话：{phone}", "Phone: {phone}"),
    "ui.about.rooms": ("功能室与服务", "Rooms and services"),
    "ui.about.events": ("近期活动", "Upcoming events"),
    "ui.about.no_events": ("近期暂无活动", "No events scheduled"),
    "ui.about.nearby": ("附近的服务中心", "Nearby centers"),
    "ui.about.no_nearby": ("暂无", "None listed"),
    "ui.about.distance": ("约 {km} 公里", "about {km} km"),
    "ui.audio.title": ("有声读物", "Audio books"),
    "ui.audio.hint": ("用手机扫描二维码即可收听", "Scan a QR code with your phone to listen"),
    "ui.audio.minutes": ("{minutes} 分钟", "{minutes} min"),
    "ui.audio.none": ("暂无有声读物", "No audio books yet"),
}

HEADER = '# UI messages of the reading-room kiosk ({language}). Generated from ui/locale/messages.py.\nmsgid ""\n' \
    'msgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: {language}\\n"\n'


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write_catalogs(root: Path = Path(__file__).parent) -> None:
    for index, language in enumerate(("zh_CN", "en")):
        lines = [HEADER.format(language=language)]
        for key, texts in MESSAGES.items():
            lines.append(f"msgid {_quote(key)}\nmsgstr {_quote(texts[index])}\n")
        path = root / language / "LC_MESSAGES" / "ui.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    write_catalogs()
