"""`sim:idcard`: a GA 467 SAM reader on a pty, speaking the exact frames of the protocol notes.

Card states follow a real reader: a placed card is found (`9F`), selected (`90`), read (`90` + 1295-byte reply),
and then answers "no card" (`80`) while it lies there, until lifted and placed again. `refinds=True` emulates the
other family of readers, which find a lying card again at every poll. Replugging power-cycles the reader: a card
still on it is found afresh.

URL options: `card=N` (place `DEMO_CARDS[N]` at start), `refinds=1`, `sam_failure=1`, `link=/path/to/symlink`.
Faults (`arm_fault`): `bad_checksum`, `truncated`, `garbage_before`, `no_reply`, `read_failed`, `select_failed`;
plus `set_sam_failure()`, `silence()`, `send_garbage()`, `unplug()`/`replug()`.
"""

from __future__ import annotations

import enum
import random
from typing import Any

from devices.errors import FrameError
from devices.idcard.demo_cards import DEMO_CARDS
from devices.idcard.frames import (
    Command,
    FrameDecoder,
    Request,
    Status,
    encode_read_data,
    encode_response,
    parse_request,
)
from devices.idcard.record import SimulatedCard
from devices.simulators.base import Simulator, opt_bool

PHOTO_LENGTH = 1024
SAM_ID = bytes.fromhex("0501000000000000000000000000000a")


class CardState(enum.Enum):
    FRESH = "fresh"
    FOUND = "found"
    SELECTED = "selected"
    READ = "read"


class IdCardSimulator(Simulator):
    kind = "idcard"
    fault_names = frozenset({"bad_checksum", "truncated", "garbage_before", "no_reply", "read_failed", "select_failed"})

    def __init__(
        self,
        name: str,
        *,
        link: str | None = None,
        refinds: object = False,
        sam_failure: object = False,
        card: object = None,
    ) -> None:
        super().__init__(name, link=link)
        self.refinds = opt_bool(refinds)
        self._sam_failed = opt_bool(sam_failure)
        self._decoder = FrameDecoder()
        self._card: SimulatedCard | None = None
        self._state = CardState.FRESH
        self._photo = bytes(random.Random(7).randrange(256) for _ in range(PHOTO_LENGTH))
        self.reads_served = 0
        self.requests_seen = 0
        if card is not None and card != "":
            self.place_card(DEMO_CARDS[int(str(card))])

    # -- scripting -----------------------------------------------------------------------------------------------

    def place_card(self, card: SimulatedCard) -> None:
        with self.lock:
            self._card = card
            self._state = CardState.FRESH

    def lift_card(self) -> None:
        with self.lock:
            self._card = None
            self._state = CardState.FRESH

    def set_sam_failure(self, failed: bool = True) -> None:
        """Make the SAM module fail its self-test (every command then answers `60`)."""
        with self.lock:
            self._sam_failed = failed

    def kind_command(self, verb: str, args: list[str]) -> str | None:
        if verb == "place":
            index = int(args[0]) if args else 0
            self.place_card(DEMO_CARDS[index])
            return f"placed demo card {index} ({DEMO_CARDS[index].authority})"
        if verb == "lift":
            self.lift_card()
            return "lifted"
        if verb == "sam":
            self.set_sam_failure(bool(args) and args[0].lower() in {"fail", "failed", "1", "on"})
            return f"SAM failed: {self._sam_failed}"
        return None

    def kind_help(self) -> str:
        return f"place [0-{len(DEMO_CARDS) - 1}] | lift | sam fail|ok"

    @property
    def card_state(self) -> CardState | None:
        return None if self._card is None else self._state

    # -- protocol ------------------------------------------------------------------------------------------------

    def on_plugged(self) -> None:
        self._decoder.reset()
        self._state = CardState.FRESH

    def received(self, data: bytes) -> None:
        self._decoder.feed(data)
        while True:
            try:
                payload = self._decoder.next_payload()
            except FrameError:
                self._reply(Status.CHECKSUM_ERROR)
                continue
            if payload is None:
                return
            try:
                request = parse_request(payload)
            except FrameError:
                self._reply(Status.LENGTH_ERROR)
                continue
            self.requests_seen += 1
            self._answer(request)

    def _answer(self, request: Request) -> None:
        command = request.command
        if self._sam_failed and command is not Command.RESET_SAM:
            self._reply(Status.SAM_SELF_TEST_FAILED)
            return
        if command in (Command.SAM_STATUS, Command.RESET_SAM, Command.SET_MAX_RF_BYTES):
            self._reply(Status.OK)
        elif command is Command.READ_SAM_ID:
            self._reply(Status.OK, SAM_ID)
        elif command is Command.FIND_CARD:
            self._find()
        elif command is Command.SELECT_CARD:
            self._select()
        elif command in (Command.READ_TEXT_PHOTO, Command.READ_TEXT_PHOTO_FINGERPRINT):
            self._read(with_fingerprint=command is Command.READ_TEXT_PHOTO_FINGERPRINT)
        else:
            self._reply(Status.COMMAND_ERROR)

    def _find(self) -> None:
        findable = self._card is not None and (self._state is not CardState.READ or self.refinds)
        if not findable:
            self._reply(Status.NO_CARD)
            return
        self._state = CardState.FOUND
        self._reply(Status.CARD_FOUND, bytes(4))

    def _select(self) -> None:
        if self._card is None or self._state is not CardState.FOUND or self.take_fault("select_failed"):
            self._reply(Status.SELECT_FAILED)
            return
        self._state = CardState.SELECTED
        self._reply(Status.OK, bytes(8))

    def _read(self, *, with_fingerprint: bool) -> None:
        card = self._card
        if card is None or self._state is not CardState.SELECTED or self.take_fault("read_failed"):
            self._reply(Status.READ_FAILED)
            return
        self._state = CardState.READ
        self.reads_served += 1
        data = encode_read_data(card.encode(), self._photo, b"" if with_fingerprint else None)
        self._reply(Status.OK, data)

    def _reply(self, status: int, data: bytes = b"") -> None:
        frame = encode_response(status, data)
        if self.take_fault("no_reply"):
            return
        if self.take_fault("bad_checksum"):
            frame = frame[:-1] + bytes((frame[-1] ^ 0xFF,))
        if self.take_fault("truncated"):
            frame = frame[: max(len(frame) // 2, 8)]
        if self.take_fault("garbage_before"):
            frame = bytes((0xAA, 0xAA, 0x13, 0x37, 0x96, 0x69, 0xAA)) + frame
        self.send(frame)


def create(name: str, **options: Any) -> IdCardSimulator:
    return IdCardSimulator(name, **options)
