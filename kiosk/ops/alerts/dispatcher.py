"""`AlertDispatcher`: dedupe and rate limit at the door, durable outbox in the middle, a sender thread at the end.

The rules that keep a broken printer from sending 10,000 messages overnight:
- a condition (paper out, device failure, door held open, journal backlog, disk nearly full) is announced once when
  raised, reminded after `remind_after_s` while it lasts, and announced "resolved" once when it clears;
- an event (help button, forced door, test) with the same key goes out at most once per `event_min_interval_s`;
- a failed delivery is retried with capped exponential backoff and jitter (Electrum's `NetworkRetryManager` shape),
  and a channel that fails keeps its later alerts waiting behind it, so they arrive in order.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.config import Settings
from kiosk.i18n import LANGUAGES, translate
from kiosk.ops.alerts.channels import AlertChannel, DeliveryFailed, MqttChannel, WebhookChannel
from kiosk.ops.alerts.model import Alert, AlertKind, AlertState
from kiosk.ops.alerts.outbox import AlertOutbox
from kiosk.ops.settings import AlertSettings, alert_settings

log = logging.getLogger(__name__)

OUTBOX_FILE = "alerts-outbox.sqlite3"


@dataclass(frozen=True)
class DeliveryRound:
    sent: int
    failed: int
    errors: dict[str, str]


def outbox_path(settings: Settings) -> Path:
    return settings.data_dir / OUTBOX_FILE


def channels_from(alerts: AlertSettings, settings: Settings) -> list[AlertChannel]:
    channels: list[AlertChannel] = []
    if alerts.webhook_url:
        channels.append(WebhookChannel(alerts.webhook_url, alerts.webhook_timeout_s))
    if alerts.mqtt_host:
        topic = alerts.mqtt_topic.format(kiosk=settings.kiosk.id, branch=settings.kiosk.branch)
        channels.append(MqttChannel(alerts.mqtt_host, alerts.mqtt_port, topic, username=alerts.mqtt_username,
                                    password=alerts.mqtt_password, timeout_s=alerts.mqtt_timeout_s,
                                    client_id=f"kiosk-{settings.kiosk.id}-alerts"))
    return channels


class AlertDispatcher:
    def __init__(self, outbox: AlertOutbox, channels: Sequence[AlertChannel], alerts: AlertSettings, *,
                 kiosk_id: str, branch: str, clock: Callable[[], float] = time.time,
                 jitter: Callable[[], float] = random.random) -> None:
        self.outbox = outbox
        self.channels = {channel.name: channel for channel in channels}
        self.alerts = alerts
        self.kiosk_id = kiosk_id
        self.branch = branch
        self.clock = clock
        self.jitter = jitter
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        if not self.channels:
            log.warning("no alert channel configured ([alerts] webhook_url / mqtt_host): alerts are only logged")

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertDispatcher:
        alerts = alert_settings(settings)
        return cls(AlertOutbox(outbox_path(settings)), channels_from(alerts, settings), alerts,
                   kiosk_id=settings.kiosk.id, branch=settings.kiosk.branch)

    # -- producers -------------------------------------------------------------------------------------------

    def raise_alert(self, kind: AlertKind, subject: str = "kiosk", /, **params: Any) -> bool:
        """Report that `kind` is happening to `subject`. Returns whether a message was queued (False: deduped)."""
        alert = Alert(AlertKind(kind), subject, dict(params))
        now = self.clock()
        with self.outbox.transaction() as conn:
            if alert.kind.is_event:
                row = conn.execute("SELECT last_sent_at FROM event_sent WHERE key = ?", (alert.key,)).fetchone()
                if row is not None and now - row[0] < self.alerts.event_min_interval_s:
                    return False
                conn.execute("INSERT OR REPLACE INTO event_sent (key, last_sent_at) VALUES (?, ?)", (alert.key, now))
                state = AlertState.RAISED
            else:
                existing = self.outbox.condition(conn, alert.key)
                if existing is not None and now - existing.last_sent_at < self.alerts.remind_after_s:
                    return False
                state = AlertState.RAISED if existing is None else AlertState.REMINDER
                conn.execute(
                    "INSERT INTO condition (key, kind, subject, params, raised_at, last_sent_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET params = excluded.params, "
                    "last_sent_at = excluded.last_sent_at",
                    (alert.key, alert.kind.value, subject, json.dumps(alert.params), now, now),
                )
            self._queue(conn, Alert(alert.kind, subject, alert.params, state), now)
        return True

    def resolve(self, kind: AlertKind, subject: str = "kiosk", /) -> bool:
        """The condition cleared. Sends "resolved" only if it had been raised (a healthy printer says nothing)."""
        kind = AlertKind(kind)
        now = self.clock()
        key = Alert(kind, subject).key
        with self.outbox.transaction() as conn:
            existing = self.outbox.condition(conn, key)
            if existing is None:
                return False
            conn.execute("DELETE FROM condition WHERE key = ?", (key,))
            self._queue(conn, Alert(kind, subject, existing.params, AlertState.RESOLVED), now)
        return True

    def send_reminders(self) -> int:
        """Queue a reminder for every condition still raised after `remind_after_s` (called by the sender loop, so
        a condition nobody re-reports is still reminded)."""
        count = 0
        for condition in self.outbox.conditions():
            if self.clock() - condition.last_sent_at >= self.alerts.remind_after_s:
                count += self.raise_alert(AlertKind(condition.kind), condition.subject, **condition.params)
        return count

    def _queue(self, conn: Any, alert: Alert, now: float) -> None:
        payload = self.payload(alert, now)
        log.warning("alert %s %s: %s", alert.state.value, alert.key, payload["text"]["en"])
        if self.channels:
            self.outbox.enqueue(conn, sorted(self.channels), payload, now)
            self._wake.set()

    def payload(self, alert: Alert, now: float) -> dict[str, Any]:
        """The JSON a librarian's phone or dashboard receives: keys and params for machines, text for people."""
        texts = {}
        for language in LANGUAGES:
            what = translate(alert.kind.message_key, language, subject=alert.subject, **alert.params)
            texts[language] = translate(f"alert.state.{alert.state.value}", language, what=what,
                                        kiosk=self.kiosk_id, branch=self.branch)
        return {
            "id": str(uuid.uuid4()),
            "kiosk": self.kiosk_id,
            "branch": self.branch,
            "kind": alert.kind.value,
            "key": alert.kind.message_key,
            "subject": alert.subject,
            "state": alert.state.value,
            "params": alert.params,
            "at": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
            "text": texts,
        }

    # -- sender ----------------------------------------------------------------------------------------------

    def retry_delay_s(self, attempts: int) -> float:
        """Capped exponential backoff with jitter in [50 %, 100 %] of the step, so kiosks that lost the same
        server do not all come back in the same second."""
        step = min(self.alerts.retry_max_s, self.alerts.retry_initial_s * (2 ** min(attempts, 30)))
        return step * (0.5 + 0.5 * self.jitter())

    def deliver_due(self) -> DeliveryRound:
        """Send every due outbox row once. A failing channel's later rows wait for the next round."""
        sent = failed = 0
        errors: dict[str, str] = {}
        for delivery in self.outbox.due(self.clock()):
            if delivery.channel in errors:
                continue
            channel = self.channels.get(delivery.channel)
            if channel is None:
                errors[delivery.channel] = "channel no longer configured"
                self.outbox.failed(delivery.id, self.clock() + self.alerts.retry_max_s, errors[delivery.channel])
                failed += 1
                continue
            try:
                channel.send(delivery.payload)
            except DeliveryFailed as exc:
                errors[delivery.channel] = str(exc)
                self.outbox.failed(delivery.id, self.clock() + self.retry_delay_s(delivery.attempts), str(exc))
                log.warning("alert delivery via %s failed (attempt %d): %s", delivery.channel,
                            delivery.attempts + 1, exc)
                failed += 1
            else:
                self.outbox.delivered(delivery.id)
                sent += 1
        return DeliveryRound(sent, failed, errors)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="alert-sender", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.send_reminders()
                self.deliver_due()
            except Exception:  # the sender must outlive any one bad row or full disk
                log.exception("alert sender round failed")
            next_due = self.outbox.next_due_at()
            wait = 30.0 if next_due is None else min(30.0, max(0.05, next_due - self.clock()))
            self._wake.wait(wait)
            self._wake.clear()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.outbox.close()
