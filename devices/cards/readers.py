"""Serial card-number readers: EM4100 modules and plain line readers. Both emit `CardPresented(LIBRARY_CARD)` with
`key = card_key(secret, "card", number)`, so a card number can never collide with a resident ID number."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import serial

from devices.cards.em4100 import Em4100Decoder
from devices.connection import SerialDevice
from devices.errors import FrameError
from devices.events import CardKind, CardPresented, CardRemoved, DeviceEvent, DeviceFault
from devices.identity import card_key, mask_card_number
from devices.scanner.lines import LineAssembler, terminator_bytes
from devices.transport import bytes_waiting


def normalise_card_number(raw: str) -> str:
    return raw.strip().replace(" ", "").upper()


class _CardNumberReader(SerialDevice):
    def __init__(
        self,
        url: str,
        on_event: Callable[[DeviceEvent], None],
        *,
        name: str,
        secret: bytes,
        kind: CardKind = CardKind.LIBRARY_CARD,
        **options: Any,
    ) -> None:
        super().__init__(url, on_event, name=name, **options)
        if not secret:
            raise ValueError("a card reader needs the network secret to hash card numbers")
        self._secret = secret
        self.kind = kind

    def presented(self, number: str) -> None:
        number = normalise_card_number(number)
        self.emit(
            CardPresented(
                device=self.name,
                kind=self.kind,
                key=card_key(self._secret, "card", number),
                masked_number=mask_card_number(number),
                patron_identifier=number,
            )
        )


class Em4100Reader(_CardNumberReader):
    """The module repeats the frame while the card stays: one `CardPresented` per stay, `CardRemoved` once no frame
    of it arrived for `debounce` seconds (the module's repeat period is ~0.1 s; 0.5 s absorbs a missed frame)."""

    default_baudrate = 9600

    def __init__(
        self,
        url: str,
        on_event: Callable[[DeviceEvent], None],
        *,
        name: str = "em4100",
        secret: bytes,
        debounce: float = 0.5,
        **options: Any,
    ) -> None:
        super().__init__(url, on_event, name=name, secret=secret, **options)
        self.debounce = debounce
        self._decoder = Em4100Decoder()
        self._current: str | None = None
        self._last_seen = 0.0

    def run_connection(self, port: serial.SerialBase) -> None:
        while not self.stopping:
            data = port.read(bytes_waiting(port) or 1)
            if data:
                self.data_received(data)
            self._expire(time.monotonic())

    def data_received(self, data: bytes) -> None:
        self._decoder.feed(data)
        while True:
            try:
                tag = self._decoder.next_tag()
            except FrameError as exc:
                self.emit(DeviceFault(self.name, "bad_frame", str(exc)))
                continue
            if tag is None:
                return
            now = time.monotonic()
            if tag.number != self._current:
                if self._current is not None:
                    self.emit(CardRemoved(self.name))
                self._current = tag.number
                self.presented(tag.number)
            self._last_seen = now

    def _expire(self, now: float) -> None:
        if self._current is not None and now - self._last_seen > self.debounce:
            self._current = None
            self.emit(CardRemoved(self.name))

    def connection_lost(self, exc: BaseException | None) -> None:
        self._decoder.reset()


class LineCardReader(_CardNumberReader):
    """A reader that writes the card number as one text line (serial, or a CDC "keyboard" reader in serial mode).
    The same number again within `repeat_guard` seconds is a double read, not a second presentation."""

    default_baudrate = 9600

    def __init__(
        self,
        url: str,
        on_event: Callable[[DeviceEvent], None],
        *,
        name: str = "card-line",
        secret: bytes,
        terminator: str = "\r\n",
        prefix: str = "",
        suffix: str = "",
        repeat_guard: float = 1.0,
        **options: Any,
    ) -> None:
        super().__init__(url, on_event, name=name, secret=secret, **options)
        self._lines = LineAssembler(terminator_bytes(terminator), max_length=64, strip_prefix=prefix,
                                    strip_suffix=suffix)
        self.repeat_guard = repeat_guard
        self._last: tuple[str, float] | None = None

    def data_received(self, data: bytes) -> None:
        self._lines.feed(data)
        while True:
            try:
                line = self._lines.next_line()
            except FrameError as exc:
                self.emit(DeviceFault(self.name, "bad_line", str(exc)))
                continue
            if line is None:
                return
            number = normalise_card_number(line)
            if not number.isalnum():
                self.emit(DeviceFault(self.name, "bad_number", "card number is not alphanumeric"))
                continue
            now = time.monotonic()
            if self._last is not None and self._last[0] == number and now - self._last[1] < self.repeat_guard:
                continue
            self._last = (number, now)
            self.presented(number)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._lines.reset()
