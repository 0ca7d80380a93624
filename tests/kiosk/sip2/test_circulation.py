"""The kiosk lending from a library system over SIP2: `Sip2Circulation` behind the visit machine, against our own
server on a loopback port over a real database, with network faults injected by a real TCP proxy."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from catalog.model import Item, Loan, Patron
from devices.events import CardKind, CardPresented
from devices.identity import card_key, person_key
from kiosk.config import Settings
from kiosk.errors import ConfigError
from kiosk.i18n import translate
from kiosk.lending.backends import build_circulation
from kiosk.lending.errors import (
    AlreadyOnYourCard,
    ItemNotFound,
    ItemNotLoanable,
    ItemOnLoanElsewhere,
    LoanLimitReached,
    NotOnLoan,
    RenewalRefused,
    UnknownCard,
)
from kiosk.lending.policy import LendingPolicy
from kiosk.lending.port import CirculationPort
from kiosk.lending.service import Circulation
from kiosk.reliability.netproxy import FaultProxy, ProxyMode
from kiosk.session.view import Screen
from kiosk.session.visit import VisitMachine
from kiosk.sip2.circulation import LibraryUnavailable, RemoteRefusal, Sip2Circulation
from kiosk.sip2.client import Sip2Client
from kiosk.sip2.settings import sip2_client_settings
from tests.kiosk.sip2.conftest import ID_NUMBER, LIBRARY_CARD, UNKNOWN_CARD, Served


def _circulation(served: Served, port: int | None = None, *, patron_id: str = "card_number",
                 timeout_s: float = 5.0) -> Sip2Circulation:
    client = Sip2Client("127.0.0.1", port or served.server.port, user="sc1", password="pw1", location="kiosk-1",
                        institution="XW01", timeout_s=timeout_s, retries=2)
    local = Circulation(served.db, branch_code="XW01", kiosk_id="kiosk-1", network_policy=LendingPolicy())
    return Sip2Circulation(client, local, patron_id=patron_id)


@pytest.fixture
def remote(served: Served) -> Iterator[Sip2Circulation]:
    circulation = _circulation(served)
    try:
        yield circulation
    finally:
        circulation.close()


def library_card(secret: bytes, number: str = LIBRARY_CARD) -> CardPresented:
    return CardPresented("cards", CardKind.LIBRARY_CARD, card_key(secret, "card", number), "******2345",
                         patron_identifier=number)


def id_card(secret: bytes) -> CardPresented:
    return CardPresented("idcard", CardKind.ID_CARD, person_key(secret, ID_NUMBER), "3201**********1234", "李*",
                         date(2036, 1, 1), patron_identifier=ID_NUMBER)


def wait_listening(port: int) -> None:
    """The proxy reopens its listening socket on its own thread after REFUSE: wait until it accepts again."""
    deadline = time.monotonic() + 5
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def open_loans(served: Served) -> int:
    with served.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Loan).where(Loan.returned_at.is_(None))) or 0)


def test_visit_card_scan_loan_view_renew_return(served: Served, secret: bytes) -> None:
    """card → scan → loan → view, through SIP2 only; the loan is committed in the library system's database."""
    circulation = _circulation(served, patron_id="card_key")
    machine = VisitMachine(circulation, idle_timeout_s=60, idle_warning_s=15)
    view = machine.card(id_card(secret))
    assert view.screen == Screen.MENU
    assert view.patron is not None and view.patron.masked_name == "李*" and view.patron.loans_count == 0
    view = machine.scan("TS0000003")
    assert view.last is not None and view.last.key == "loan.lent", view.last
    assert view.scans[-1].ok and view.scans[-1].title == "测试图书3"
    assert view.patron is not None and view.patron.loans_count == 1
    assert [line.title for line in view.loans] == ["测试图书3"]
    with served.db.read() as s:
        loan = s.scalars(select(Loan).where(Loan.returned_at.is_(None))).one()
        assert loan.kiosk_id == "sip2:XW01"
    assert view.loans[0].due_at == loan.due_at.replace(microsecond=0) or view.loans[0].due_at == loan.due_at
    view = machine.renew(view.loans[0].loan_id)
    assert view.last is not None and view.last.key == "renew.ok"
    view = machine.finish()
    view = machine.finish()
    view = machine.finish()
    assert view.screen == Screen.ATTRACT
    view = machine.scan("TS0000003")  # a return needs no card
    assert view.last is not None and view.last.key == "return.ok"
    assert open_loans(served) == 0
    circulation.close()


def test_card_number_mapping_never_sends_an_id_number(served: Served, secret: bytes,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    circulation = _circulation(served)  # default patron_id = "card_number"
    machine = VisitMachine(circulation, idle_timeout_s=60, idle_warning_s=15)
    view = machine.card(id_card(secret))
    assert view.screen == Screen.ATTRACT and view.last is not None and view.last.key == "refusal.unknown_card"
    assert circulation.identifier_for(id_card(secret)) is None
    view = machine.card(library_card(secret))
    assert view.screen == Screen.MENU and view.patron is not None and view.patron.masked_name == "张**"
    assert ID_NUMBER not in caplog.text and LIBRARY_CARD not in caplog.text
    circulation.close()


def test_refusals_are_typed_and_carry_the_screen_message(served: Served, remote: Sip2Circulation,
                                                          secret: bytes) -> None:
    me = remote.find_card(library_card(secret))
    assert me is not None
    remote.checkout(me, "TS0000001")
    with pytest.raises(AlreadyOnYourCard) as mine:
        remote.checkout(me, "TS0000001")
    assert mine.value.params["screen_message"]
    with pytest.raises(ItemNotFound) as unknown:
        remote.checkout(me, "NOSUCH1")
    assert unknown.value.params["screen_message"]
    other = _circulation(served, patron_id="id_number")
    someone = other.find_card(id_card(secret))
    assert someone is not None
    with pytest.raises(ItemOnLoanElsewhere) as elsewhere:
        other.checkout(someone, "TS0000001")
    assert elsewhere.value.params["title"] == "测试图书1"
    with served.db.unit_of_work() as s:
        s.execute(update(Item).where(Item.barcode == "TS0000002").values(status="lost"))
    with pytest.raises(ItemNotLoanable) as lost:
        other.checkout(someone, "TS0000002")
    assert lost.value.params["status"] == "lost"
    for n in range(10, 15):  # the ID-card patron may borrow 5 (the default policy)
        other.checkout(someone, f"TS{n:07d}")
    with pytest.raises(LoanLimitReached) as limit:
        other.checkout(someone, "TS0000016")
    assert limit.value.params["max"] == 5
    with pytest.raises(NotOnLoan):
        remote.checkin("TS0000020")
    with pytest.raises(ItemNotFound):
        remote.checkin("NOSUCH1")
    assert open_loans(served) == 6
    other.close()


def test_standing_lists_the_charged_items_with_titles(remote: Sip2Circulation, secret: bytes) -> None:
    me = remote.find_card(library_card(secret))
    assert me is not None
    lent = [remote.checkout(me, barcode) for barcode in ("TS0000005", "TS0000006")]
    standing = remote.standing(me)
    assert {loan.barcode for loan in standing.loans} == {"TS0000005", "TS0000006"}
    assert {loan.title for loan in standing.loans} == {"测试图书5", "测试图书6"}
    assert standing.max_loans == 30 and not standing.blocks
    assert {loan.due_at for loan in standing.loans} == {r.due_at for r in lent}
    renewed = remote.renew(me, next(loan.loan_id for loan in standing.loans if loan.barcode == "TS0000005"))
    assert renewed.barcode == "TS0000005" and renewed.due_at > lent[0].due_at


def test_renewal_refused_by_the_server_shows_its_message(remote: Sip2Circulation, secret: bytes) -> None:
    me = remote.find_card(library_card(secret))
    assert me is not None
    remote.checkout(me, "TS0000007")
    loan_id = remote.standing(me).loans[0].loan_id
    remote.renew(me, loan_id)  # the policy allows one renewal
    with pytest.raises(RenewalRefused) as refused:
        remote.renew(me, loan_id)
    assert refused.value.params["reason"] == "remote"
    assert refused.value.params["message"] == refused.value.params["screen_message"] != ""


def test_server_down_is_a_refusal_and_changes_nothing(served: Served, secret: bytes) -> None:
    with FaultProxy(("127.0.0.1", served.server.port)) as proxy:
        circulation = _circulation(served, proxy.port, timeout_s=0.5)
        changes: list[bool] = []
        circulation.on_connectivity = changes.append
        circulation.probe_interval_s = 0.1
        me = circulation.find_card(library_card(secret))
        assert me is not None
        proxy.mode = ProxyMode.REFUSE
        proxy.cut()
        with pytest.raises(LibraryUnavailable):
            circulation.checkout(me, "TS0000008")
        machine = VisitMachine(circulation, idle_timeout_s=60, idle_warning_s=15)
        view = machine.card(library_card(secret))
        assert view.last is not None and view.last.key == "refusal.library_unavailable"
        assert open_loans(served) == 0
        proxy.mode = ProxyMode.BLACKHOLE
        wait_listening(proxy.port)
        with pytest.raises(LibraryUnavailable):
            circulation.checkout(me, "TS0000008")
        assert changes == [False]  # the kiosk shows its "offline" badge
        proxy.mode = ProxyMode.PASS
        deadline = time.monotonic() + 20
        while not changes[1:] and time.monotonic() < deadline:
            time.sleep(0.05)  # nobody scans: the probe notices the library system is back
        assert changes == [False, True] and circulation.is_online
        assert circulation.checkout(me, "TS0000008").title == "测试图书8"  # reconnects and logs in again
        circulation.close()


def test_cut_connection_is_reopened_transparently(served: Served, secret: bytes) -> None:
    with FaultProxy(("127.0.0.1", served.server.port)) as proxy:
        circulation = _circulation(served, proxy.port)
        me = circulation.find_card(library_card(secret))
        assert me is not None
        assert proxy.cut() == 1
        assert circulation.checkout(me, "TS0000009").title == "测试图书9"
        assert proxy.stats.accepted == 2
        circulation.close()


def test_remote_refusal_message_is_the_server_text() -> None:
    refusal = RemoteRefusal(message="请到服务台", screen_message="请到服务台")
    assert refusal.key == "refusal.remote"
    assert translate(refusal.key, "zh_CN", **refusal.params) == "请到服务台"


def test_build_circulation_chooses_sip2(served: Served, tmp_path: Path) -> None:
    base = Settings(None, tmp_path, tmp_path / "secret")
    extra = {"circulation": {"backend": "sip2"},
             "sip2": {"client": {"host": "127.0.0.1", "port": served.server.port, "user": "sc1", "password": "pw1",
                                 "institution": "XW01", "patron_id": "card_key"}}}
    settings = replace(base, kiosk=replace(base.kiosk, branch="XW01"), extra=extra)
    circulation = build_circulation(settings, served.db)
    assert isinstance(circulation, Sip2Circulation) and circulation.patron_id_mode == "card_key"
    assert isinstance(build_circulation(replace(settings, extra={}), served.db), Circulation)
    with pytest.raises(ConfigError) as bad:
        build_circulation(replace(settings, extra={"circulation": {"backend": "ftp"}}), served.db)
    assert bad.value.setting == "circulation.backend"


@pytest.mark.parametrize(("client", "setting"), [
    (None, "sip2.client"),
    ({"port": 1}, "sip2.client.host"),
    ({"host": "h", "user": "u", "port": 0}, "sip2.client.port"),
    ({"host": "h", "user": "u", "encoding": "klingon"}, "sip2.client.encoding"),
    ({"host": "h", "user": "u", "timeout_s": 0}, "sip2.client.timeout_s"),
    ({"host": "h", "user": "u", "retries": -1}, "sip2.client.retries"),
    ({"host": "h", "user": "u", "patron_id": "name"}, "sip2.client.patron_id"),
    ({"host": "h"}, "sip2.client.user"),
])
def test_client_settings_errors_name_the_key(client: dict[str, object] | None, setting: str) -> None:
    extra: dict[str, object] = {"sip2": {"client": client} if client is not None else {}}
    with pytest.raises(ConfigError) as error:
        sip2_client_settings(extra)
    assert error.value.setting == setting


DUE_DATES = [  # as servers send them → the branch's local time
    ("20270105    235900", (2027, 1, 5, 23, 59, 0)),
    ("20270105CST 235900", (2027, 1, 5, 23, 59, 0)),
    ("20270105", (2027, 1, 5, 23, 59, 59)),
    ("2027-01-05", (2027, 1, 5, 23, 59, 59)),
    ("2027-01-05 18:30:00", (2027, 1, 5, 18, 30, 0)),
]


def test_context_identity_and_due_dates(served: Served, remote: Sip2Circulation, secret: bytes) -> None:
    """One server for the small checks (each server costs a seeded database)."""
    assert isinstance(remote, CirculationPort)
    assert remote.branch().policy.self_registration is False
    assert remote.status().fixed["online_status"] == "Y"
    assert remote.library_name == "锁金村书房"
    assert remote.find_card(library_card(secret, UNKNOWN_CARD)) is None
    with pytest.raises(UnknownCard):
        remote.checkout(999, "TS0000001")
    with pytest.raises(UnknownCard):
        remote.register(card_kind="library_card", card_key="k", masked_card="", display_name="",
                        card_valid_until=None)
    other = _circulation(served, patron_id="id_number")
    assert other.find_card(id_card(secret)) is not None
    assert other.find_card(library_card(secret, UNKNOWN_CARD)) is None
    other.close()
    for text, local in DUE_DATES:
        due = remote._due(text)
        assert due is not None, text
        assert due.astimezone(remote.branch().tz).timetuple()[:6] == local, text
    assert remote._due("20270105   Z155959") == datetime(2027, 1, 5, 15, 59, 59, tzinfo=UTC)
    assert remote._due("soon") is None and remote._due("") is None
    # Only the last few visits' identifiers stay in memory; an evicted visit's patron id is unknown again.
    with served.db.unit_of_work() as s:
        s.add_all([Patron(card_kind="library_card", card_key=card_key(secret, "card", f"LC7000000{n}"),
                          masked_card="****", display_name="王*") for n in range(5)])
    ids = [remote.find_card(library_card(secret, f"LC7000000{n}")) for n in range(5)]
    assert None not in ids and len(set(ids)) == 5
    assert len(remote._by_identifier) == 4
    with pytest.raises(UnknownCard):
        remote.standing(ids[0])  # type: ignore[arg-type]
    assert remote.find_card(library_card(secret, "LC70000004")) == ids[4]  # a card keeps its id while remembered
