"""AlertDispatcher against a real local HTTP server: dedupe, reminders, resolved, retry with backoff, durability."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.config import Settings
from kiosk.errors import ConfigError
from kiosk.ops.alerts import AlertDispatcher, AlertKind
from kiosk.ops.alerts.channels import WebhookChannel
from kiosk.ops.alerts.model import AlertRejected
from kiosk.ops.alerts.outbox import AlertOutbox
from kiosk.ops.settings import AlertSettings, alert_settings
from tests.kiosk.ops.conftest import Clock, WebhookServer


def dispatcher_for(url: str, outbox: Path, clock: Clock, **overrides: float) -> AlertDispatcher:
    alerts = AlertSettings(webhook_url=url, **overrides)  # type: ignore[arg-type]
    return AlertDispatcher(AlertOutbox(outbox), [WebhookChannel(url, 2.0)], alerts, kiosk_id="k7", branch="B1",
                           clock=clock, jitter=lambda: 1.0)


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/alerts"


def test_condition_alerts_once_reminds_then_resolves(webhook: WebhookServer, tmp_path: Path, clock: Clock) -> None:
    d = dispatcher_for(webhook.url, tmp_path / "outbox.sqlite3", clock, remind_after_s=600)
    assert d.raise_alert(AlertKind.PAPER_OUT, "printer") is True
    for _ in range(50):  # the printer driver reports paper-out on every poll: no storm
        clock.advance(1)
        assert d.raise_alert(AlertKind.PAPER_OUT, "printer") is False
    assert d.deliver_due().sent == 1
    clock.advance(600)
    assert d.send_reminders() == 1
    assert d.send_reminders() == 0
    assert d.resolve(AlertKind.PAPER_OUT, "printer") is True
    assert d.resolve(AlertKind.PAPER_OUT, "printer") is False
    assert d.deliver_due().sent == 2
    got = webhook.wait_for(3)
    assert [m["state"] for m in got] == ["raised", "reminder", "resolved"]
    first = got[0]
    assert first["kind"] == "paper_out" and first["key"] == "alert.paper_out"
    assert first["kiosk"] == "k7" and first["branch"] == "B1" and first["subject"] == "printer"
    assert "printer" in first["text"]["en"] and "缺纸" in first["text"]["zh_CN"]
    assert webhook.headers[0]["Idempotency-Key"] == first["id"]
    d.outbox.close()


def test_resolving_a_healthy_condition_sends_nothing(webhook: WebhookServer, tmp_path: Path, clock: Clock) -> None:
    d = dispatcher_for(webhook.url, tmp_path / "o.sqlite3", clock)
    assert d.resolve(AlertKind.DEVICE_FAILURE, "scanner") is False
    assert d.deliver_due().sent == 0
    d.outbox.close()


def test_events_are_rate_limited_per_key(webhook: WebhookServer, tmp_path: Path, clock: Clock) -> None:
    d = dispatcher_for(webhook.url, tmp_path / "o.sqlite3", clock, event_min_interval_s=60)
    assert d.raise_alert(AlertKind.HELP_BUTTON, "desk") is True
    clock.advance(10)
    assert d.raise_alert(AlertKind.HELP_BUTTON, "desk") is False  # a visitor pressing five times
    assert d.raise_alert(AlertKind.HELP_BUTTON, "toilet") is True  # another key is another alert
    clock.advance(60)
    assert d.raise_alert(AlertKind.HELP_BUTTON, "desk") is True
    assert d.deliver_due().sent == 3
    assert [m["subject"] for m in webhook.wait_for(3)] == ["desk", "toilet", "desk"]
    d.outbox.close()


def test_failed_delivery_is_retried_with_capped_backoff(webhook: WebhookServer, tmp_path: Path, clock: Clock) -> None:
    d = dispatcher_for(webhook.url, tmp_path / "o.sqlite3", clock, retry_initial_s=5, retry_max_s=40)
    webhook.fail_next = 5
    d.raise_alert(AlertKind.DOOR_HELD_OPEN, "main")
    d.raise_alert(AlertKind.DEVICE_FAILURE, "idcard")
    delays = []
    for _ in range(5):
        start = clock.now
        result = d.deliver_due()
        # One failure per round: the second alert waits behind the first, so order is kept.
        assert (result.sent, result.failed) == (0, 1)
        assert "HTTP 500" in result.errors["webhook"]
        due = d.outbox.next_due_at()
        assert due is not None
        delays.append(due - start)
        clock.advance(due - start - 0.5)
        assert d.deliver_due().sent == 0  # not yet due
        clock.advance(0.5)
    assert delays == [5, 10, 20, 40, 40]
    assert d.deliver_due().sent == 2
    assert [m["kind"] for m in webhook.wait_for(2)] == ["door_held_open", "device_failure"]
    assert d.outbox.pending() == []
    d.outbox.close()


def test_jitter_keeps_delay_between_half_and_full_step(tmp_path: Path, clock: Clock) -> None:
    d = AlertDispatcher(AlertOutbox(tmp_path / "o.sqlite3"), [], AlertSettings(retry_initial_s=4, retry_max_s=100),
                        kiosk_id="k", branch="b", clock=clock, jitter=lambda: 0.0)
    assert [d.retry_delay_s(n) for n in range(7)] == [2, 4, 8, 16, 32, 50, 50]
    d.outbox.close()


def test_outbox_and_dedupe_survive_a_restart(webhook: WebhookServer, tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "o.sqlite3"
    first = dispatcher_for(dead_url(), path, clock)
    first.raise_alert(AlertKind.JOURNAL_BACKLOG, "journal", actions=120)
    result = first.deliver_due()
    assert result.failed == 1 and "unreachable" in result.errors["webhook"]
    first.outbox.close()  # the kiosk is killed and restarted by its watchdog

    second = dispatcher_for(webhook.url, path, clock)
    assert second.raise_alert(AlertKind.JOURNAL_BACKLOG, "journal", actions=130) is False
    clock.advance(3600)
    assert second.deliver_due().sent == 1
    (message,) = webhook.wait_for(1)
    assert message["params"] == {"actions": 120}
    assert "120" in message["text"]["en"]
    second.outbox.close()


def test_background_thread_delivers(webhook: WebhookServer, tmp_path: Path) -> None:
    alerts = AlertSettings(webhook_url=webhook.url)
    d = AlertDispatcher(AlertOutbox(tmp_path / "o.sqlite3"), [WebhookChannel(webhook.url)], alerts,
                        kiosk_id="k", branch="b")
    d.start()
    try:
        d.raise_alert(AlertKind.DOOR_FORCED, "main")
        assert [m["kind"] for m in webhook.wait_for(1)] == ["door_forced"]
    finally:
        d.stop()


@pytest.mark.parametrize("bad", ["110101199003071234", "x" * 201, "id 11010119900307123X here"])
def test_alerts_refuse_personal_looking_data(tmp_path: Path, clock: Clock, bad: str) -> None:
    d = AlertDispatcher(AlertOutbox(tmp_path / "o.sqlite3"), [], AlertSettings(), kiosk_id="k", branch="b",
                        clock=clock)
    with pytest.raises(AlertRejected):
        d.raise_alert(AlertKind.DEVICE_FAILURE, "idcard", detail=bad)
    with pytest.raises(AlertRejected):
        d.raise_alert(AlertKind.DEVICE_FAILURE, bad)
    d.outbox.close()


def test_settings_from_toml_sections(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(alerts={"webhook_url": "https://ops.example/hook", "mqtt_host": "127.0.0.1",
                                     "mqtt_port": 1884, "remind_after_s": 900})
    alerts = alert_settings(settings, env={})
    assert alerts.webhook_url == "https://ops.example/hook" and alerts.mqtt_port == 1884
    assert alerts.remind_after_s == 900.0
    assert alert_settings(settings, env={"KIOSK_ALERTS_MQTT_PORT": "1999"}).mqtt_port == 1999


@pytest.mark.parametrize(("table", "setting"), [
    ({"webhook_url": "ftp://x"}, "alerts.webhook_url"),
    ({"mqtt_port": 0}, "alerts.mqtt_port"),
    ({"mqtt_port": "many"}, "alerts.mqtt_port"),
    ({"mqtt_topic": "a/#"}, "alerts.mqtt_topic"),
    ({"mqtt_topic": "a/{room}"}, "alerts.mqtt_topic"),
    ({"remind_after_s": 0}, "alerts.remind_after_s"),
    ({"retry_initial_s": 10, "retry_max_s": 5}, "alerts.retry_max_s"),
    ({"webhok_url": "http://x"}, "alerts.webhok_url"),
])
def test_bad_alert_settings_name_the_key(make_settings: Callable[..., Settings], table: dict[str, object],
                                         setting: str) -> None:
    with pytest.raises(ConfigError) as info:
        alert_settings(make_settings(alerts=table), env={})
    assert info.value.setting == setting
