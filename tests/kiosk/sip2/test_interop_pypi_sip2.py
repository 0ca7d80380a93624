"""Code not written here drives our server: the PyPI `sip2` client (module `Sip2`), through every message we
list as supported in BX, plus the ones we answer with a refusal (hold, fee paid, block patron)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

# A hard import, not importorskip: the library is a dev dependency (pyproject), so CI must fail, not skip, without it.
import Sip2.sip2 as Sip2Module

from tests.kiosk.sip2.conftest import LIBRARY_CARD, Served


@pytest.fixture
def sip(served: Served) -> Iterator[Any]:
    client = Sip2Module.Sip2()
    client.hostName = "127.0.0.1"
    client.hostPort = served.server.port
    client.tlsEnable = False
    client.institutionId = "XW01"
    client.scLocation = "gate-1"
    client.patron = LIBRARY_CARD
    client.language = "001"
    client.log = logging.getLogger("pypi-sip2")  # the library would otherwise write its own log file
    assert client.connect()
    try:
        yield client
    finally:
        client.disconnect()


def _call(client: Any, name: str, *args: Any) -> dict[str, Any]:
    request = getattr(client, f"sip_{name}_request")(*args)
    response = client.get_response(request)
    parsed: dict[str, Any] = getattr(client, f"sip_{name}_response")(response)
    return parsed


def test_pypi_sip2_client_through_every_message(sip: Any) -> None:
    assert _call(sip, "login", "sc1", "pw1")["fixed"]["Ok"] == "1"
    status = _call(sip, "sc_status")
    assert status["fixed"]["OnlineStatus"] == "Y"
    assert status["variable"]["BX"] == ["YYYNYYYYYNYNNNYY"]

    patron = _call(sip, "patron_status")
    assert patron["variable"]["BL"] == ["Y"]
    assert patron["variable"]["AE"] == ["张**"]

    out = _call(sip, "checkout", "TS0000010")
    assert out["fixed"]["Ok"] == "1"
    assert out["variable"]["AJ"] == ["测试图书10"]

    info = _call(sip, "patron_information", "charged")
    assert info["variable"]["AU"] == ["TS0000010"]

    item = _call(sip, "item_information", "TS0000010")
    assert item["fixed"]["CirculationStatus"] == "04"

    assert _call(sip, "renew", "TS0000010")["fixed"]["Ok"] == "1"
    renew_all = _call(sip, "renew_all")
    assert renew_all["fixed"]["Ok"] == "1"

    back = _call(sip, "checkin", "TS0000010")
    assert back["fixed"]["Ok"] == "1"
    assert back["fixed"]["Resensitize"] == "Y"

    hold = _call(sip, "hold", "+", "", "", "TS0000011")
    assert hold["fixed"]["Ok"] == "0"
    fee = _call(sip, "fee_paid", 1, 0, "1.00")
    assert fee["fixed"]["PaymentAccepted"] == "N"
    blocked = sip.sip_patron_status_response(sip.get_response(sip.sip_block_patron_request("card left in machine")))
    assert blocked["variable"]["BL"] == ["Y"]  # answered with 24; we never block from a self-check machine
    ended = sip.get_response(sip.sip_end_patron_session_request())
    assert sip.sip_end_patron_session_response(ended)["fixed"]["EndSession"] == "Y"
    # Request ACS Resend (97, BX position 6): the server repeats its last message byte for byte.
    assert sip.get_response(sip.sip_sc_resend_request()) == ended
    # What BX says N to (item status update 19, patron enable 25) is not pretended: the server asks for a
    # resend (96) and changes nothing.
    # (Sent on the library's socket directly: its own reader expects a checksum on every reply, and 96 has none.)
    for request in (sip.sip_item_status_update_request("TS0000010"), sip.sip_patron_enable_request()):
        sip._socket.sendall(request.encode())
        assert sip._socket.recv(100) == b"96\r"
    assert _call(sip, "sc_status")["fixed"]["OnlineStatus"] == "Y"  # still logged in and answering
