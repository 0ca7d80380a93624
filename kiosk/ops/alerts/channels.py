"""Where alerts go: an HTTP webhook (JSON POST) and an MQTT topic (QoS 1, so the broker acknowledges).

Each `send` either returns (the far end has it) or raises `DeliveryFailed`; the dispatcher owns retrying. Both open a
fresh connection per alert: alerts are rare, and a long-lived connection would be one more thing to supervise.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from typing import Any, Protocol

import paho.mqtt.client as mqtt


class DeliveryFailed(Exception):
    """The channel did not confirm receipt; the alert stays in the outbox."""


class AlertChannel(Protocol):
    name: str

    def send(self, payload: dict[str, Any]) -> None: ...


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self.timeout_s = timeout_s

    def send(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(
            self.url, data=body, method="POST",
            headers={"Content-Type": "application/json; charset=utf-8",
                     # Retries resend the same alert: the receiver can drop what it has seen.
                     "Idempotency-Key": str(payload.get("id", ""))},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise DeliveryFailed(f"webhook answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise DeliveryFailed(f"webhook unreachable: {getattr(exc, 'reason', exc)}") from None
        if not 200 <= status < 300:
            raise DeliveryFailed(f"webhook answered HTTP {status}")


class MqttChannel:
    """Publishes with QoS 1 and waits for the broker's PUBACK before calling the alert delivered."""

    name = "mqtt"

    def __init__(self, host: str, port: int, topic: str, *, username: str = "", password: str = "",
                 timeout_s: float = 5.0, client_id: str = "") -> None:
        self.host = host
        self.port = port
        self.topic = topic
        self.username = username
        self.password = password
        self.timeout_s = timeout_s
        self.client_id = client_id or f"kiosk-alerts-{uuid.uuid4().hex[:8]}"

    def send(self, payload: dict[str, Any]) -> None:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id)
        if self.username:
            client.username_pw_set(self.username, self.password or None)
        connected = threading.Event()
        refused: list[str] = []

        def on_connect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            if reason.is_failure:
                refused.append(str(reason))
            connected.set()

        client.on_connect = on_connect
        try:
            client.connect(self.host, self.port, keepalive=max(5, int(self.timeout_s * 2)))
        except (OSError, ValueError) as exc:
            raise DeliveryFailed(f"MQTT broker {self.host}:{self.port} unreachable: {exc}") from None
        client.loop_start()
        try:
            if not connected.wait(self.timeout_s):
                raise DeliveryFailed(f"MQTT broker {self.host}:{self.port} did not answer CONNECT")
            if refused:
                raise DeliveryFailed(f"MQTT broker refused the connection: {refused[0]}")
            info = client.publish(self.topic, json.dumps(payload, ensure_ascii=False), qos=1)
            info.wait_for_publish(self.timeout_s)
            if not info.is_published():
                raise DeliveryFailed("MQTT broker did not acknowledge the alert (no PUBACK)")
        except (RuntimeError, ValueError) as exc:
            raise DeliveryFailed(f"MQTT publish failed: {exc}") from None
        finally:
            client.disconnect()
            client.loop_stop()
