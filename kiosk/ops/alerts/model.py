"""What an alert is: a kind (a message key), a subject (which device, which door), plain parameters, a state.

Alerts leave the building (a webhook, a broker), so they carry no personal data: parameters are numbers, booleans
and short texts, and a text that looks like an ID number is refused outright rather than redacted, because an alert
that needed one is a bug to find, not to hide.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from kiosk.errors import KioskError

_ID_LIKE = re.compile(r"\d{17}[\dXx]")
MAX_TEXT = 200


class AlertKind(enum.StrEnum):
    DEVICE_FAILURE = "device_failure"
    PAPER_OUT = "paper_out"
    DOOR_HELD_OPEN = "door_held_open"
    DOOR_FORCED = "door_forced"
    JOURNAL_BACKLOG = "journal_backlog"
    DISK_NEARLY_FULL = "disk_nearly_full"
    HELP_BUTTON = "help_button"
    TEST = "test"

    @property
    def is_event(self) -> bool:
        """Events happen (a press, a forced door) and are rate limited; conditions last and are deduped until
        resolved."""
        return self in (AlertKind.DOOR_FORCED, AlertKind.HELP_BUTTON, AlertKind.TEST)

    @property
    def message_key(self) -> str:
        return f"alert.{self.value}"


class AlertState(enum.StrEnum):
    RAISED = "raised"
    REMINDER = "reminder"
    RESOLVED = "resolved"


class AlertRejected(KioskError):
    """An alert that must not leave the kiosk (personal-looking data, unusable parameters)."""

    key = "alert.rejected"


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    subject: str = "kiosk"
    params: dict[str, Any] = field(default_factory=dict)
    state: AlertState = AlertState.RAISED

    def __post_init__(self) -> None:
        check_params(self.subject, self.params)

    @property
    def key(self) -> str:
        """Dedupe key: one ongoing condition per kind and subject."""
        return f"{self.kind.value}:{self.subject}"


def check_params(subject: str, params: dict[str, Any]) -> None:
    for name, value in [("subject", subject), *params.items()]:
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise AlertRejected(reason=f"{name} must be a number, boolean or text")
        if isinstance(value, str) and (len(value) > MAX_TEXT or _ID_LIKE.search(value)):
            raise AlertRejected(reason=f"{name} looks like personal data or is too long")


class AlertSink(Protocol):
    """What producers (device manager, door, journal, disk check) call; `AlertDispatcher` implements it."""

    def raise_alert(self, kind: AlertKind, subject: str = "kiosk", /, **params: Any) -> bool: ...

    def resolve(self, kind: AlertKind, subject: str = "kiosk", /) -> bool: ...
