"""A kiosk restarted during an outage comes back up lending from its journal's cache, then drains when it can."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from kiosk.config import load_settings
from kiosk.offline.backend import OfflineCheckinResult, OfflineCirculation
from kiosk.runtime import KioskRuntime
from kiosk.secret import create_secret
from tests.kiosk.offline.conftest import OfflineRoom


def _settings(tmp_path: Path, url: str, journal: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(f'data_dir = "{tmp_path / "data"}"\n[database]\nurl = "{url}"\nconnect_timeout_s = 1\n'
                    f'[kiosk]\nid = "k1"\nbranch = "XW01"\n[offline]\nenabled = true\njournal = "{journal}"\n',
                    encoding="utf-8")
    return path


def test_a_kiosk_started_without_its_database_lends_from_the_cache(offline_room: OfflineRoom, tmp_path: Path,
                                                                   kiosk_env: Path, database_url: str) -> None:
    r = offline_room
    if r.link.proxy is None:
        pytest.skip("starting without the server: PostgreSQL behind the loopback proxy")
    r.circ.checkout(r.room.patron_id, "TS0000000")
    r.circ.close()  # the kiosk process dies; its journal (with the cache) stays
    (tmp_path / "data").mkdir()
    create_secret(tmp_path / "data" / "network.secret")
    settings = load_settings(_settings(tmp_path, r.link.proxy.url_for(database_url), r.journal_path))
    r.link.pull()
    fresh = tmp_path / "no-cache.sqlite3"
    with pytest.raises(OperationalError):  # without a cache there is nothing to lend from: fail as before
        KioskRuntime(load_settings(_settings(tmp_path, r.link.proxy.url_for(database_url), fresh)))
    runtime = KioskRuntime(settings)
    circ = runtime.circulation
    assert isinstance(circ, OfflineCirculation) and not circ.is_online
    runtime.start()
    try:
        assert isinstance(circ.checkin("TS0000000"), OfflineCheckinResult)
        assert runtime.session.wait_idle() and runtime.session.current().offline
        r.link.restore()
        deadline = time.monotonic() + 30
        while (circ.backlog() or not circ.is_online) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert circ.backlog() == 0 and circ.is_online
    finally:
        runtime.stop()
