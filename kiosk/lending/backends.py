"""The one place that picks the lending backend a kiosk runs on, from its settings.

Today: this kiosk's database (`Circulation`). Backends that lend elsewhere (a shared database through the offline
journal, a library system over SIP2) plug in here, behind `CirculationPort`, so the visit machine, the screens and
the simulators never learn which one they talk to.
"""

from __future__ import annotations

from catalog.db import Database
from kiosk.config import Settings
from kiosk.lending.policy import network_policy
from kiosk.lending.port import CirculationPort
from kiosk.lending.service import Circulation


def local_circulation(settings: Settings, db: Database) -> Circulation:
    return Circulation(db, branch_code=settings.kiosk.branch, kiosk_id=settings.kiosk.id,
                       network_policy=network_policy(settings.extra))


def build_circulation(settings: Settings, db: Database) -> CirculationPort:
    return local_circulation(settings, db)
