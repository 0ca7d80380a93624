"""The one place that picks the lending backend a kiosk runs on, from its settings.

Today: this kiosk's database (`Circulation`). Backends that lend elsewhere (a shared database through the offline
journal, a library system over SIP2) plug in here, behind `CirculationPort`, so the visit machine, the screens and
the simulators never learn which one they talk to.
"""

from __future__ import annotations

from catalog.db import Database
from kiosk.config import Settings
from kiosk.errors import ConfigError
from kiosk.lending.policy import network_policy
from kiosk.lending.port import CirculationPort
from kiosk.lending.service import Circulation


def sip2_backend(settings: Settings) -> bool:
    """`[circulation] backend = "sip2"`: lend from a library system ([sip2.client]); "local" (default) lends here."""
    table = settings.extra.get("circulation", {})
    backend = table.get("backend", "local") if isinstance(table, dict) else None
    if backend not in ("local", "sip2"):
        raise ConfigError("circulation.backend", 'must be "local" or "sip2"')
    return backend == "sip2"


def local_circulation(settings: Settings, db: Database) -> Circulation:
    return Circulation(db, branch_code=settings.kiosk.branch, kiosk_id=settings.kiosk.id,
                       network_policy=network_policy(settings.extra))


def build_circulation(settings: Settings, db: Database) -> CirculationPort:
    from kiosk.offline.settings import offline_settings

    if sip2_backend(settings):
        from kiosk.sip2.circulation import Sip2Circulation
        from kiosk.sip2.settings import sip2_client_settings
        from kiosk.sip2.store_forward import StoreForward, journal_path

        client = sip2_client_settings(settings.extra)
        store = None
        if client.offline:
            # Store and forward where the library system allows it, in the kiosk's offline journal.
            store = StoreForward.open(journal_path(settings), settings.kiosk.id, db,
                                      max_loans=offline_settings(settings).max_loans, enabled=True)
        return Sip2Circulation.from_settings(client, local_circulation(settings, db), store=store)

    if offline_settings(settings).enabled:
        # `[offline] enabled` (default on for a shared PostgreSQL): keep lending through the journal in an outage.
        from kiosk.offline.backend import open_offline_circulation

        return open_offline_circulation(settings, db)
    return local_circulation(settings, db)
