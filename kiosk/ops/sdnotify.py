"""The systemd notify protocol, with the stdlib: one AF_UNIX datagram per message to `$NOTIFY_SOCKET`.

Why not the `sdnotify`/`systemd` packages: the protocol is a few lines (sd_notify(3)), and owning them lets the tests
talk to a real datagram socket. Two quirks from sd_notify(3): a socket path starting with `@` lives in the Linux
abstract namespace (the `@` becomes a NUL byte), and when `$NOTIFY_SOCKET` is unset the process is not supervised, so
every call is a harmless no-op that returns False.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


def socket_address(value: str) -> str | bytes:
    """Turn `$NOTIFY_SOCKET` into what `socket.sendto` needs (abstract names become bytes with a leading NUL)."""
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    return value


class SystemdNotifier:
    """Sends READY/WATCHDOG/STATUS/STOPPING to systemd; silent and harmless when not run by systemd."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.socket_path = env.get("NOTIFY_SOCKET", "")
        watchdog_usec = env.get("WATCHDOG_USEC", "")
        watchdog_pid = env.get("WATCHDOG_PID", "")
        self.watchdog_interval_s: float | None = None
        # sd_watchdog_enabled(3): WATCHDOG_PID, when set, names the one process that must ping.
        if watchdog_usec.isdigit() and int(watchdog_usec) > 0 and watchdog_pid in ("", str(os.getpid())):
            self.watchdog_interval_s = int(watchdog_usec) / 1_000_000

    @property
    def enabled(self) -> bool:
        return bool(self.socket_path)

    def notify(self, message: str) -> bool:
        """Send one state message (newline-separated `KEY=value` lines). Never raises: a lost ping is systemd's
        business (it will restart us), a crash of the kiosk because of one would be ours."""
        if not self.socket_path:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(message.encode(), socket_address(self.socket_path))
        except OSError as exc:
            log.warning("sd_notify to %s failed: %s", self.socket_path, exc)
            return False
        return True

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1" + (f"\nSTATUS={_one_line(status)}" if status else ""))

    def ping(self) -> bool:
        return self.notify("WATCHDOG=1")

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={_one_line(text)}")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")


def _one_line(text: str) -> str:
    return " ".join(text.split())
