"""The child processes of this test process, read from /proc: how the import tests find (and kill) the reading
process of `read_file_ahead` without it telling them its pid."""

from __future__ import annotations

import os


def child_processes() -> set[int]:
    pid = os.getpid()
    found: set[int] = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as handle:
            found.update(int(p) for p in handle.read().split())
    return found


def alive(pid: int) -> bool:
    """Running (a zombie, exited but not yet reaped, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False
