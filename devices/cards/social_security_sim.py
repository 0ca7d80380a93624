"""A simulated social-security card and terminal that answer APDUs byte for byte, as a real card would
(SELECT by name, SELECT EF, READ RECORD as TLV, 61xx chaining when asked, 6A82/6A83 for missing files/records).

`sim:social-security?name=N` gives the driver the terminal `N`; tests script it with `insert(card)` / `remove()`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from devices.cards.social_security import SOCIAL_SECURITY_AID, CardConnection, SocialSecurityLayout
from devices.transport import parse_sim_url

SW_FILE_NOT_FOUND = (0x6A, 0x82)
SW_RECORD_NOT_FOUND = (0x6A, 0x83)
SW_INS_NOT_SUPPORTED = (0x6D, 0x00)
SW_CONDITIONS = (0x69, 0x85)


@dataclass
class SimulatedSocialSecurityCard:
    """Records by (EF, record number) → value; built from the holder's fields with a layout."""

    records: dict[tuple[int, int], bytes] = field(default_factory=dict)
    aid: bytes = SOCIAL_SECURITY_AID
    chain_responses: bool = False
    """Answer READ RECORD with 61xx so the reader must fetch the data with GET RESPONSE (T=0 cards do)."""
    commands: list[bytes] = field(default_factory=list)

    @classmethod
    def holder(
        cls,
        *,
        card_number: str,
        social_security_number: str,
        name: str,
        layout: SocialSecurityLayout | None = None,
        chain_responses: bool = False,
    ) -> SimulatedSocialSecurityCard:
        layout = layout or SocialSecurityLayout()
        records = {
            (layout.card_number.ef, layout.card_number.record): card_number.encode("ascii"),
            (layout.social_security_number.ef, layout.social_security_number.record): social_security_number.encode(
                "ascii"
            ),
            (layout.name.ef, layout.name.record): name.encode("gbk").ljust(30, b"\x00"),
        }
        return cls(records=records, aid=layout.aid, chain_responses=chain_responses)

    def connection(self) -> SimulatedConnection:
        return SimulatedConnection(self)


class SimulatedConnection:
    def __init__(self, card: SimulatedSocialSecurityCard) -> None:
        self.card = card
        self._app_selected = False
        self._ef: int | None = None
        self._pending = b""

    def transmit(self, apdu: list[int]) -> tuple[list[int], int, int]:
        command = bytes(apdu)
        self.card.commands.append(command)
        if len(command) < 4:
            return [], 0x67, 0x00
        _cla, ins, p1, p2 = command[:4]
        if ins == 0xA4 and p1 == 0x04:
            aid = command[5 : 5 + command[4]] if len(command) > 4 else b""
            self._app_selected = aid == self.card.aid
            self._ef = None
            return ([], 0x90, 0x00) if self._app_selected else ([], *SW_FILE_NOT_FOUND)
        if ins == 0xA4 and p1 == 0x02:
            ef = int.from_bytes(command[5:7], "big") if len(command) >= 7 else -1
            if not self._app_selected or not any(key[0] == ef for key in self.card.records):
                return [], *SW_FILE_NOT_FOUND
            self._ef = ef
            return [], 0x90, 0x00
        if ins == 0xB2:
            if self._ef is None:
                return [], *SW_CONDITIONS
            value = self.card.records.get((self._ef, p1))
            if value is None:
                return [], *SW_RECORD_NOT_FOUND
            tlv = bytes((p1, len(value))) + value
            if self.card.chain_responses:
                self._pending = tlv
                return [], 0x61, len(tlv)
            return list(tlv), 0x90, 0x00
        if ins == 0xC0 and self._pending:
            data, self._pending = self._pending[:p2 or 256], b""
            return list(data), 0x90, 0x00
        return [], *SW_INS_NOT_SUPPORTED


class SimulatedTerminal:
    """A PC/SC slot: `insert(card)`, `remove()`; the driver polls `connect()`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._card: SimulatedSocialSecurityCard | None = None
        self._lock = threading.Lock()
        self.connects = 0

    def insert(self, card: SimulatedSocialSecurityCard) -> None:
        with self._lock:
            self._card = card

    def remove(self) -> None:
        with self._lock:
            self._card = None

    def connect(self) -> CardConnection | None:
        with self._lock:
            self.connects += 1
            return None if self._card is None else self._card.connection()

    def disconnect(self) -> None:
        pass


_terminals: dict[str, SimulatedTerminal] = {}
_lock = threading.Lock()


def terminal_for_url(url: str) -> SimulatedTerminal:
    parsed = parse_sim_url(url)
    return simulated_terminal(parsed.name)


def simulated_terminal(name: str = "social-security") -> SimulatedTerminal:
    with _lock:
        terminal = _terminals.get(name)
        if terminal is None:
            terminal = _terminals[name] = SimulatedTerminal(name)
        return terminal


def forget_terminals() -> None:
    with _lock:
        _terminals.clear()
