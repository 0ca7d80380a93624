"""SIP2 store and forward, end to end: our kiosk client against our SIP2 server over real loopback sockets and a
real database (SQLite and PostgreSQL), the outage injected by the TCP fault proxy, a SIGKILL by a real process."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from catalog.db import Database
from catalog.model import Item, Loan, Patron
from catalog.offline_model import CirculationException, OfflineAction
from devices.identity import card_key, person_key
from kiosk.config import Settings
from kiosk.doctor import check_sip2_journal
from kiosk.errors import ConfigError
from kiosk.i18n import translate
from kiosk.lending.backends import build_circulation
from kiosk.lending.errors import AlreadyOnYourCard, RenewalRefused
from kiosk.lending.policy import LendingPolicy
from kiosk.lending.service import Circulation
from kiosk.offline.errors import OfflineLimitReached
from kiosk.offline.exceptions import list_exceptions
from kiosk.offline.journal import Journal
from kiosk.reliability.netproxy import FaultProxy, ProxyMode
from kiosk.session.visit import VisitMachine
from kiosk.sip2.circulation import LibraryUnavailable, Sip2Circulation
from kiosk.sip2.client import Sip2Client
from kiosk.sip2.codec import format_date
from kiosk.sip2.server import Sip2Server
from kiosk.sip2.settings import Sip2Account, Sip2Settings, sip2_settings
from kiosk.sip2.store_forward import REFUSED, StoreForward
from tests.kiosk.sip2.conftest import ID_NUMBER, LIBRARY_CARD, seed, serve
from tests.kiosk.sip2.test_circulation import library_card, wait_listening

ROOT = Path(__file__).resolve().parents[3]
COPIES = 12
"""The SIGKILL test lends and returns each of these offline: 2 × COPIES journal rows to forward."""


@dataclass
class Room:
    db: Database
    url: str
    secret: bytes
    server: Sip2Server
    journal_path: Path

    def kiosk(self, port: int, *, user: str = "sc1", password: str = "pw", clock: list[datetime] | None = None,
              max_loans: int = 3) -> Sip2Circulation:
        client = Sip2Client("127.0.0.1", port, user=user, password=password, location="kiosk-1", institution="XW01",
                            timeout_s=0.5, retries=1)
        kwargs = {} if clock is None else {"clock": lambda: clock[0]}
        local = Circulation(self.db, branch_code="XW01", kiosk_id="kiosk-1", network_policy=LendingPolicy(),
                            **kwargs)  # type: ignore[arg-type]
        store = StoreForward.open(self.journal_path, "kiosk-1", self.db, max_loans=max_loans, enabled=True)
        return Sip2Circulation(client, local, store=store, probe_interval_s=0.1)

    def patron_id(self, key: str) -> int:
        with self.db.read() as s:
            return int(s.scalars(select(Patron.id).where(Patron.card_key == key)).one())

    def loans(self, barcode: str) -> list[Loan]:
        with self.db.read() as s:
            item = s.scalars(select(Item.id).where(Item.barcode == barcode)).one()
            return list(s.scalars(select(Loan).where(Loan.item_id == item).order_by(Loan.id)))

    def kiosk_exceptions(self) -> list[CirculationException]:
        with self.db.read() as s:
            return list(s.scalars(select(CirculationException).where(CirculationException.kiosk_id == "kiosk-1")))


@pytest.fixture
def room(database: Database, database_url: str, secret: bytes, tmp_path: Path) -> Iterator[Room]:
    seed(database, secret)
    settings = Sip2Settings(accounts=(Sip2Account("sc1", "pw", "XW01", "kiosk-1", offline=True),
                                      Sip2Account("sc3", "pw", "XW01", "kiosk-3")),
                            language="en", idle_timeout_s=5.0)
    server = serve(database, secret, settings)
    try:
        yield Room(database, database_url, secret, server, tmp_path / "sip2-journal.sqlite3")
    finally:
        server.shutdown()
        server.server_close()


def aware(moment: datetime | None) -> datetime | None:
    """Timestamps as UTC-aware values (SQLite hands them back naive)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def wait_online(circulation: Sip2Circulation) -> None:
    deadline = time.monotonic() + 10
    while not circulation.is_online:
        assert time.monotonic() < deadline, "the probe never brought the kiosk back online"
        time.sleep(0.02)


def test_offline_loans_and_returns_are_forwarded_once_with_their_own_dates(room: Room) -> None:
    reader = room.patron_id(card_key(room.secret, "card", LIBRARY_CARD))
    other = room.patron_id(person_key(room.secret, ID_NUMBER))
    # Loans made two days ago at the desk, to be returned in the outage.
    earlier = Circulation(room.db, branch_code="XW01", kiosk_id="desk", network_policy=LendingPolicy(),
                          clock=lambda: datetime.now(UTC) - timedelta(days=2))
    earlier.checkout(reader, "TS0000000")
    earlier.checkout(reader, "TS0000010")
    desk = Circulation(room.db, branch_code="XW01", kiosk_id="desk", network_policy=LendingPolicy())
    t0 = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    clock = [t0]
    with FaultProxy(("127.0.0.1", room.server.port)) as proxy:
        kiosk = room.kiosk(proxy.port, clock=clock)
        changes: list[bool] = []
        kiosk.on_connectivity = changes.append
        me = kiosk.find_card(library_card(room.secret))
        assert me is not None and kiosk.offline_ok  # learnt from SC Status after login
        desk_loan = next(loan for loan in kiosk.standing(me).loans if loan.barcode == "TS0000000")

        proxy.mode = ProxyMode.REFUSE
        proxy.cut()
        with pytest.raises(RenewalRefused) as offline_renew:
            kiosk.renew(me, desk_loan.loan_id)
        assert offline_renew.value.params["reason"] == "library_offline"
        shown = VisitMachine.refusal_message(offline_renew.value)
        assert "not answering" in translate(shown.key, "en", **shown.params)
        assert changes == [False]
        returned = kiosk.checkin("TS0000000")
        assert getattr(returned, "pending", False)
        assert getattr(kiosk.checkin("TS0000010"), "pending", False)
        lent = []
        for n, barcode in enumerate(("TS0000001", "TS0000002", "TS0000003")):
            clock[0] = t0 + timedelta(minutes=n + 1)
            lent.append(kiosk.checkout(me, barcode))
        assert all(getattr(result, "pending", False) for result in lent)
        with pytest.raises(OfflineLimitReached):
            kiosk.checkout(me, "TS0000004")  # [offline] max_loans = 3
        with pytest.raises(AlreadyOnYourCard):
            kiosk.checkout(me, "TS0000001")
        offline = kiosk.standing(me)
        assert [loan.barcode for loan in offline.loans] == ["TS0000001", "TS0000002", "TS0000003"]
        with pytest.raises(RenewalRefused) as lent_offline:
            kiosk.renew(me, offline.loans[0].loan_id)
        assert lent_offline.value.params["reason"] == "offline"
        # The visit machine shows the same "saved on this kiosk" texts as the database offline mode.
        machine = VisitMachine(kiosk, idle_timeout_s=60, idle_warning_s=15)
        machine.card(library_card(room.secret))
        assert machine.scan("TS0000005").last.key == "refusal.offline_limit"  # type: ignore[union-attr]
        assert room.loans("TS0000001") == []  # nothing reached the server
        # Meanwhile the desk lends TS0000003 to someone else: that offline loan will conflict. And it takes
        # TS0000010 back (the server will say "already returned"; the book is in, which is all the kiosk needs).
        desk.checkout(other, "TS0000003")
        desk.checkin("TS0000010")

        proxy.mode = ProxyMode.PASS
        wait_listening(proxy.port)
        wait_online(kiosk)  # nobody scans: the probe forwards the journal, then reports online
        assert changes == [False, True]
        assert kiosk.store is not None and kiosk.store.journal.counts() == {"pending": 0, "applied": 4,
                                                                            "exception": 1}
        back = room.loans("TS0000000")[0]
        assert aware(back.returned_at) == t0 and back.return_kiosk_id == "sip2:XW01"
        for n, barcode in enumerate(("TS0000001", "TS0000002")):
            (loan,) = room.loans(barcode)
            assert loan.patron_id == reader and loan.returned_at is None
            assert aware(loan.out_at) == t0 + timedelta(minutes=n + 1)
            assert aware(loan.due_at) == lent[n].due_at  # the due date the resident was told
        (conflict,) = room.kiosk_exceptions()
        assert conflict.reason == REFUSED and conflict.barcode == "TS0000003"
        assert "someone else" in conflict.detail["screen_message"]  # the server's own AF text
        assert any(e.barcode == "TS0000003" for e in list_exceptions(room.db))  # `kiosk exceptions list`
        assert {loan.barcode for loan in kiosk.standing(me).loans} == {"TS0000001", "TS0000002"}
        assert [aware(loan.returned_at) is not None for loan in room.loans("TS0000010")] == [True]

        # A crash between the server's answer and the journal mark resends rows: nothing happens twice.
        with kiosk.store.journal.transaction() as conn:
            conn.execute("UPDATE journal SET state = 'pending'")
        kiosk.client.close()
        assert kiosk.checkin("TS0000002").title == "测试图书2"  # online again, after the journal
        assert kiosk.store.journal.counts() == {"pending": 0, "applied": 4, "exception": 1}
        assert [len(room.loans(b)) for b in ("TS0000000", "TS0000001", "TS0000002", "TS0000003", "TS0000010")] \
            == [1, 1, 1, 1, 1]
        assert len(room.kiosk_exceptions()) == 1
        kiosk.close()


def test_without_offline_ok_the_kiosk_refuses_and_the_flag_survives_a_restart(room: Room) -> None:
    """offline_ok = N (the account is not allowed offline): refused as before; the flag outlives a restart."""
    with FaultProxy(("127.0.0.1", room.server.port)) as proxy:
        refusing = room.kiosk(proxy.port, user="sc3")  # an account the server does not allow offline
        me = refusing.find_card(library_card(room.secret))
        assert me is not None and not refusing.offline_ok
        proxy.mode = ProxyMode.REFUSE
        proxy.cut()
        with pytest.raises(LibraryUnavailable):
            refusing.checkin("TS0000000")
        with pytest.raises(LibraryUnavailable):
            refusing.checkout(me, "TS0000001")
        with pytest.raises(LibraryUnavailable):
            refusing.find_card(library_card(room.secret))
        assert refusing.store is not None and refusing.store.backlog() == 0
        refusing.close()

        proxy.mode = ProxyMode.PASS
        wait_listening(proxy.port)
        allowed = room.kiosk(proxy.port)
        assert allowed.find_card(library_card(room.secret)) is not None and allowed.offline_ok
        allowed.close()
        # A refused login is no outage (nothing could ever be forwarded): refused, nothing journaled.
        misconfigured = room.kiosk(proxy.port, password="wrong")
        assert misconfigured.offline_ok
        with pytest.raises(LibraryUnavailable):
            misconfigured.checkin("TS0000000")
        assert misconfigured.store is not None and misconfigured.store.backlog() == 0
        misconfigured.close()
        # Restarted while the server is down: the journal's metadata still says it may lend offline.
        proxy.mode = ProxyMode.REFUSE
        proxy.cut()
        restarted = room.kiosk(proxy.port)
        assert restarted.offline_ok
        me = restarted.find_card(library_card(room.secret))
        assert me is not None
        assert getattr(restarted.checkout(me, "TS0000001"), "pending", False)
        assert restarted.store is not None and restarted.store.backlog() == 1
        restarted.close()
        # A loan the database-offline backend journaled before the kiosk switched to SIP2 (same file, no SIP2
        # identifier): a librarian must see it, it is never sent with an empty patron.
        legacy = Journal(room.journal_path, "kiosk-1")
        with legacy.transaction() as conn:
            legacy.insert(conn, uuid="legacy-0001", action="checkout", card_key="k" * 64, barcode="TS0000002",
                          loan_ref="", at=datetime.now(UTC), detail={"due_at": "2030-01-01T00:00:00+00:00"})
        legacy.close()
        # Restarted again with those unconfirmed, the server up and nobody at the kiosk: they are forwarded.
        proxy.mode = ProxyMode.PASS
        wait_listening(proxy.port)
        idle = room.kiosk(proxy.port)
        wait_online(idle)
        assert idle.store is not None and idle.store.backlog() == 0
        assert len(room.loans("TS0000001")) == 1 and room.loans("TS0000002") == []
        (unsent,) = room.kiosk_exceptions()
        assert unsent.uuid == "legacy-0001" and "identifier" in unsent.detail["screen_message"]
        idle.close()
    # The server takes no_block only from an account allowed offline: for sc3 a late checkout is made today.
    old = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)
    with Sip2Client("127.0.0.1", room.server.port, user="sc3", password="pw", institution="XW01") as client:
        assert client.login()
        assert client.sc_status().fixed["offline_ok"] == "N"
        assert client.checkout(LIBRARY_CARD, "TS0000006", at=old, due_at=old).fixed["ok"] == "1"
    with Sip2Client("127.0.0.1", room.server.port, user="sc1", password="pw", institution="XW01") as client:
        assert client.login()
        assert client.sc_status().fixed["offline_ok"] == "Y"
    (loan,) = room.loans("TS0000006")
    assert aware(loan.out_at) is not None and aware(loan.out_at) > old + timedelta(days=2)  # today, the rules


DATES = st.one_of(
    st.text(alphabet="0123456789 Z+-:T", min_size=18, max_size=18),
    st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)).map(format_date),
    st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1)).map(format_date))  # zone-less: the branch's time


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(when=DATES, due=DATES, returned=DATES)
def test_any_store_and_forward_dates_are_answered(room: Room, when: str, due: str, returned: str) -> None:
    """Whatever a client puts in the dates of a no_block request, the server answers it (never a 96 or a dropped
    connection); a date it cannot read makes it an ordinary request, done now."""
    with Sip2Client("127.0.0.1", room.server.port, user="sc1", password="pw", institution="XW01") as client:
        assert client.login()
        lent = client.request("11", {"sc_renewal_policy": "N", "no_block": "Y", "transaction_date": when,
                                     "nb_due_date": due}, [("AO", "XW01"), ("AA", LIBRARY_CARD), ("AB", "TS0000020")])
        back = client.request("09", {"no_block": "Y", "transaction_date": when, "return_date": returned},
                              [("AO", "XW01"), ("AB", "TS0000020")])
    assert lent.code == "12" and back.code == "10"
    with room.db.read() as s:
        assert (s.scalar(select(func.count()).select_from(Loan).where(Loan.returned_at.is_(None))) or 0) <= 1
        assert all(loan.due_at >= loan.out_at for loan in s.scalars(select(Loan)))


def test_settings(tmp_path: Path, sqlite_database: Database) -> None:
    assert sip2_settings({"sip2": {"accounts": [{"user": "a", "password": "b", "institution": "XW01",
                                                 "offline": True}]}}).accounts[0].offline
    with pytest.raises(ConfigError) as bad:
        sip2_settings({"sip2": {"accounts": [{"user": "a", "password": "b", "institution": "XW01",
                                              "offline": "yes"}]}})
    assert bad.value.setting == "sip2.accounts[0].offline"
    base = Settings(None, tmp_path, tmp_path / "secret")
    client = {"host": "127.0.0.1", "port": 9, "user": "sc1", "password": "pw", "institution": "XW01"}
    extra = {"circulation": {"backend": "sip2"}, "sip2": {"client": client}, "offline": {"max_loans": 2}}
    settings = replace(base, kiosk=replace(base.kiosk, branch="XW01"), extra=extra)
    built = build_circulation(settings, sqlite_database)
    assert isinstance(built, Sip2Circulation) and built.store is not None and built.store.max_loans == 2
    assert built.store.journal.path == tmp_path / "journal.sqlite3"  # the [offline] journal, which backups carry
    built.store.remember_offline_ok(True, datetime.now(UTC))
    built.store.store_checkin(barcode="TS0000001", at=datetime.now(UTC))
    built.close()
    doctor = check_sip2_journal(settings)  # `kiosk doctor`, read-only
    assert doctor.ok and doctor.data["pending"] == 1 and doctor.data["offline_ok"] is True
    assert "1 action(s) wait for the library system" in doctor.detail
    assert check_sip2_journal(replace(settings, extra={})).data == {"enabled": False}
    off = build_circulation(replace(settings, extra={**extra, "sip2": {"client": {**client, "offline": False}}}),
                            sqlite_database)
    assert isinstance(off, Sip2Circulation) and off.store is None
    off.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sigkill_during_forwarding_loses_nothing_and_applies_nothing_twice(room: Room) -> None:
    """A forwarding process killed mid-way: the restarted kiosk forwards the rest, each action lands once.

    On SQLite only (a kiosk's own database): the process start alone costs seconds, and the server's side of
    idempotence (the request's UUID in `offline_actions`) is exercised on both databases by the resend above."""
    t0 = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
    clock = [t0]
    with FaultProxy(("127.0.0.1", room.server.port)) as proxy:
        kiosk = room.kiosk(proxy.port, clock=clock, max_loans=100)
        kiosk.probe_interval_s = 60.0  # no probe competing with the offline work below
        me = kiosk.find_card(library_card(room.secret))
        assert me is not None
        proxy.mode = ProxyMode.REFUSE
        proxy.cut()
        rows = 0
        for n in range(COPIES):
            for barcode in (f"TS{n:07d}", f"TS{n:07d}"):
                clock[0] += timedelta(seconds=1)
                if rows % 2 == 0:
                    kiosk.checkout(me, barcode)
                else:
                    kiosk.checkin(barcode)
                rows += 1
        kiosk.close()
    worker = subprocess.Popen([sys.executable, "-m", "tests.kiosk.sip2.forward_worker", room.url,
                               str(room.journal_path), str(room.server.port)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    applied = 0
    while applied < COPIES // 2:
        assert worker.poll() is None, worker.communicate()
        assert time.monotonic() < deadline
        with sqlite3.connect(room.journal_path) as conn:
            applied = int(conn.execute("SELECT COUNT(*) FROM journal WHERE state = 'applied'").fetchone()[0])
        time.sleep(0.005)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)
    with sqlite3.connect(room.journal_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        left = int(conn.execute("SELECT COUNT(*) FROM journal WHERE state = 'pending'").fetchone()[0])
    assert 0 < left < rows, "the kill should land mid-way"
    # The kiosk starts again and forwards the rest.
    kiosk = room.kiosk(room.server.port, max_loans=100)
    assert kiosk.find_card(library_card(room.secret)) is not None
    assert kiosk.store is not None and kiosk.store.journal.counts() == {"pending": 0, "applied": rows,
                                                                        "exception": 0}
    kiosk.close()
    for n in range(COPIES):
        (loan,) = room.loans(f"TS{n:07d}")  # each copy lent once and returned once, at the kiosk's times
        assert aware(loan.out_at) == t0 + timedelta(seconds=2 * n + 1)
        assert aware(loan.returned_at) == t0 + timedelta(seconds=2 * n + 2)
    with room.db.read() as s:
        assert s.scalar(select(func.count()).select_from(OfflineAction)) == rows
    assert room.kiosk_exceptions() == []


def test_in_id_number_mode_an_id_card_identified_online_never_puts_its_number_in_the_journal(room: Room) -> None:
    """The server drops between the card and the scan: the loan is refused, not journaled with the ID number."""
    from tests.kiosk.sip2.test_circulation import id_card

    with FaultProxy(("127.0.0.1", room.server.port)) as proxy:
        client = Sip2Client("127.0.0.1", proxy.port, user="sc1", password="pw", location="kiosk-1",
                            institution="XW01", timeout_s=0.5, retries=1)
        local = Circulation(room.db, branch_code="XW01", kiosk_id="kiosk-1", network_policy=LendingPolicy())
        store = StoreForward.open(room.journal_path, "kiosk-1", room.db, max_loans=3, enabled=True)
        kiosk = Sip2Circulation(client, local, patron_id="id_number", store=store, probe_interval_s=0.1)
        try:
            me = kiosk.find_card(id_card(room.secret))
            assert me is not None and kiosk.offline_ok
            proxy.mode = ProxyMode.REFUSE
            proxy.cut()
            with pytest.raises(LibraryUnavailable):
                kiosk.checkout(me, "TS0000001")
        finally:
            kiosk.close()
    for path in room.journal_path.parent.glob(room.journal_path.name + "*"):
        assert ID_NUMBER.encode() not in path.read_bytes()
