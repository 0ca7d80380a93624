"""Kiosk processes for the chaos harnesses: start one, wait for its `ready`, kill it without mercy.

Every harness (crash, race, network) runs the real kiosk code in separate processes, because only a separate
process can be SIGKILLed like a power cut while the harness survives to inspect what it left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import suppress


def spawn(module: str, *args: str, stdin: bool = False) -> subprocess.Popen[bytes]:
    """`python -m module args…` with unbuffered output (its `ready` must not sit in a pipe buffer)."""
    return subprocess.Popen([sys.executable, "-m", module, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def wait_ready(child: subprocess.Popen[bytes]) -> str | None:
    """Block until the worker prints `ready`; otherwise kill it and return the tail of what it said on stderr."""
    assert child.stdout is not None and child.stderr is not None
    if child.stdout.readline().strip() == b"ready":
        return None
    sigkill(child, close=False)
    error = child.stderr.read().decode(errors="replace")[-400:]
    sigkill(child)
    return f"worker did not start: {error}"


def sigkill(child: subprocess.Popen[bytes], *, close: bool = True) -> None:
    """SIGKILL: no handler runs, nothing is flushed or cleaned up, as when the power goes."""
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
    child.wait(10)
    if close:
        close_pipes(child)


def close_pipes(child: subprocess.Popen[bytes]) -> None:
    for stream in (child.stdin, child.stdout, child.stderr):
        if stream is not None:
            with suppress(OSError):
                stream.close()
