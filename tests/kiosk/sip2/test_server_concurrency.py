"""The server with many clients at once, per-account institutions, slow and idle clients, and bytes fuzzed over a
real socket: answers or closed connections, never a crash, never a changed loan or item from bad input."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from catalog.db import Database
from catalog.model import Branch, Item, Loan, Patron
from kiosk.sip2.client import Sip2Client
from kiosk.sip2.codec import decode
from kiosk.sip2.server import Sip2Server
from kiosk.sip2.settings import Sip2Account, Sip2Settings
from tests.kiosk.sip2.conftest import ID_NUMBER, LIBRARY_CARD, Served, serve

MACHINES = 12


def _state(db: Database) -> tuple[object, ...]:
    with db.read() as s:
        loans = tuple(s.execute(select(Loan.id, Loan.item_id, Loan.returned_at, Loan.due_at)).all())
        items = tuple(s.execute(select(Item.id, Item.status, Item.current_branch_id)).all())
    return loans, items


def test_many_clients_at_once_across_institutions(served: Served) -> None:
    """Six machines at branch XW01 and six at XW02 (account institution), each lending and returning its own
    copies at the same moment, plus all of them racing for one copy: every reply names its own institution, and
    exactly one machine gets the contested copy."""
    errors: list[str] = []
    winners: list[str] = []
    gate = threading.Barrier(MACHINES)
    lock = threading.Lock()

    def machine(n: int) -> None:
        user, password, inst = ("sc1", "pw1", "XW01") if n % 2 == 0 else ("sc2", "pw2", "XW02")
        try:
            # A generous timeout: on a loaded 2-core machine a dozen transactions queued on one card take seconds.
            with Sip2Client("127.0.0.1", served.server.port, user=user, password=password, institution=inst,
                            timeout_s=60) as client:
                assert client.login()
                gate.wait(timeout=20)
                race = client.checkout(LIBRARY_CARD, "TS0000024")
                if race.fixed["ok"] == "1":
                    with lock:
                        winners.append(inst)
                if race.get("AO") != inst:
                    raise AssertionError(f"reply for {inst} names {race.get('AO')}")
                if n % 2 == 0:
                    barcode = f"TS{n // 2:07d}"
                    out = client.checkout(LIBRARY_CARD, barcode)
                    back = client.checkin(barcode)
                    if (out.fixed["ok"], back.fixed["ok"]) != ("1", "1"):
                        raise AssertionError(f"{barcode}: {out.get_all('AF')} {back.get_all('AF')}")
                status = client.sc_status()
                if status.get("AO") != inst:
                    raise AssertionError(f"status for {inst} names {status.get('AO')}")
        except Exception as exc:  # collected: a thread's assertion must fail the test
            with lock:
                errors.append(f"machine {n}: {exc!r}")

    threads = [threading.Thread(target=machine, args=(n,)) for n in range(MACHINES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert errors == []
    assert len(winners) == 1
    with served.db.read() as s:
        open_loans = s.execute(select(Loan.branch_id, Item.barcode).join(Item, Item.id == Loan.item_id)
                               .where(Loan.returned_at.is_(None))).all()
        branch = s.scalar(select(Branch.id).where(Branch.code == winners[0]))
    assert [(row.branch_id, row.barcode) for row in open_loans] == [(branch, "TS0000024")]


def test_slow_client_is_answered_and_idle_client_is_closed(database: Database, secret: bytes) -> None:
    from tests.kiosk.sip2.conftest import seed

    seed(database, secret)
    server = serve(database, secret, Sip2Settings(accounts=(Sip2Account("sc1", "pw1", "XW01"),), language="en",
                                                  idle_timeout_s=1.0))
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            for byte in b"9300CNsc1|COpw1|\r":  # one byte at a time, as a 1200-baud line would
                sock.sendall(bytes([byte]))
                time.sleep(0.002)
            assert sock.recv(100) == b"941\r"
            started = time.monotonic()
            assert sock.recv(100) == b""  # then silence: the server hangs up after idle_timeout_s
            assert time.monotonic() - started < 4
        assert _answers(server)
    finally:
        server.shutdown()
        server.server_close()


def _answers(server: Sip2Server) -> bool:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"9300CNsc1|COpw1|\r")
        return sock.recv(100) == b"941\r"


@pytest.fixture
def fuzz_server(served: Served) -> Iterator[Served]:
    with served.db.unit_of_work() as s:  # a loan to give checkin and renew something real to get wrong
        s.execute(update(Patron).values(max_loans=30))
    with served.client() as client:
        assert client.checkout(ID_NUMBER, "TS0000005").fixed["ok"] == "1"
    yield served


# Well-formed-looking starts (a real code, sometimes a real patron or barcode) followed by arbitrary bytes, cut
# into arbitrary chunks: the server must answer each line, ask for a resend, or close, and never change a loan.
_PREFIXES = st.sampled_from([b"11NN", b"09N", b"29NN", b"65", b"17", b"23019", b"63019", b"35", b"15", b"37",
                             b"01N", b"99", b"97", b"93", b"XX", b""])
_TAILS = st.one_of(st.binary(max_size=160),
                   st.sampled_from([b"AOXW01|AAnobody|ABTS0000005|", b"AB|AA|", b"AY1AZ0000", b"\xff\xfe\r\n",
                                    b"|" * 50, "ABTS0000005|AF中文|".encode("gb18030")]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(_PREFIXES, _TAILS), min_size=1, max_size=6),
       cut=st.integers(1, 64), terminator=st.sampled_from([b"\r", b"\n", b"\r\n", b""]))
def test_fuzzed_bytes_over_a_socket(fuzz_server: Served, lines: list[tuple[bytes, bytes]], cut: int,
                                    terminator: bytes) -> None:
    before = _state(fuzz_server.db)
    payload = b"9300CNsc1|COpw1|\r" + b"".join(prefix + tail + terminator for prefix, tail in lines)
    with socket.create_connection(("127.0.0.1", fuzz_server.server.port), timeout=5) as sock:
        try:
            for start in range(0, len(payload), cut):
                sock.sendall(payload[start:start + cut])
            sock.shutdown(socket.SHUT_WR)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        except OSError:
            data = b""  # closed on us mid-send: allowed
    for reply in (line for line in data.replace(b"\n", b"\r").split(b"\r") if line):
        if reply != b"96":
            decode(reply, encoding="utf-8")  # every reply is well-formed SIP2 with a valid checksum
    assert _state(fuzz_server.db) == before
    assert _answers(fuzz_server.server)
