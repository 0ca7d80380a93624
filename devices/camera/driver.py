"""Camera barcode scanner: capture in one thread, decoding in a worker, one `BarcodeScanned` per code held up.

Two threads because capture and decoding run at different rates: a live camera delivers ~30 frames/s whatever we
do, and a frame waiting for a busy decoder is stale by the time it is decoded. So for a live camera the capture
thread keeps only the newest frame and the worker decodes whatever is newest when it is free. A file source
(`camera:file:/dir`, for simulation and tests) is decoded frame by frame, nothing dropped, so tests are
deterministic.

Debounce: a patron holds a book to the camera for a second or two, so the same code appears in many consecutive
frames. It is reported once, and again only after it has been out of sight for `forget_after` decoded frames
(a single missed decode, from motion blur, must not turn one scan into two).

Health follows the `devices.connection` contract: `connecting` → `connected`; a camera that stops delivering →
`reconnecting` and reopened with capped backoff; a URL that can never work → `failed`; `stop()` → `stopped`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

import numpy as np

from devices.camera.decode import DecodedBarcode, decode_image
from devices.camera.sources import FrameSource, open_source, parse_camera_url
from devices.connection import Backoff
from devices.errors import TransportError
from devices.events import BarcodeScanned, DeviceEvent, DeviceHealth, HealthState

log = logging.getLogger(__name__)

Decoder = Callable[[np.ndarray], list[DecodedBarcode]]


class Debouncer:
    """Pure: which codes of a frame are new. A code is new when it was not seen in the last `forget_after` frames."""

    def __init__(self, forget_after: int = 3) -> None:
        self.forget_after = max(1, forget_after)
        self._last_seen: dict[str, int] = {}
        self._frame = 0

    def new_codes(self, codes: list[str]) -> list[str]:
        self._frame += 1
        fresh = [
            code
            for code in dict.fromkeys(codes)
            if code not in self._last_seen or self._frame - self._last_seen[code] > self.forget_after
        ]
        for code in codes:
            self._last_seen[code] = self._frame
        self._last_seen = {c: f for c, f in self._last_seen.items() if self._frame - f <= self.forget_after}
        return fresh

    def reset(self) -> None:
        self._last_seen.clear()


class CameraScanner:
    """`CameraScanner("camera:0", on_event, name="camera")`. Options: `forget_after` (frames, see module doc),
    `repeat` (file sources: frames per still image), `loop` (file sources: start over at the end),
    `frame_interval` (seconds between frames read from a file source; 0 = as fast as decoding goes)."""

    def __init__(
        self,
        url: str,
        on_event: Callable[[DeviceEvent], None],
        *,
        name: str = "camera",
        forget_after: int = 3,
        repeat: int = 1,
        loop: bool = False,
        frame_interval: float = 0.0,
        backoff: Backoff | None = None,
        decoder: Decoder = decode_image,
    ) -> None:
        parse_camera_url(url)  # a malformed URL fails here, at configuration time
        self.url = url
        self.name = name
        self._on_event = on_event
        self._debounce = Debouncer(forget_after)
        self._repeat = repeat
        self._loop = loop
        self._frame_interval = frame_interval
        self._backoff = backoff or Backoff()
        self._decode = decoder
        self._stop = threading.Event()
        self._frames = threading.Condition()
        self._pending: list[np.ndarray] = []
        self._source_done = False
        self._threads: list[threading.Thread] = []
        self._health_lock = threading.Lock()
        self._health = DeviceHealth(device=name, state=HealthState.STOPPED)
        self._last_event_at: float | None = None
        self.frames_decoded = 0

    @property
    def health(self) -> DeviceHealth:
        with self._health_lock:
            return self._health

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._source_done = False
        self._debounce.reset()
        self._set_health(HealthState.CONNECTING)
        self._threads = [
            threading.Thread(target=self._capture_loop, name=f"camera-{self.name}-capture", daemon=True),
            threading.Thread(target=self._decode_loop, name=f"camera-{self.name}-decode", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 2.0) -> bool:
        self._stop.set()
        with self._frames:
            self._frames.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self._threads):
            log.warning("camera %s did not stop within %.1f s", self.name, timeout)
            return False
        self._threads = []
        self._set_health(HealthState.STOPPED)
        return True

    # -- threads -------------------------------------------------------------------------------------------------

    def _capture_loop(self) -> None:
        attempt = 0
        rng = random.Random()
        while not self._stop.is_set():
            try:
                source = open_source(self.url, repeat=self._repeat, loop=self._loop)
            except TransportError as exc:
                if exc.permanent:
                    self._set_health(HealthState.FAILED, str(exc))
                    self._finish_source()
                    return
                self._set_health(HealthState.RECONNECTING, str(exc))
                self._stop.wait(self._backoff.delay(attempt, rng))
                attempt += 1
                continue
            attempt = 0
            self._set_health(HealthState.CONNECTED)
            try:
                finished = self._pump(source)
            except OSError as exc:
                self._set_health(HealthState.RECONNECTING, str(exc))
                finished = False
            finally:
                source.close()
            if finished:
                self._finish_source()
                return
            self._stop.wait(self._backoff.delay(attempt, rng))
            attempt += 1

    def _pump(self, source: FrameSource) -> bool:
        """Read frames until stopped (False) or a file source ends (True)."""
        while not self._stop.is_set():
            frame = source.read()
            if frame is None:
                return True
            with self._frames:
                if source.live:
                    self._pending = [frame]  # newest only: a stale frame is worth nothing
                else:
                    while len(self._pending) >= 2 and not self._stop.is_set():
                        self._frames.wait(0.1)  # a file source is decoded frame by frame
                    self._pending.append(frame)
                self._frames.notify_all()
            if self._frame_interval:
                self._stop.wait(self._frame_interval)
        return False

    def _finish_source(self) -> None:
        with self._frames:
            self._source_done = True
            self._frames.notify_all()

    def _decode_loop(self) -> None:
        while True:
            with self._frames:
                while not self._pending and not self._stop.is_set() and not self._source_done:
                    self._frames.wait(0.2)
                if self._stop.is_set() or (not self._pending and self._source_done):
                    return
                frame = self._pending.pop(0)
                self._frames.notify_all()
            try:
                found = self._decode(frame)
            except Exception:  # a decoder bug on one odd frame must not end the scanner
                log.exception("camera %s: decoding a frame failed", self.name)
                continue
            self.frames_decoded += 1
            by_code = {d.code: d for d in found}
            for code in self._debounce.new_codes(list(by_code)):
                item = by_code[code]
                self._emit(BarcodeScanned(self.name, item.code, item.symbology.value, item.addon))

    # -- health and events ---------------------------------------------------------------------------------------

    def _emit(self, event: DeviceEvent) -> None:
        if not isinstance(event, DeviceHealth):
            with self._health_lock:
                self._last_event_at = time.monotonic()
                h = self._health
                self._health = DeviceHealth(self.name, h.state, h.reason, self._last_event_at)
        try:
            self._on_event(event)
        except Exception:
            log.exception("event handler failed for camera %s", self.name)

    def _set_health(self, state: HealthState, reason: str = "") -> None:
        with self._health_lock:
            if self._health.state == state and self._health.reason == reason:
                return
            self._health = DeviceHealth(self.name, state, reason, self._last_event_at)
            health = self._health
        self._emit(health)
