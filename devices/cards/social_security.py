"""Social-security cards (社保卡): contact ISO 7816 cards read through PC/SC.

APDU sequence: SELECT the social-security application by name (`00 A4 04 00 0F 7378312E73682EC9E7BBE1B1A3D5CF`,
"sx1.sh.社会保障" in GBK), SELECT EF05 / EF06 (`00 A4 02 00 02 EFxx`), READ RECORD (`00 B2 nn 04 00`) of the card
number (EF05), the social-security number (EF06; equal to the resident ID number) and the name (EF06, GBK). Each
record comes back as a TLV: tag = record number, one length byte, value. Record numbers differ between issuing
provinces, so they are configuration (`SocialSecurityLayout`).

The patron key is `person_key(secret, social_security_number)`: the same key as the holder's resident ID card.

Never VERIFY: a kiosk has no PIN, and a wrong default PIN burns the card's retry counter. `CardSession.transmit`
refuses INS 0x20 outright.

pyscard is an optional extra (it builds against `libpcsclite-dev` and talks to `pcscd`): it is imported lazily and
`pcsc_usable()` reports why not, instead of failing at import.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from devices.errors import DeviceError, FrameError
from devices.events import CardKind, CardPresented, CardRemoved, DeviceEvent, DeviceFault, DeviceHealth, HealthState
from devices.identity import InvalidIdNumber, mask_id_number, mask_name, normalise_id_number, person_key

log = logging.getLogger(__name__)

SOCIAL_SECURITY_AID = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")
INS_VERIFY = 0x20
SW_OK = (0x90, 0x00)


class CardConnection(Protocol):
    """What the reader needs of a card connection: pyscard's `CardConnection.transmit` has this shape."""

    def transmit(self, apdu: list[int]) -> tuple[list[int], int, int]: ...


class CardCommandError(FrameError):
    """The card refused a command (status word other than 90 00), or answered something unparseable."""

    key = "device.social_security.card_error"

    def __init__(self, message: str, sw1: int = 0, sw2: int = 0) -> None:
        super().__init__(f"{message} (SW {sw1:02X}{sw2:02X})" if sw1 else message)
        self.sw1 = sw1
        self.sw2 = sw2


@dataclass(frozen=True)
class RecordRef:
    ef: int
    record: int

    @classmethod
    def parse(cls, text: str) -> RecordRef:
        """`EF06:08` → EF 0xEF06, record 8 (hex, as the specifications write them)."""
        ef, sep, record = text.partition(":")
        if not sep:
            raise ValueError(f"record reference {text!r} is not EFxx:nn")
        return cls(int(ef, 16), int(record, 16))


@dataclass(frozen=True)
class SocialSecurityLayout:
    aid: bytes = SOCIAL_SECURITY_AID
    card_number: RecordRef = RecordRef(0xEF05, 0x07)
    social_security_number: RecordRef = RecordRef(0xEF06, 0x08)
    name: RecordRef = RecordRef(0xEF06, 0x09)


@dataclass(frozen=True)
class SocialSecurityCard:
    card_number: str = field(repr=False)
    social_security_number: str = field(repr=False)
    name: str = field(repr=False)


def select_by_name(aid: bytes) -> list[int]:
    return [0x00, 0xA4, 0x04, 0x00, len(aid), *aid]


def select_ef(ef: int) -> list[int]:
    return [0x00, 0xA4, 0x02, 0x00, 0x02, ef >> 8, ef & 0xFF]


def read_record(record: int) -> list[int]:
    return [0x00, 0xB2, record, 0x04, 0x00]


def parse_record(data: bytes, record: int) -> bytes:
    """Value of a record TLV (`tag len value`); the tag must be the record number."""
    if len(data) < 2:
        raise CardCommandError(f"record {record:02X} shorter than its TLV header")
    if data[0] != record:
        raise CardCommandError(f"record {record:02X} came back with tag {data[0]:02X}")
    length = data[1]
    if len(data) < 2 + length:
        raise CardCommandError(f"record {record:02X} shorter than its length {length}")
    return bytes(data[2 : 2 + length])


def _text(value: bytes, encoding: str, what: str) -> str:
    try:
        return value.rstrip(b"\x00\xff ").decode(encoding).strip()
    except UnicodeDecodeError:
        raise CardCommandError(f"{what} is not {encoding} text") from None


class CardSession:
    """One conversation with one inserted card, ISO 7816-4 T=0 quirks included (61xx → GET RESPONSE,
    6Cxx → repeat with the right Le)."""

    def __init__(self, connection: CardConnection, layout: SocialSecurityLayout | None = None) -> None:
        self.connection = connection
        self.layout = layout or SocialSecurityLayout()
        self._selected_ef: int | None = None

    def transmit(self, apdu: list[int]) -> bytes:
        if len(apdu) >= 2 and apdu[1] == INS_VERIFY:
            raise DeviceError("refusing to send VERIFY: a wrong PIN burns the card's retries")
        data, sw1, sw2 = self.connection.transmit(apdu)
        out = bytes(data)
        for _ in range(8):
            if sw1 == 0x61:  # more data waiting: GET RESPONSE
                more, sw1, sw2 = self.connection.transmit([0x00, 0xC0, 0x00, 0x00, sw2])
                out += bytes(more)
            elif sw1 == 0x6C:  # wrong Le: repeat with the length the card asks for
                data, sw1, sw2 = self.connection.transmit([*apdu[:4], sw2] if len(apdu) <= 5 else apdu)
                out = bytes(data)
            else:
                break
        if (sw1, sw2) != SW_OK:
            raise CardCommandError(f"command {bytes(apdu[:2]).hex().upper()} refused", sw1, sw2)
        return out

    def read_value(self, ref: RecordRef) -> bytes:
        if self._selected_ef != ref.ef:
            self.transmit(select_ef(ref.ef))
            self._selected_ef = ref.ef
        return parse_record(self.transmit(read_record(ref.record)), ref.record)

    def read(self) -> SocialSecurityCard:
        layout = self.layout
        self.transmit(select_by_name(layout.aid))
        self._selected_ef = None
        card_number = _text(self.read_value(layout.card_number), "ascii", "card number")
        ssn = _text(self.read_value(layout.social_security_number), "ascii", "social-security number")
        name = _text(self.read_value(layout.name), "gbk", "name")
        return SocialSecurityCard(card_number=card_number, social_security_number=ssn, name=name)


# -- terminals: where card connections come from ------------------------------------------------------------------


class CardTerminal(Protocol):
    def connect(self) -> CardConnection | None:
        """A connection to the inserted card, or None when no card is inserted."""
        ...

    def disconnect(self) -> None: ...


def pcsc_usable() -> tuple[bool, str]:
    try:
        import smartcard.System  # noqa: F401
    except ImportError:
        return False, "pyscard is not installed (pip install 'reading-room-kiosk[smartcard]'; needs libpcsclite-dev)"
    return True, ""


class PcscTerminal:
    """The first PC/SC reader whose name contains `reader` (any reader when empty)."""

    def __init__(self, reader: str = "") -> None:
        self.reader = reader
        self._connection: Any = None

    def connect(self) -> CardConnection | None:
        from smartcard.Exceptions import CardConnectionException, NoCardException
        from smartcard.System import readers

        found = [r for r in readers() if self.reader.lower() in str(r).lower()]
        if not found:
            raise DeviceError(f"no PC/SC reader matching {self.reader!r}" if self.reader else "no PC/SC reader")
        self.disconnect()
        connection = found[0].createConnection()
        try:
            connection.connect()
        except (NoCardException, CardConnectionException):
            return None
        self._connection = connection
        return connection

    def disconnect(self) -> None:
        if self._connection is not None:
            try:
                self._connection.disconnect()
            except Exception:
                log.debug("PC/SC disconnect failed", exc_info=True)
            self._connection = None


class SocialSecurityReader:
    """Driver (same contract as the serial drivers). URL `pcsc:` (any reader), `pcsc:NAME` (reader name contains
    NAME), or `sim:social-security[?name=N]` (the in-process simulated card terminal)."""

    def __init__(
        self,
        url: str,
        on_event: Callable[[DeviceEvent], None],
        *,
        name: str = "social-security",
        secret: bytes,
        poll_interval: float = 0.5,
        card_number_record: str = "",
        social_security_number_record: str = "",
        name_record: str = "",
        terminal: CardTerminal | None = None,
    ) -> None:
        if not secret:
            raise ValueError("the social-security reader needs the network secret")
        self.url = url
        self.name = name
        self._secret = secret
        self._on_event = on_event
        self.poll_interval = poll_interval
        defaults = SocialSecurityLayout()
        self.layout = SocialSecurityLayout(
            card_number=RecordRef.parse(card_number_record) if card_number_record else defaults.card_number,
            social_security_number=(
                RecordRef.parse(social_security_number_record)
                if social_security_number_record
                else defaults.social_security_number
            ),
            name=RecordRef.parse(name_record) if name_record else defaults.name,
        )
        self._terminal = terminal
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._health = DeviceHealth(name, HealthState.STOPPED)
        self._last_event_at: float | None = None

    @property
    def health(self) -> DeviceHealth:
        return self._health

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._set_health(HealthState.CONNECTING)
        self._thread = threading.Thread(target=self._run, name=f"device-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> bool:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                return False
            self._thread = None
        return True

    def _emit(self, event: DeviceEvent) -> None:
        try:
            self._on_event(event)
        except Exception:
            log.exception("event handler failed for device %s", self.name)

    def _set_health(self, state: HealthState, reason: str = "") -> None:
        if (self._health.state, self._health.reason) == (state, reason):
            return
        self._health = DeviceHealth(self.name, state, reason, self._last_event_at)
        self._emit(self._health)

    def _open_terminal(self) -> CardTerminal:
        if self._terminal is not None:
            return self._terminal
        if self.url.startswith("sim:"):
            from devices.cards.social_security_sim import terminal_for_url

            return terminal_for_url(self.url)
        if not self.url.startswith("pcsc:"):
            raise DeviceError(f"a social-security reader URL is pcsc:[READER] or sim:social-security, not {self.url!r}")
        usable, reason = pcsc_usable()
        if not usable:
            raise DeviceError(reason)
        return PcscTerminal(self.url.partition(":")[2])

    def _run(self) -> None:
        try:
            terminal = self._open_terminal()
        except DeviceError as exc:
            self._set_health(HealthState.FAILED, str(exc))
            return
        present = False
        while not self._stop.is_set():
            try:
                connection = terminal.connect()
            except Exception as exc:  # pcscd gone, reader unplugged: keep trying
                self._set_health(HealthState.RECONNECTING, str(exc) or type(exc).__name__)
                self._stop.wait(max(self.poll_interval, 0.5))
                continue
            self._set_health(HealthState.CONNECTED)
            if connection is None:
                if present:
                    present = False
                    self._emit(CardRemoved(self.name))
            elif not present:
                present = True
                self._read(connection)
            terminal.disconnect()
            self._stop.wait(self.poll_interval)
        terminal.disconnect()
        self._set_health(HealthState.STOPPED)

    def _read(self, connection: CardConnection) -> None:
        try:
            card = CardSession(connection, self.layout).read()
            number = normalise_id_number(card.social_security_number)
        except FrameError as exc:
            self._emit(DeviceFault(self.name, "card_error", str(exc)))
            return
        except InvalidIdNumber:
            self._emit(DeviceFault(self.name, "bad_number", "social-security number fails GB 11643"))
            return
        except Exception as exc:  # the card was pulled mid-read: pyscard raises its own errors
            self._emit(DeviceFault(self.name, "card_error", type(exc).__name__))
            return
        self._emit(
            CardPresented(
                device=self.name,
                kind=CardKind.SOCIAL_SECURITY,
                key=person_key(self._secret, number),
                masked_number=mask_id_number(number),
                display_name=mask_name(card.name),
                patron_identifier=number,
            )
        )
