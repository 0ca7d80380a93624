"""`kiosk doctor` for a kiosk lending over SIP2: the store-and-forward journal's backlog and the server's permission.

An operator must see at a glance whether loans and returns made during an outage still wait for the library
system, and whether the kiosk would keep lending in the next outage at all (the server's last `offline_ok`).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from kiosk.config import Settings
from kiosk.doctor import Check
from kiosk.lending.backends import sip2_backend
from kiosk.offline.journal import journal_backlog
from kiosk.offline.settings import offline_settings
from kiosk.sip2.settings import sip2_client_settings
from kiosk.sip2.store_forward import journal_path, remembered_offline_ok

NAME = "sip2 offline journal"


def check_sip2_journal(settings: Settings) -> Check:
    if not sip2_backend(settings):
        return Check(NAME, True, "not used (this kiosk lends from its own database)", required=False,
                     data={"enabled": False})
    if not sip2_client_settings(settings.extra).offline:
        return Check(NAME, True, "off ([sip2.client] offline = false)", required=False, data={"enabled": False})
    path = journal_path(settings)
    allowed = remembered_offline_ok(path)
    permission = {True: "the library system allows offline lending",
                  False: "the library system does not allow offline lending (offline_ok = N)",
                  None: "the library system's offline_ok is not known yet"}[allowed]
    try:
        found = journal_backlog(path)
    except sqlite3.DatabaseError as exc:
        return Check(NAME, False, f"{path}: unreadable ({exc}); keep the file for support", data={"enabled": True})
    if found is None:
        return Check(NAME, True, f"{path}: none yet; {permission}", required=False,
                     data={"enabled": True, "pending": 0, "offline_ok": allowed})
    pending, oldest, counts = found
    data = {"enabled": True, "path": str(path), "pending": pending, "offline_ok": allowed,
            "oldest_pending_at": oldest.isoformat() if oldest else None, **{f"rows_{k}": v for k, v in counts.items()}}
    if not pending:
        return Check(NAME, True, f"empty backlog ({counts['applied']} forwarded, {counts['exception']} exceptions); "
                     f"{permission}", required=False, data=data)
    offline = offline_settings(settings)
    age_s = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
    late = pending >= offline.alert_backlog or age_s >= offline.alert_after_s
    hint = " (check the SIP2 link; `kiosk exceptions list` after)" if late else ""
    return Check(NAME, not late, f"{pending} action(s) wait for the library system, oldest {int(age_s // 60)} min "
                 f"ago{hint}; {permission}", required=False, data=data)
