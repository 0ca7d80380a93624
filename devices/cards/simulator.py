"""`sim:em4100`: a 125 kHz module repeating the frame of the card held to it every `repeat` seconds (0.1 s).

URL options: `tag=0A00BC614E` (a card in the field from the start), `repeat=0.1`, `link=…`.
Faults: `arm_fault("bad_checksum" | "truncated")` corrupts the next frame; plus garbage, silence, unplug/replug.
"""

from __future__ import annotations

import threading
from typing import Any

from devices.cards.em4100 import Em4100Tag, encode_frame
from devices.simulators.base import Simulator, opt_float


def parse_tag(text: str) -> Em4100Tag:
    """`0A00BC614E` (10 hex: version + tag) or a decimal card number like `0012345678`."""
    text = text.strip()
    if len(text) == 10 and not text.isdigit():
        return Em4100Tag(int(text[:2], 16), int(text[2:], 16))
    return Em4100Tag(0, int(text))


class Em4100Simulator(Simulator):
    kind = "em4100"
    fault_names = frozenset({"bad_checksum", "truncated"})

    def __init__(self, name: str, *, link: str | None = None, tag: str = "", repeat: object = None) -> None:
        super().__init__(name, link=link)
        self.repeat = opt_float(repeat, 0.1)
        self._tag: Em4100Tag | None = parse_tag(tag) if tag else None
        self.frames_sent = 0
        thread = threading.Thread(target=self._repeat_loop, name=f"sim-{name}-em4100", daemon=True)
        self._threads.append(thread)
        thread.start()

    def present(self, tag: Em4100Tag | str) -> None:
        with self.lock:
            self._tag = parse_tag(tag) if isinstance(tag, str) else tag

    def remove(self) -> None:
        with self.lock:
            self._tag = None

    def _repeat_loop(self) -> None:
        while not self._stop.wait(self.repeat):
            with self.lock:
                tag = self._tag
                if tag is None or (not self.plugged and self._client is None):
                    continue
                frame = encode_frame(tag)
                if self.take_fault("bad_checksum"):
                    frame = frame[:11] + (b"00" if frame[11:13] != b"00" else b"11") + frame[13:]
                if self.take_fault("truncated"):
                    frame = frame[:7]
            self.send(frame)
            self.frames_sent += 1

    def kind_command(self, verb: str, args: list[str]) -> str | None:
        if verb == "present":
            self.present(args[0] if args else "0012345678")
            return "card in the field"
        if verb == "remove":
            self.remove()
            return "card removed"
        return None

    def kind_help(self) -> str:
        return "present [HEX10|DECIMAL] | remove"


def create(name: str, **options: Any) -> Em4100Simulator:
    return Em4100Simulator(name, **options)
