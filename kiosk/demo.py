"""The demo kiosk: embedded SQLite, a demo catalog and every device simulated behind its real protocol.

Demo data lives in its own folder (`<data dir>/demo`), so trying the demo on a real kiosk never touches its database.
The simulators are the same ones the tests use: the ID-card reader driver parses GA 467 frames from a pty, the
scanner driver reads lines from another, the receipt printer receives ESC/POS bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from catalog.db import Database
from catalog.demo import load_demo
from catalog.model import Branch, Item, ItemStatus, Loan
from kiosk.bootstrap import network_secret, open_database
from kiosk.config import Settings
from kiosk.demo_map import SUOJIN_PARK, SUOJIN_PLACES, SUOJIN_STREETS, draw_demo_map
from kiosk.offline.backend import OfflineCirculation
from kiosk.offline.cutoff import SqliteCutoff
from kiosk.runtime import KioskRuntime
from kiosk.secret import load_or_create_secret

log = logging.getLogger(__name__)

DEMO_DEVICES = {
    "idcard": "sim:idcard?name=demo-idcard",
    "scanner": "sim:scanner?name=demo-scanner",
    "printer": "sim:printer?name=demo-printer",
    "door_counter": "sim:door-counter?name=demo-door",
}


DEMO_ENTRY = {
    "enabled": True,
    "schedule": "always_card",
    "reader_url": "sim:idcard?name=demo-entry",
    "relay_url": "sim:relay-lcus?name=demo-door-relay",
    "pulse_s": 2.0,
}


def demo_settings(settings: Settings, *, headless: bool, database_url: str | None = None,
                  night: bool = False) -> Settings:
    """The given settings with the demo's database folder, simulated devices and a windowed screen.

    `night`: the room's door needs a card (an entry reader outside and a door relay, both simulated)."""
    data_dir = settings.data_dir / "demo"
    extra = dict(settings.extra)
    if night:
        extra["entry"] = DEMO_ENTRY
    # The demo shows offline lending (the strip can pull its database), on SQLite too.
    extra["offline"] = {"enabled": True, **dict(extra.get("offline", {}))}
    return replace(
        settings,
        data_dir=data_dir,
        secret_file=data_dir / "network.secret",
        database=replace(settings.database, url=database_url or "", auto_migrate=True),
        devices=replace(settings.devices, card_reader="", camera="", door_relay="", idcard=DEMO_DEVICES["idcard"],
                        scanner=DEMO_DEVICES["scanner"], printer=DEMO_DEVICES["printer"],
                        door_counter=DEMO_DEVICES["door_counter"]),
        extra=extra,
        ui=replace(settings.ui, fullscreen=False if headless else settings.ui.fullscreen,
                   width=settings.ui.width if not headless else 1280,
                   height=settings.ui.height if not headless else 800),
    )


def ensure_demo_data(settings: Settings, progress: Callable[[int, int], None] | None = None) -> None:
    """Build the demo branch on first run; later runs find it and change nothing."""
    from kiosk.cli.demo_data_cmd import demo_residents

    # The demo is its own little network, on whatever database it runs: it keeps its own card-hashing secret.
    load_or_create_secret(settings.secret_file, may_create=True)
    db = open_database(settings)
    try:
        with db.read() as s:
            have = s.scalar(select(Branch.id).where(Branch.code == settings.kiosk.branch))
        if have is None:
            residents = demo_residents(network_secret(settings))
            load_demo(db, titles=settings.kiosk.demo_data_titles, branch_code=settings.kiosk.branch,
                      residents=residents, progress=progress)
        ensure_demo_map(db, settings)
    finally:
        db.dispose()


def ensure_demo_map(db: Database, settings: Settings) -> None:
    """Give the demo branch a location map in Chinese and in English (drawn into the data dir) unless a librarian
    set an image of their own in either language; then the demo's map in the other goes too (it shows another
    place), and the About screen shows the librarian's in both languages."""
    paths = {"map_image": settings.data_dir / "demo-map.png", "map_image_en": settings.data_dir / "demo-map-en.png"}
    with db.unit_of_work() as s:
        branch = s.scalars(select(Branch).where(Branch.code == settings.kiosk.branch)).one_or_none()
        if branch is None:
            return
        content = dict(branch.content or {})
        own = {key for key, path in paths.items() if content.get(key) and content.get(key) != str(path)}
        wanted = dict(content)
        if own:
            for key, path in paths.items():
                if content.get(key) == str(path):
                    del wanted[key]
        else:
            for key, language in (("map_image", "zh"), ("map_image_en", "en")):
                path = paths[key]
                if not path.is_file() and not draw_demo_map(path, SUOJIN_STREETS, SUOJIN_PLACES, language,
                                                            SUOJIN_PARK):
                    return  # no CJK font: the About screen leaves the map out rather than show boxes
                wanted[key] = str(path)
        if wanted != content:
            branch.content = wanted


def available_barcodes(runtime: KioskRuntime, limit: int = 20) -> list[str]:
    circulation = runtime.circulation
    if isinstance(circulation, OfflineCirculation) and not circulation.is_online:
        return circulation.cached_barcodes(on_loan=False, limit=limit)
    with runtime.db.read() as s:
        branch_id = runtime.circulation.branch().id
        return list(s.scalars(
            select(Item.barcode).where(Item.status == ItemStatus.AVAILABLE, Item.current_branch_id == branch_id)
            .order_by(Item.id).limit(limit)
        ))


def lent_barcodes(runtime: KioskRuntime, limit: int = 1) -> list[str]:
    """The copies lent most recently: what the strip's "return a book" scans."""
    circulation = runtime.circulation
    if isinstance(circulation, OfflineCirculation) and not circulation.is_online:
        return circulation.cached_barcodes(on_loan=True, limit=limit)
    with runtime.db.read() as s:
        return list(s.scalars(select(Item.barcode).join(Loan, Loan.item_id == Item.id)
                              .where(Loan.returned_at.is_(None)).order_by(Loan.out_at.desc()).limit(limit)))


class DemoDatabaseLink:
    """The strip's "断开数据库 / pull the database": the demo's database becomes unreachable for real.

    On PostgreSQL the kiosk reaches the server through the loopback fault proxy (`kiosk.reliability.netproxy`):
    pulling refuses new connections and resets open ones, as a dead uplink does. On the demo's SQLite file the
    engine itself refuses (`kiosk.offline.cutoff`). Either way the offline backend meets a real driver error,
    switches offline, keeps lending from its journal, and drains the journal when the link is restored.
    """

    def __init__(self, proxy: Any = None) -> None:
        self.proxy = proxy
        self.cutoff: SqliteCutoff | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> tuple[Settings, DemoDatabaseLink]:
        """The settings to start the runtime with (a PostgreSQL URL goes through the proxy) and the link."""
        if settings.is_embedded_database:
            return settings, cls()
        try:
            from kiosk.reliability.netproxy import FaultProxy
        except ImportError:  # pragma: no cover - the proxy ships with the chaos tools
            return settings, cls()
        url = make_url(settings.database_url)
        proxy = FaultProxy((url.host or "127.0.0.1", url.port or 5432))
        return replace(settings, database=replace(settings.database, url=proxy.url_for(settings.database_url))), \
            cls(proxy)

    def attach(self, runtime: KioskRuntime) -> None:
        if self.proxy is None and runtime.db.is_sqlite:
            self.cutoff = SqliteCutoff(runtime.db.engine)

    @property
    def available(self) -> bool:
        return self.proxy is not None or self.cutoff is not None

    def pull(self) -> None:
        log.warning("demo: database pulled")
        if self.proxy is not None:
            from kiosk.reliability.netproxy import ProxyMode

            self.proxy.mode = ProxyMode.REFUSE
            self.proxy.cut()
        elif self.cutoff is not None:
            self.cutoff.pull()

    def restore(self) -> None:
        log.warning("demo: database restored")
        if self.proxy is not None:
            from kiosk.reliability.netproxy import ProxyMode

            self.proxy.mode = ProxyMode.PASS
        elif self.cutoff is not None:
            self.cutoff.restore()

    def close(self) -> None:
        if self.proxy is not None:
            self.proxy.close()


def demo_runtime(settings: Settings) -> KioskRuntime:
    runtime = KioskRuntime(settings)
    runtime.start()
    return runtime


def simulator(name: str) -> Any:
    from devices.simulators.registry import get_simulator

    found = get_simulator(name)
    if found is None:
        raise RuntimeError(f"simulator {name} is not running")
    return found


DEMO_SIP2_ACCOUNT = {"user": "demo-kiosk", "password": "demo-sip2", "location": "demo-kiosk"}


class DemoSip2:
    """`kiosk demo --sip2`: our own SIP2 server on a loopback port over the demo database, standing in for a remote
    library system; the kiosk's settings then lend through `Sip2Circulation` (`patron_id = "card_key"`, so the
    simulated ID card's number never goes on the wire)."""

    def __init__(self, settings: Settings) -> None:
        from kiosk.lending.policy import network_policy
        from kiosk.sip2.local_backend import LocalBackend
        from kiosk.sip2.server import Sip2Server, backends_for
        from kiosk.sip2.settings import Sip2Account, Sip2Settings

        branch = settings.kiosk.branch
        account = Sip2Account(DEMO_SIP2_ACCOUNT["user"], DEMO_SIP2_ACCOUNT["password"], branch,
                              DEMO_SIP2_ACCOUNT["location"])
        sip2 = Sip2Settings(accounts=(account,), encoding="utf-8", language="zh_CN")
        self.db = open_database(settings)
        secret = network_secret(settings)
        policy = network_policy(settings.extra)
        backends = backends_for(sip2, lambda inst: LocalBackend(self.db, secret=secret, branch_code=inst,
                                                                kiosk_id=f"sip2:{inst}", network_policy=policy))
        self.server = Sip2Server(("127.0.0.1", 0), sip2, backends)
        self.server.start_in_thread()
        log.info("demo SIP2 server on 127.0.0.1:%d", self.server.port)

    def kiosk_settings(self, settings: Settings) -> Settings:
        """The kiosk's settings, lending through this server."""
        extra = dict(settings.extra)
        extra["circulation"] = {"backend": "sip2"}
        extra["sip2"] = {**dict(extra.get("sip2", {})), "client": {
            "host": "127.0.0.1", "port": self.server.port, "user": DEMO_SIP2_ACCOUNT["user"],
            "password": DEMO_SIP2_ACCOUNT["password"], "location": DEMO_SIP2_ACCOUNT["location"],
            "institution": settings.kiosk.branch, "patron_id": "card_key", "timeout_s": 5}}
        return replace(settings, extra=extra)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.db.dispose()

