"""Fictional residents for the demo, the simulators and tests. Every number passes GB 11643 (check character
computed, region prefixes of real Nanjing and Shanghai districts, sex digit matching the sex field) but belongs to
nobody: the names and addresses are invented."""

from __future__ import annotations

from datetime import date

from devices.idcard.record import SimulatedCard

DEMO_CARDS: tuple[SimulatedCard, ...] = (
    SimulatedCard(
        name="李秀英",
        id_number="320102198503120629",
        sex="2",
        birth_date=date(1985, 3, 12),
        address="江苏省南京市玄武区珠江路101号2幢301室",
        authority="南京市公安局玄武分局",
        valid_from=date(2015, 6, 1),
        valid_to=date(2035, 6, 1),
    ),
    SimulatedCard(
        name="王芳",
        id_number="320106199207181523",
        sex="2",
        birth_date=date(1992, 7, 18),
        address="江苏省南京市鼓楼区湖南路17号",
        authority="南京市公安局鼓楼分局",
        valid_from=date(2018, 9, 10),
        valid_to=date(2038, 9, 10),
    ),
    SimulatedCard(
        name="张伟明",
        id_number="320104197811050034",
        sex="1",
        birth_date=date(1978, 11, 5),
        address="江苏省南京市秦淮区中华路56号4单元502室",
        authority="南京市公安局秦淮分局",
        valid_from=date(2019, 4, 20),
        valid_to=date(2039, 4, 20),
    ),
    SimulatedCard(
        name="陈静",
        id_number="310104199002240441",
        sex="2",
        birth_date=date(1990, 2, 24),
        address="上海市徐汇区漕溪北路33弄8号",
        authority="上海市公安局徐汇分局",
        valid_from=date(2016, 3, 15),
        valid_to=date(2036, 3, 15),
    ),
    SimulatedCard(
        name="赵建国",
        id_number="310115195809163310",
        sex="1",
        birth_date=date(1958, 9, 16),
        address="上海市浦东新区张杨路1200弄15号",
        authority="上海市公安局浦东分局",
        valid_from=date(2012, 10, 8),
        valid_to=None,  # 长期: issued after the holder turned 46
    ),
    SimulatedCard(
        name="刘晓雯",
        id_number="31010120000605102X",
        sex="2",
        birth_date=date(2000, 6, 5),
        address="上海市黄浦区福州路210号",
        authority="上海市公安局黄浦分局",
        valid_from=date(2014, 8, 1),
        valid_to=date(2019, 8, 1),  # expired: the kiosk must refuse it politely
    ),
)
"""Six residents: four ordinary cards, one `长期` (no expiry), one expired (the last)."""

LONG_TERM_CARD = DEMO_CARDS[4]
EXPIRED_CARD = DEMO_CARDS[5]
