"""A device that only talks, one ASCII line at a time: serial barcode scanners and plain card-number readers."""

from __future__ import annotations

import threading
from typing import Any

from devices.simulators.base import Simulator, opt_float


class LineSimulator(Simulator):
    """`send_line(text)` writes text + terminator. Faults: `send_partial(text)` (half a line, no terminator, as when
    the cable is pulled mid-code), `send_garbage()`, `silence()`, `unplug()`/`replug()`."""

    kind = "line"

    def __init__(
        self,
        name: str,
        *,
        link: str | None = None,
        terminator: str = "\r\n",
        prefix: str = "",
        codes: str = "",
        every: object = None,
    ) -> None:
        """`codes=A,B&every=0.5` (URL options): send A, B, A, … every 0.5 s, so that `kiosk devices listen
        --url 'sim:scanner?codes=…&every=…'` shows events without a second terminal."""
        super().__init__(name, link=link)
        self.terminator = terminator.encode("ascii")
        self.prefix = prefix
        self._autoplay = [code for code in codes.split(",") if code]
        self._every = opt_float(every, 1.0)
        if self._autoplay:
            thread = threading.Thread(target=self._play, name=f"sim-{name}-autoplay", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _play(self) -> None:
        index = 0
        while not self._stop.wait(self._every):
            self.send_line(self._autoplay[index % len(self._autoplay)])
            index += 1

    def send_line(self, text: str) -> None:
        self.send((self.prefix + text).encode("ascii") + self.terminator)

    def send_partial(self, text: str) -> None:
        self.send((self.prefix + text).encode("ascii")[: max(1, len(text) // 2)])

    def kind_command(self, verb: str, args: list[str]) -> str | None:
        if verb in {"scan", "present", "line"} and args:
            self.send_line(" ".join(args))
            return "sent"
        if verb == "partial" and args:
            self.send_partial(args[0])
            return "sent half a line"
        return None

    def kind_help(self) -> str:
        return "scan TEXT | partial TEXT"


class ScannerSimulator(LineSimulator):
    kind = "scanner"

    def scan(self, code: str) -> None:
        """A code scanned: the scanner types it as one line."""
        self.send_line(code)


class CardLineSimulator(LineSimulator):
    kind = "card-line"

    def present(self, number: str) -> None:
        """A card held to the reader: its number as one line."""
        self.send_line(number)


def create_scanner(name: str, **options: Any) -> ScannerSimulator:
    return ScannerSimulator(name, **options)


def create_card_line(name: str, **options: Any) -> CardLineSimulator:
    return CardLineSimulator(name, **options)
