"""Arbitrary input never raises out of a session; the client's resend (97) against a scripted peer on a socket."""

from __future__ import annotations

import socket
import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.db import Database
from kiosk.lending.policy import LendingPolicy
from kiosk.sip2.client import Sip2Client
from kiosk.sip2.codec import decode, encode, make
from kiosk.sip2.local_backend import LocalBackend
from kiosk.sip2.session import Sip2Session
from tests.kiosk.sip2.conftest import make_settings, seed


def test_arbitrary_lines_never_escape_the_session(database: Database, secret: bytes) -> None:
    seed(database, secret)
    backend = LocalBackend(database, secret=secret, branch_code="XW01", kiosk_id="t", network_policy=LendingPolicy())
    session = Sip2Session(make_settings(), {"XW01": backend}, max_errors=10**9)
    assert session.handle(b"9300CNsc1|COpw1|") == b"941\r"

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.one_of(st.binary(max_size=200),
                     st.sampled_from(["11", "09", "29", "65", "17", "23", "63", "35", "15", "37", "01", "99"])
                     .flatmap(lambda code: st.binary(max_size=120).map(lambda tail: code.encode() + tail))))
    def check(line: bytes) -> None:
        reply = session.handle(line)
        assert reply is None or reply.endswith(b"\r")

    check()


def test_client_asks_for_resend_on_a_corrupted_reply() -> None:
    """A one-connection peer that corrupts its first reply's checksum, then answers 97 with the good one."""
    good = encode(make("94", {"ok": "1"}, sequence=1))
    bad = good[:-5] + (b"0000" if good[-5:-1] != b"0000" else b"0001") + b"\r"
    seen: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))

    def peer() -> None:
        conn, _ = listener.accept()
        with conn:
            seen.append(conn.recv(1024))
            conn.sendall(bad)
            seen.append(conn.recv(1024))
            conn.sendall(good)

    thread = threading.Thread(target=peer, daemon=True)
    thread.start()
    try:
        with Sip2Client("127.0.0.1", listener.getsockname()[1], user="u", password="p", timeout_s=5) as client:
            assert client.login()
    finally:
        thread.join(5)
        listener.close()
    assert decode(seen[0]).code == "93"
    assert seen[1].startswith(b"97")
