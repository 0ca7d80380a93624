"""MQTT delivery against the local Mosquitto broker (127.0.0.1:1883), observed by a real subscriber."""

from __future__ import annotations

import json
import os
import queue
import socket
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from kiosk.ops.alerts import AlertDispatcher, AlertKind
from kiosk.ops.alerts.channels import DeliveryFailed, MqttChannel
from kiosk.ops.alerts.outbox import AlertOutbox
from kiosk.ops.settings import AlertSettings
from tests.kiosk.ops.conftest import Clock

HOST, PORT = os.environ.get("KIOSK_TEST_MQTT_HOST", "127.0.0.1"), int(os.environ.get("KIOSK_TEST_MQTT_PORT", "1883"))
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def broker_reachable() -> bool:
    try:
        with socket.create_connection((HOST, PORT), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def subscriber() -> Any:
    if not broker_reachable():
        if IN_CI:
            pytest.fail(f"MQTT broker required in CI but unreachable at {HOST}:{PORT}")
        pytest.skip(f"no MQTT broker at {HOST}:{PORT} (set KIOSK_TEST_MQTT_HOST/PORT); required in CI")
    topic = f"test/reading-room/{uuid.uuid4().hex}/alerts"
    messages: queue.Queue[dict[str, Any]] = queue.Queue()
    subscribed: queue.Queue[bool] = queue.Queue()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_message = lambda _c, _u, msg: messages.put(json.loads(msg.payload))
    client.on_subscribe = lambda *_args: subscribed.put(True)
    client.on_connect = lambda c, *_args: c.subscribe(topic, qos=1)
    client.connect(HOST, PORT)
    client.loop_start()
    subscribed.get(timeout=10)
    try:
        yield topic, messages
    finally:
        client.disconnect()
        client.loop_stop()


def test_alert_reaches_an_mqtt_subscriber(subscriber: Any, tmp_path: Path) -> None:
    topic, messages = subscriber
    clock = Clock()
    channel = MqttChannel(HOST, PORT, topic, timeout_s=5)
    d = AlertDispatcher(AlertOutbox(tmp_path / "o.sqlite3"), [channel], AlertSettings(mqtt_host=HOST), kiosk_id="k9",
                        branch="B", clock=clock)
    d.raise_alert(AlertKind.DISK_NEARLY_FULL, "data_dir", free_mb=300, free_percent=2.5)
    d.raise_alert(AlertKind.DISK_NEARLY_FULL, "data_dir", free_mb=290, free_percent=2.4)  # deduped
    d.resolve(AlertKind.DISK_NEARLY_FULL, "data_dir")
    assert d.deliver_due().sent == 2
    first, second = messages.get(timeout=10), messages.get(timeout=10)
    assert (first["state"], second["state"]) == ("raised", "resolved")
    assert first["params"] == {"free_mb": 300, "free_percent": 2.5} and first["kiosk"] == "k9"
    assert messages.empty()
    d.outbox.close()


def test_unreachable_broker_is_a_delivery_failure() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DeliveryFailed, match="unreachable"):
        MqttChannel("127.0.0.1", port, "t", timeout_s=2).send({"id": "x"})
