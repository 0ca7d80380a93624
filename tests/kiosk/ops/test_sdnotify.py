"""sd_notify against a real AF_UNIX datagram socket standing in for systemd."""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.ops.sdnotify import SystemdNotifier, socket_address
from kiosk.ops.watchdog import Heartbeat, ServiceWatchdog


class NotifySocket:
    def __init__(self, abstract: bool) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.settimeout(5)
        if abstract:
            self.env_value = f"@kiosk-test-{uuid.uuid4().hex}"
            self.sock.bind(socket_address(self.env_value))
        else:
            # A short path: AF_UNIX paths are limited to 107 bytes, pytest's tmp_path can be longer.
            self._dir = tempfile.mkdtemp(prefix="sdn-")
            self.env_value = str(Path(self._dir, "notify"))
            self.sock.bind(self.env_value)

    def env(self, **extra: str) -> dict[str, str]:
        return {"NOTIFY_SOCKET": self.env_value, **extra}

    def recv(self) -> str:
        return self.sock.recv(4096).decode()

    def pending(self) -> list[str]:
        self.sock.setblocking(False)
        messages = []
        try:
            while True:
                messages.append(self.sock.recv(4096).decode())
        except BlockingIOError:
            pass
        finally:
            self.sock.setblocking(True)
            self.sock.settimeout(5)
        return messages

    def close(self) -> None:
        self.sock.close()
        if not self.env_value.startswith("@"):
            Path(self.env_value).unlink(missing_ok=True)
            os.rmdir(self._dir)


@pytest.fixture(params=["path", "abstract"])
def notify_socket(request: pytest.FixtureRequest) -> Iterator[NotifySocket]:
    ns = NotifySocket(abstract=request.param == "abstract")
    try:
        yield ns
    finally:
        ns.close()


def test_ready_status_ping_stopping_reach_the_socket(notify_socket: NotifySocket) -> None:
    notifier = SystemdNotifier(notify_socket.env())
    assert notifier.ready("serving  two\nlines")
    assert notify_socket.recv() == "READY=1\nSTATUS=serving two lines"
    assert notifier.ping()
    assert notify_socket.recv() == "WATCHDOG=1"
    assert notifier.status("journal 3")
    assert notify_socket.recv() == "STATUS=journal 3"
    assert notifier.stopping()
    assert notify_socket.recv() == "STOPPING=1"


def test_not_under_systemd_is_a_silent_no_op() -> None:
    notifier = SystemdNotifier({})
    assert not notifier.enabled
    assert notifier.ready() is False
    assert notifier.watchdog_interval_s is None


def test_vanished_socket_does_not_raise(tmp_path: Path) -> None:
    notifier = SystemdNotifier({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    assert notifier.ping() is False


def test_watchdog_interval_follows_watchdog_usec_and_pid() -> None:
    assert SystemdNotifier({"WATCHDOG_USEC": "10000000"}).watchdog_interval_s == 10.0
    mine = SystemdNotifier({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid())})
    assert mine.watchdog_interval_s == 4.0
    assert SystemdNotifier({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"}).watchdog_interval_s is None
    assert ServiceWatchdog(mine, Heartbeat()).interval_s == 2.0


class StepClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_hung_core_stops_the_pings_and_recovery_resumes_them(notify_socket: NotifySocket) -> None:
    clock = StepClock()
    heartbeat = Heartbeat(clock)
    watchdog = ServiceWatchdog(SystemdNotifier(notify_socket.env(WATCHDOG_USEC="10000000")), heartbeat)
    assert watchdog.stale_after_s == 5.0

    clock.now += 4
    assert watchdog.tick() is True
    assert notify_socket.recv() == "WATCHDOG=1"

    clock.now += 2  # core silent for 6 s > 5 s: a hung core must not be kept alive
    assert watchdog.tick() is False
    assert watchdog.tick() is False
    sent = notify_socket.pending()
    assert "WATCHDOG=1" not in sent
    assert sent == ["STATUS=core silent for 6 s"]  # said once, not per tick

    heartbeat.beat()
    assert watchdog.tick() is True
    assert notify_socket.recv() == "WATCHDOG=1"
    assert (watchdog.pings, watchdog.withheld) == (2, 2)


def test_thread_sends_ready_then_pings_then_stopping(notify_socket: NotifySocket) -> None:
    heartbeat = Heartbeat()
    watchdog = ServiceWatchdog(SystemdNotifier(notify_socket.env()), heartbeat, interval_s=0.01,
                               stale_after_s=3600)
    watchdog.start("kiosk up")
    assert notify_socket.recv() == "READY=1\nSTATUS=kiosk up"
    assert notify_socket.recv() == "WATCHDOG=1"
    watchdog.stop()
    after = notify_socket.pending()
    assert after[-1] == "STOPPING=1"
    assert set(after[:-1]) <= {"WATCHDOG=1"}
