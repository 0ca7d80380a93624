"""Blocking work off the Kivy main thread, answers back on it.

One worker thread serialises catalog queries (a kiosk has one visitor at a time; ordering matters more than
parallelism). Each request carries a channel name; a newer request on the same channel makes older answers stale,
so fast typing on the search keyboard only ever shows the result of the latest query.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from kivy.clock import Clock

log = logging.getLogger(__name__)


class UiWorker:
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ui-worker")
        self._generation: dict[str, int] = {}
        self._lock = threading.Lock()
        self.submitted = 0
        """Jobs submitted so far: a screenshot is taken once drawing an answer asks for no more work."""

    def submit(
        self,
        channel: str,
        fn: Callable[[], Any],
        on_result: Callable[[Any], None],
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        with self._lock:
            generation = self._generation.get(channel, 0) + 1
            self._generation[channel] = generation
            self.submitted += 1

        def done(future: Future[Any]) -> None:
            with self._lock:
                if self._generation.get(channel) != generation:
                    return
            exc = future.exception()
            if exc is not None:
                log.error("ui worker %s failed: %s", channel, exc, exc_info=exc)
                if on_error is not None:
                    Clock.schedule_once(lambda _dt: on_error(exc), 0)
                return
            result = future.result()
            Clock.schedule_once(lambda _dt: on_result(result), 0)

        self._pool.submit(fn).add_done_callback(done)

    def cancel(self, channel: str) -> None:
        """Forget pending answers of `channel` (e.g. the visitor left the screen)."""
        with self._lock:
            self._generation[channel] = self._generation.get(channel, 0) + 1

    def idle(self, timeout: float = 5.0) -> bool:
        """Wait until queued work is done (tests and screenshots only)."""
        marker = self._pool.submit(lambda: None)
        try:
            marker.result(timeout=timeout)
        except Exception:
            return False
        return True

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
