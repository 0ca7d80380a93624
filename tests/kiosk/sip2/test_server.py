"""Our client against our server on loopback, over the real lending service in a real database."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import func, select

from catalog.db import Database
from catalog.model import AuditEntry, Loan
from kiosk.sip2.client import Sip2Client
from kiosk.sip2.codec import decode, encode, make
from kiosk.sip2.session import SUPPORTED_MESSAGES
from tests.kiosk.sip2.conftest import ID_NUMBER, LIBRARY_CARD, UNKNOWN_CARD, Served


def _loans(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Loan)) or 0)


def _audit(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _raw(served: Served, *lines: bytes, login: bool = True) -> list[bytes]:
    """Send raw bytes; collect replies until the server closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", served.server.port), timeout=2) as sock:
        if login:
            sock.sendall(b"9300CNsc1|COpw1|CPgate-1|\r")
            sock.recv(100)
        data = b""
        try:
            for line in lines:
                sock.sendall(line)
            sock.shutdown(socket.SHUT_WR)
            while chunk := sock.recv(65536):
                data += chunk
        except OSError:
            pass  # the server hung up on us mid-send: what it does to oversize lines
    return [line for line in data.split(b"\r") if line]


def test_login_and_sc_status(served: Served) -> None:
    with served.client() as client:
        assert client.login()
        status = client.sc_status()
    assert status.fixed["online_status"] == "Y"
    assert status.fixed["protocol_version"] == "2.00"
    assert status.get("BX") == SUPPORTED_MESSAGES
    assert status.get("AO") == "XW01"
    assert status.get("AM") == "锁金村书房"
    assert status.get("AN") == "gate-1"


def test_wrong_password_is_refused(served: Served) -> None:
    with served.client(password="nope") as client:
        assert not client.login()


def test_patron_by_card_and_by_id_number_masked(served: Served) -> None:
    with served.client() as client:
        status = client.patron_status(LIBRARY_CARD)
        assert status.get("BL") == "Y"
        assert status.get("AE") == "张**"
        assert status.fixed["patron_status"] == "   Y          "
        by_id = client.patron_information(ID_NUMBER)
        assert by_id.get("AE") == "李*"
        assert by_id.fixed["charged_items_count"] == "0000"
        unknown = client.patron_status(UNKNOWN_CARD)
        assert unknown.get("BL") == "N"
        assert unknown.fixed["patron_status"].startswith("YYYY")
        assert unknown.get_all("AF")


def test_full_loan_cycle_with_security_flags(served: Served) -> None:
    with served.client() as client:
        out = client.checkout(LIBRARY_CARD, "TS0000001")
        assert out.fixed["ok"] == "1" and out.fixed["desensitize"] == "Y"
        assert out.get("AJ") == "测试图书1"
        assert out.get("AH")
        assert out.get_all("AF") == ["Borrowed: 测试图书1"]
        again = client.checkout(ID_NUMBER, "TS0000001")
        assert again.fixed["ok"] == "0" and again.fixed["desensitize"] == "N"
        info = client.item_information("TS0000001")
        assert info.fixed["circulation_status"] == "04"
        assert info.get("AH")
        patron = client.patron_information(LIBRARY_CARD)
        assert patron.fixed["charged_items_count"] == "0001"
        assert patron.get_all("AU") == ["TS0000001"]
        renewed = client.renew(LIBRARY_CARD, "TS0000001")
        assert renewed.fixed["ok"] == "1" and renewed.fixed["renewal_ok"] == "Y"
        not_mine = client.renew(ID_NUMBER, "TS0000001")
        assert not_mine.fixed["ok"] == "0"
        client.checkout(LIBRARY_CARD, "TS0000002")
        all_renewed = client.renew_all(LIBRARY_CARD)
        assert all_renewed.fixed["ok"] == "1"
        assert int(all_renewed.fixed["renewed_count"]) + int(all_renewed.fixed["unrenewed_count"]) == 2
        back = client.checkin("TS0000001")
        assert back.fixed["ok"] == "1" and back.fixed["resensitize"] == "Y" and back.fixed["alert"] == "N"
        twice = client.checkin("TS0000001")
        assert twice.fixed["ok"] == "0" and twice.fixed["resensitize"] == "Y"
        nothing = client.checkin("NOPE")
        assert nothing.fixed["ok"] == "0" and nothing.fixed["resensitize"] == "N"
        assert client.item_information("TS0000001").fixed["circulation_status"] == "03"
        assert client.item_information("NOPE").get_all("AF")
        assert client.end_session(LIBRARY_CARD).fixed["end_session"] == "Y"
    assert _loans(served.db) == 2


def test_item_from_another_branch_is_in_transit_on_return(served: Served) -> None:
    with served.client(user="sc2", password="pw2") as client:
        assert client.checkout(LIBRARY_CARD, "TS0000003").fixed["ok"] == "1"
    with served.client() as client:
        pass
    with served.client(user="sc2", password="pw2") as client:
        back = client.checkin("TS0000003")
    assert back.fixed["alert"] == "Y" and back.fixed["resensitize"] == "Y"


def test_unknown_patron_cannot_borrow(served: Served) -> None:
    with served.client() as client:
        reply = client.checkout(UNKNOWN_CARD, "TS0000004")
    assert reply.fixed["ok"] == "0" and reply.fixed["desensitize"] == "N"
    assert _loans(served.db) == 0


def test_hold_fee_and_block_are_answered_without_changes(served: Served) -> None:
    with served.client() as client:
        hold = client.request("15", {"hold_mode": "+", "transaction_date": " " * 18},
                              [("AO", "XW01"), ("AA", LIBRARY_CARD), ("AB", "TS0000005")])
        assert hold.fixed["ok"] == "0" and hold.get_all("AF")
        fee = client.request("37", {"transaction_date": " " * 18, "fee_type": "01", "payment_type": "00",
                                    "currency_type": "CNY"}, [("AO", "XW01"), ("AA", LIBRARY_CARD), ("BV", "1.00")])
        assert fee.fixed["payment_accepted"] == "N"
        block = client.request("01", {"card_retained": "N", "transaction_date": " " * 18},
                               [("AO", "XW01"), ("AA", LIBRARY_CARD)])
        assert block.code == "24" and block.get("BL") == "Y"
    assert _loans(served.db) == 0


def test_sequence_number_is_echoed_and_checksummed(served: Served) -> None:
    replies = _raw(served, encode(make("99", {"status_code": "0", "max_print_width": "040",
                                              "protocol_version": "2.00"}, sequence=7)))
    assert decode(replies[0]).sequence == 7


def test_resend_returns_the_last_reply(served: Served) -> None:
    status = encode(make("99", {"status_code": "0", "max_print_width": "040", "protocol_version": "2.00"},
                         sequence=3))
    replies = _raw(served, status, b"97AZFEF5\r")
    assert replies[0] == replies[1]


def test_bad_input_gets_96_and_changes_nothing(served: Served) -> None:
    loans_before, audit_before = _loans(served.db), _audit(served.db)
    checkout = encode(make("11", {"sc_renewal_policy": "N", "no_block": "N", "transaction_date": " " * 18,
                                  "nb_due_date": " " * 18},
                           [("AO", "XW01"), ("AA", LIBRARY_CARD), ("AB", "TS0000006")], sequence=1))
    corrupted = checkout[:-5] + (b"0000" if checkout[-5:-1] != b"0000" else b"0001") + b"\r"
    replies = _raw(served, corrupted, b"garbage\r", b"19unknown\r", b"1100\r", b"\xff\xfe\x00\r\n")
    assert replies == [b"96"] * 5
    assert (_loans(served.db), _audit(served.db)) == (loans_before, audit_before)


def test_requests_before_login_close_the_connection(served: Served) -> None:
    replies = _raw(served, b"9900302.00AY1AZFCA5\r", login=False)
    assert replies == []


def test_oversize_line_closes_the_connection(served: Served) -> None:
    replies = _raw(served, b"23" + b"x" * 20000)
    assert replies in ([b"96"], [])  # a reset may overtake the 96
    with served.client() as client:  # the server still serves others
        assert client.login()


def test_endless_garbage_is_disconnected(served: Served) -> None:
    replies = _raw(served, b"zz\r" * 50)
    assert 0 < len(replies) < 50


def test_client_resends_after_server_96_and_reconnects(served: Served) -> None:
    client = served.client()
    try:
        assert client.login()
        assert client.sc_status().code == "98"
        assert client._sock is not None
        client._sock.close()  # the network drops the connection
        assert client.patron_status(LIBRARY_CARD).get("BL") == "Y"
    finally:
        client.close()


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_gb18030_server_and_client(database: Database, secret: bytes, encoding: str) -> None:
    from tests.kiosk.sip2.conftest import make_settings, seed, serve

    seed(database, secret)
    server = serve(database, secret, make_settings(encoding))
    try:
        client = Sip2Client("127.0.0.1", server.port, user="sc1", password="pw1", encoding=encoding)
        with client:
            reply = client.checkout(LIBRARY_CARD, "TS0000007")
        assert reply.get("AJ") == "测试图书7"
    finally:
        server.shutdown()
        server.server_close()
