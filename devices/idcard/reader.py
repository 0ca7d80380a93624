"""Resident ID-card reader driver (GA 467 SAM over a serial/USB-CDC port).

Cycle: on connect, ask the SAM its status (`60` = self-test failed → health `failed`, retried with backoff); then
every `poll_interval` (0.3 s by default: readers want no faster polling) find → select → read.

One placement, one event. After a read, a GA 467 reader answers "no card" (`80`) while the card still lies on it,
so "no card" alone does not mean the card was lifted, and a new `9F` "found" can only happen after it was lifted and
placed again. Some readers do the opposite and find a lying card again at every poll. The rule that is right for
both families:

- a read of the SAME person as the last read, with no "no card" answer in between, is the same placement
  (a re-finding reader) → no event; seeing this teaches the driver that this reader re-finds lying cards;
- the first read after a reconnect of the same person as before it is the same placement too: a replugged reader
  is power-cycled and finds the lying card afresh (a person lifting and placing the same card during the outage
  cannot be told apart, and a duplicate is worse than a missed re-placement of the card already in session);
- anything else is a new placement → exactly one `CardPresented`.

`CardRemoved` is emitted only when it can be known: on the first "no card" after a read, if the reader re-finds
lying cards (learned as above, or `refinds_lying_card=True`). For the common reader family a lift is invisible,
so the core must not depend on `CardRemoved` (it ends visits by "finish" or idle timeout).

Privacy: the raw number and name exist only inside `_card_read`; the event carries the HMAC key, masked values and
`patron_identifier` (excluded from repr) for a SIP2 backend. Faults carry status codes only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import serial

from devices.connection import SerialDevice
from devices.errors import DeviceError, DeviceFailure, DeviceNotAnswering, FrameError
from devices.events import CardKind, CardPresented, CardRemoved, DeviceEvent, DeviceFault
from devices.idcard.frames import (
    Command,
    FrameDecoder,
    Response,
    Status,
    encode_request,
    parse_response,
    split_read_data,
    status_text,
)
from devices.idcard.record import IdCardText, RecordError, parse_text
from devices.identity import mask_id_number, mask_name, person_key
from devices.transport import bytes_waiting, flush_input

log = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL = 0.3


class NoReply(DeviceError):
    """The reader did not complete a reply before the deadline (silence or a truncated frame)."""


class _Interrupted(DeviceError):
    """`stop()` was called in the middle of a request."""


class IdCardReader(SerialDevice):
    default_baudrate = 115200

    def __init__(
        self,
        url: str,
        on_event: Callable[[DeviceEvent], None],
        *,
        name: str = "idcard",
        secret: bytes,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        response_timeout: float = 1.0,
        max_missed_replies: int = 3,
        refinds_lying_card: bool | None = None,
        today: Callable[[], date] = date.today,
        **options: Any,
    ) -> None:
        super().__init__(url, on_event, name=name, **options)
        if not secret:
            raise ValueError("the ID-card reader needs the network secret to hash ID numbers")
        self._secret = secret
        self.poll_interval = poll_interval
        self.response_timeout = response_timeout
        self.max_missed_replies = max_missed_replies
        self.refinds_lying_card = refinds_lying_card
        self._today = today
        self._decoder = FrameDecoder()
        self._missed = 0
        self._last_key: str | None = None
        self._no_card_since_read = True
        self._fresh_connection = False
        self._removed_sent = True

    # -- connection ----------------------------------------------------------------------------------------------

    def connection_made(self, port: serial.SerialBase) -> None:
        self._decoder.reset()
        self._missed = 0
        try:
            status = self.transact(port, Command.SAM_STATUS)
        except NoReply:
            raise DeviceNotAnswering("no reply to SAM status") from None
        except FrameError as exc:
            raise DeviceNotAnswering(f"bad reply to SAM status: {exc}") from None
        if status.sw3 == Status.SAM_SELF_TEST_FAILED:
            self.emit(DeviceFault(self.name, "sam_failure", status_text(status.sw3)))
            raise DeviceFailure("sam_failure", status_text(status.sw3))
        if status.sw3 != Status.OK:
            raise DeviceFailure("sam_status", status_text(status.sw3))
        self._fresh_connection = True

    def connection_lost(self, exc: BaseException | None) -> None:
        self._decoder.reset()

    def run_connection(self, port: serial.SerialBase) -> None:
        try:
            while not self.stopping:
                self.poll_once(port)
                if self.wait(self.poll_interval):
                    return
        except _Interrupted:
            return

    # -- one poll ------------------------------------------------------------------------------------------------

    def poll_once(self, port: serial.SerialBase) -> None:
        """find → select → read; recoverable problems become `DeviceFault` events, silence ends the connection."""
        try:
            found = self.transact(port, Command.FIND_CARD)
            if found.sw3 == Status.SAM_SELF_TEST_FAILED:
                raise DeviceFailure("sam_failure", status_text(found.sw3))
            if found.sw3 == Status.NO_CARD:
                self._no_card()
                return
            if found.sw3 != Status.CARD_FOUND:
                self._fault("find_failed", found)
                return
            selected = self.transact(port, Command.SELECT_CARD)
            if selected.sw3 != Status.OK:
                self._fault("select_failed", selected)
                return
            read = self.transact(port, Command.READ_TEXT_PHOTO)
            if read.sw3 != Status.OK:
                self._fault("read_failed", read)
                return
            text = parse_text(split_read_data(read.data).text)
        except RecordError as exc:
            self.emit(DeviceFault(self.name, "bad_record", str(exc)))
            return
        except FrameError as exc:
            self.emit(DeviceFault(self.name, "bad_frame", str(exc)))
            return
        except NoReply:
            self._missed += 1
            if self._missed >= self.max_missed_replies:
                raise DeviceNotAnswering(f"no reply to {self._missed} requests in a row") from None
            self.emit(DeviceFault(self.name, "no_reply", "reply missing or truncated"))
            return
        self._card_read(text)

    def transact(self, port: serial.SerialBase, command: Command) -> Response:
        """Send one request and wait for its reply; stale bytes from an earlier late reply are dropped first."""
        self._decoder.reset()
        flush_input(port)
        port.write(encode_request(command))
        deadline = time.monotonic() + self.response_timeout
        while True:
            payload = self._decoder.next_payload()
            if payload is not None:
                self._missed = 0
                if self._decoder.discarded:
                    self.emit(DeviceFault(self.name, "noise", f"{self._decoder.discarded} bytes skipped"))
                    self._decoder.discarded = 0
                return parse_response(payload)
            if self.stopping:
                raise _Interrupted()
            if time.monotonic() >= deadline:
                raise NoReply(f"no complete reply to {command.name}")
            self._decoder.feed(port.read(max(1, bytes_waiting(port))))

    def _fault(self, code: str, response: Response) -> None:
        self.emit(DeviceFault(self.name, code, f"0x{response.sw3:02X} {status_text(response.sw3)}"))

    # -- placement logic (see module docstring) ------------------------------------------------------------------

    def _no_card(self) -> None:
        self._fresh_connection = False
        if self._last_key is None or self._no_card_since_read:
            return
        self._no_card_since_read = True
        if self.refinds_lying_card:
            self.emit(CardRemoved(self.name))

    def _card_read(self, text: IdCardText) -> None:
        key = person_key(self._secret, text.id_number)
        same_person = key == self._last_key
        fresh, self._fresh_connection = self._fresh_connection, False
        if same_person and not self._no_card_since_read and not fresh and self.refinds_lying_card is None:
            self.refinds_lying_card = True
            log.info("reader %s finds a lying card again: lifts will be reported", self.name)
        self._last_key = key
        if same_person and (fresh or not self._no_card_since_read):
            self._no_card_since_read = False
            return
        self._no_card_since_read = False
        self.emit(
            CardPresented(
                device=self.name,
                kind=CardKind.ID_CARD,
                key=key,
                masked_number=mask_id_number(text.id_number),
                display_name=mask_name(text.name),
                valid_until=text.valid_to,
                expired=text.is_expired(self._today()),
                patron_identifier=text.id_number,
            )
        )
