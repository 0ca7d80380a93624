"""Start-up rules: who migrates, who refuses, and a kiosk that starts even when a device is missing."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from catalog import schema
from catalog.model import Branch
from devices.events import HealthState
from kiosk.bootstrap import open_database
from kiosk.config import DatabaseSettings, DeviceSettings, load_settings
from kiosk.runtime import KioskRuntime
from kiosk.secret import load_or_create_secret


def test_standalone_sqlite_kiosk_migrates_itself(kiosk_env: Path) -> None:
    settings = load_settings()
    db = open_database(settings)
    try:
        assert schema.is_current(db.engine)
    finally:
        db.dispose()


def test_kiosk_refuses_an_unmigrated_shared_database(kiosk_env: Path, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the shared-database rule is about PostgreSQL")
    admin_url = make_url(database_url)
    empty = f"kiosk_empty_{int(time.time() * 1000) % 10**9}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{empty}"'))
    try:
        url = admin_url.set(database=empty).render_as_string(hide_password=False)
        settings = replace(load_settings(), database=DatabaseSettings(url=url))
        assert not settings.should_auto_migrate
        with pytest.raises(schema.SchemaOutOfDate, match="kiosk db upgrade"):
            open_database(settings)
        # `kiosk db upgrade` is the way: afterwards the kiosk starts.
        db = open_database(settings, migrate=True)
        db.dispose()
        open_database(settings).dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{empty}" WITH (FORCE)'))
        admin.dispose()


def test_runtime_starts_without_a_missing_device_and_reports_it(kiosk_env: Path, database_url: str) -> None:
    settings = replace(
        load_settings(),
        database=DatabaseSettings(url=database_url),
        devices=DeviceSettings(idcard="/dev/no-such-reader", scanner="sim:scanner?name=boot-scan"),
    )
    load_or_create_secret(settings.secret_file, may_create=True)  # a network member is handed the shared secret
    runtime = KioskRuntime(settings)
    with runtime.db.unit_of_work() as s:
        s.add(Branch(code=settings.kiosk.branch, name="测试书房"))
    runtime.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            health = runtime.devices.health()
            if health.get("idcard") and health["idcard"].state in (HealthState.RECONNECTING, HealthState.FAILED) \
                    and health.get("scanner") and health["scanner"].state is HealthState.CONNECTED:
                break
            time.sleep(0.05)
        health = runtime.devices.health()
        assert health["idcard"].state in (HealthState.RECONNECTING, HealthState.FAILED)
        assert health["scanner"].state is HealthState.CONNECTED
        runtime.session.scan("NO-SUCH-BOOK")
        assert runtime.session.wait_idle()
        assert runtime.session.current().last is not None
    finally:
        runtime.stop()
