"""Crash reports that a librarian can send to the maintainer without sending a resident's ID number with them.

Python's default hooks print an uncaught exception's traceback to stderr, which systemd stores in the journal,
unredacted, for weeks; an exception message may quote a frame or a row (a `FrameError` with the record's digits,
a database error with its parameters). These hooks replace both the main-thread and the thread hook: the traceback
goes through the log redactor and then (1) to the log, at CRITICAL, (2) to `data_dir/crash/crash-<UTC>.txt`
(0600, the newest `KEEP` kept) and (3) to stderr, so `journalctl` still says what happened. Hard crashes (a
segfault in a native library) are written by `faulthandler` to `data_dir/crash/faults.log`: it prints only file
names, line numbers and function names, never a value.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from kiosk.ops.logging_setup import redact

log = logging.getLogger(__name__)
KEEP = 20


class CrashReporter:
    def __init__(self, directory: Path, *, stderr: IO[str] | None = None) -> None:
        self.directory = directory
        self.stderr = stderr
        self._previous: tuple[Callable[..., Any], Callable[..., Any]] | None = None
        self._faults: IO[str] | None = None

    def install(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self._main_hook
        threading.excepthook = self._thread_hook
        self._faults = (self.directory / "faults.log").open("a", encoding="utf-8")
        os.chmod(self._faults.name, 0o600)
        faulthandler.enable(self._faults)

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous
            self._previous = None
        if self._faults is not None:
            faulthandler.disable()
            self._faults.close()
            self._faults = None

    def _main_hook(self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        self.report(kind, exc, tb, "main thread")

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        self.report(args.exc_type, args.exc_value, args.exc_traceback,
                    f"thread {args.thread.name if args.thread else '?'}")

    def report(self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None, where: str) -> Path:
        """Write one redacted report; returns its path."""
        now = datetime.now(UTC)
        text = redact(f"uncaught {kind.__name__} in {where} at {now.isoformat()}\n"
                      + "".join(traceback.format_exception(kind, exc, tb)))
        path = self.directory / f"crash-{now:%Y%m%dT%H%M%S%f}Z.txt"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
        for old in sorted(self.directory.glob("crash-*.txt"))[:-KEEP]:
            old.unlink(missing_ok=True)
        log.critical("%s (report: %s)", text.rstrip(), path.name)
        print(text, end="", file=self.stderr or sys.stderr, flush=True)
        return path
