"""Alerts at night: typed conditions and events that reach the librarian on duty by webhook and/or MQTT."""

from kiosk.ops.alerts.dispatcher import AlertDispatcher
from kiosk.ops.alerts.model import Alert, AlertKind, AlertSink, AlertState

__all__ = ["Alert", "AlertDispatcher", "AlertKind", "AlertSink", "AlertState"]
