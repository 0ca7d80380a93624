"""OpsRuntime end to end: private data dir, instance lock, READY/STOPPING to a stand-in systemd, a disk alert
reaching a real webhook, and the daily backup."""

from __future__ import annotations

import stat
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from catalog.db import Database
from kiosk.config import Settings
from kiosk.ops.alerts.model import AlertKind
from kiosk.ops.instance import KioskAlreadyRunning, kiosk_running
from kiosk.ops.sdnotify import SystemdNotifier
from kiosk.ops.service import OpsRuntime
from tests.kiosk.ops.conftest import WebhookServer
from tests.kiosk.ops.test_sdnotify import NotifySocket


def test_ops_runtime_lifecycle(make_settings: Callable[..., Settings], sqlite_database: Database,
                               webhook: WebhookServer) -> None:
    settings = make_settings(url=str(sqlite_database.engine.url),
                             alerts={"webhook_url": webhook.url},
                             ops={"disk_warn_free_percent": 99.99, "disk_warn_free_mb": 10**9})  # always "low"
    systemd = NotifySocket(abstract=True)
    ops = OpsRuntime(settings, notifier=SystemdNotifier(systemd.env()))
    try:
        ops.start(maintenance=False)
        assert stat.S_IMODE(settings.data_dir.stat().st_mode) == 0o700
        assert kiosk_running(settings)
        with pytest.raises(KioskAlreadyRunning):
            OpsRuntime(settings).start(maintenance=False)
        ops.ready("kiosk up")
        assert systemd.recv() == "READY=1\nSTATUS=kiosk up"

        space, made = ops.run_maintenance(datetime(2026, 1, 1, tzinfo=UTC))
        assert space.low and made is not None and made.is_file()
        (alert,) = webhook.wait_for(1)
        assert alert["kind"] == "disk_nearly_full" and alert["state"] == "raised"
        assert ops.run_maintenance()[1] is None  # one backup per interval
    finally:
        ops.stop()
        systemd.close()
    assert not kiosk_running(settings)
    log_file = settings.data_dir / "logs" / "kiosk.log"
    assert "backup written" in log_file.read_text(encoding="utf-8")
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600


def test_alerts_before_start_are_dropped_not_crashing(make_settings: Callable[..., Settings]) -> None:
    ops = OpsRuntime(make_settings())
    assert ops.alerts.raise_alert(AlertKind.HELP_BUTTON) is False
    assert ops.alerts.resolve(AlertKind.PAPER_OUT) is False


def test_heartbeat_follows_the_kivy_main_loop(make_settings: Callable[..., Settings]) -> None:
    from kivy.clock import Clock

    from kiosk.cli.ops_cmd import beat_from_kivy_clock

    systemd = NotifySocket(abstract=True)
    ops = OpsRuntime(make_settings(), notifier=SystemdNotifier(systemd.env()))
    now = [0.0]
    ops.heartbeat = type(ops.heartbeat)(lambda: now[0])
    ops.watchdog.heartbeat = ops.heartbeat
    events: list[Any] = []
    try:
        events = beat_from_kivy_clock(ops, interval_s=0)
        now[0] = 1000.0  # the loop has not run: the core looks hung
        assert ops.heartbeat.age_s() == 1000.0
        Clock.tick()  # one frame of the UI loop
        Clock.tick()
        assert ops.heartbeat.age_s() == 0.0
        assert systemd.recv() == "READY=1\nSTATUS=serving"
    finally:
        ops.watchdog.stop()
        for event in events:
            event.cancel()
        systemd.close()
