"""A reading room in a real database, served by a real SIP2 server on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from catalog.db import Database
from catalog.model import Branch, Item, Patron, Title
from devices.identity import card_key, gb11643_check_char, person_key
from kiosk.lending.policy import LendingPolicy
from kiosk.sip2.client import Sip2Client
from kiosk.sip2.local_backend import LocalBackend
from kiosk.sip2.server import Sip2Server, backends_for
from kiosk.sip2.settings import Sip2Account, Sip2Settings

LIBRARY_CARD = "LC00012345"
ID_NUMBER = "32010219800101123" + gb11643_check_char("32010219800101123")
UNKNOWN_CARD = "LC99999999"


@dataclass
class Served:
    db: Database
    server: Sip2Server
    settings: Sip2Settings

    def client(self, user: str = "sc1", password: str = "pw1", **kwargs: object) -> Sip2Client:
        return Sip2Client("127.0.0.1", self.server.port, user=user, password=password, location="gate-1",
                          institution="XW01", timeout_s=5.0, **kwargs)  # type: ignore[arg-type]


def seed(db: Database, secret: bytes) -> None:
    with db.unit_of_work() as s:
        home = Branch(code="XW01", name="锁金村书房", timezone="Asia/Shanghai")
        other = Branch(code="XW02", name="玄武门书房", timezone="Asia/Shanghai")
        s.add_all([home, other])
        s.flush()
        for n in range(25):
            title = Title(title=f"测试图书{n}", authors="作者")
            s.add(title)
            s.flush()
            s.add(Item(barcode=f"TS{n:07d}", title_id=title.id, home_branch_id=home.id, current_branch_id=home.id,
                       shelf_location="A区"))
        s.add(Item(barcode="OTHER01", title_id=title.id, home_branch_id=other.id, current_branch_id=other.id))
        s.add(Patron(card_kind="library_card", card_key=card_key(secret, "card", LIBRARY_CARD),
                     masked_card="******2345", display_name="张三丰", max_loans=30))
        s.add(Patron(card_kind="id_card", card_key=person_key(secret, ID_NUMBER), masked_card="3201**********1234",
                     display_name="李四"))


def make_settings(encoding: str = "utf-8") -> Sip2Settings:
    return Sip2Settings(accounts=(Sip2Account("sc1", "pw1", "XW01", "gate-1"), Sip2Account("sc2", "pw2", "XW02")),
                        encoding=encoding, language="en", idle_timeout_s=5.0)


def serve(db: Database, secret: bytes, settings: Sip2Settings) -> Sip2Server:
    backends = backends_for(settings, lambda inst: LocalBackend(
        db, secret=secret, branch_code=inst, kiosk_id=f"sip2:{inst}", network_policy=LendingPolicy()))
    server = Sip2Server(("127.0.0.1", 0), settings, backends)
    server.start_in_thread()
    return server


@pytest.fixture
def served(database: Database, secret: bytes) -> Iterator[Served]:
    seed(database, secret)
    settings = make_settings()
    server = serve(database, secret, settings)
    try:
        yield Served(database, server, settings)
    finally:
        server.shutdown()
        server.server_close()
