"""SIP2 client for lending against a remote library system (Koha, Evergreen, Interlib…) or our own server.

Error detection is always on: each request carries `AY<seq>`; a reply with a bad checksum is answered with
Request ACS Resend (97) up to `retries` times; a server's 96 makes us resend our last request. A broken or
timed-out connection is reopened and the login replayed before the request is retried once more. Screen
messages (AF) are handed back exactly as the server sent them.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from datetime import UTC, datetime

from kiosk.sip2.codec import ChecksumError, Message, Sip2Error, decode, encode, format_date, make
from kiosk.sip2.server import split_lines

RESPONSE_TO = {"93": "94", "99": "98", "23": "24", "63": "64", "11": "12", "09": "10", "29": "30", "65": "66",
               "17": "18", "35": "36", "01": "24", "15": "16", "37": "38"}


class Sip2ConnectionError(Sip2Error):
    """The server could not be reached or stopped answering within the retries."""


class Sip2Client:
    def __init__(self, host: str, port: int, *, user: str, password: str, location: str = "",
                 institution: str = "", encoding: str = "utf-8", timeout_s: float = 10.0, retries: int = 3,
                 language: str = "019") -> None:
        self.host, self.port = host, port
        self.user, self.password, self.location = user, password, location
        self.institution = institution
        self.encoding = encoding
        self.timeout_s = timeout_s
        self.retries = retries
        self.language = language
        self._sock: socket.socket | None = None
        self._buffer = bytearray()
        self._sequence = 0
        self.logged_in = False

    # ------------------------------------------------------------ connection
    def connect(self) -> None:
        self.close()
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            raise Sip2ConnectionError(f"cannot connect to {self.host}:{self.port}: {exc}") from None
        self._buffer.clear()

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
                self.logged_in = False

    def __enter__(self) -> Sip2Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read_line(self) -> bytes:
        assert self._sock is not None
        while True:
            lines = split_lines(self._buffer)
            if lines:
                # keep any further complete lines for the next read
                rest = b"\r".join(lines[1:])
                self._buffer[:0] = rest + b"\r" if rest else b""
                return lines[0]
            chunk = self._sock.recv(4096)
            if not chunk:
                raise OSError("connection closed by the server")
            self._buffer += chunk

    def _exchange(self, request: Message) -> Message:
        """Send and await the matching reply, with checksum resend (97/96)."""
        assert self._sock is not None
        data = encode(request, encoding=self.encoding)
        self._sock.sendall(data)
        for _ in range(self.retries + 1):
            line = self._read_line()
            if line.startswith(b"96"):
                self._sock.sendall(data)
                continue
            try:
                reply = decode(line, encoding=self.encoding)
            except ChecksumError:
                self._sock.sendall(encode(make("97"), encoding=self.encoding, error_detection=False))
                continue
            expected = RESPONSE_TO.get(request.code)
            if expected is not None and reply.code != expected:
                raise Sip2Error(f"expected {expected}, got {reply.code}", code=reply.code)
            return reply
        raise Sip2ConnectionError(f"no valid reply to {request.code} after {self.retries} resends")

    def request(self, code: str, fixed: dict[str, str], fields: Iterable[tuple[str, str | None]]) -> Message:
        """One request with reconnect: a dropped connection is reopened (and logged in again) once."""
        for attempt in range(2):
            try:
                if self._sock is None:
                    self.connect()
                    if code != "93":
                        self.login()
                self._sequence = (self._sequence + 1) % 10
                return self._exchange(make(code, fixed, fields, sequence=self._sequence))
            except OSError as exc:
                self.close()
                if attempt == 1:
                    raise Sip2ConnectionError(f"{self.host}:{self.port}: {exc}") from None
        raise AssertionError("unreachable")

    def _now(self) -> str:
        return format_date(datetime.now(UTC))

    # ------------------------------------------------------------ messages
    def login(self) -> bool:
        if self._sock is None:
            self.connect()
        self._sequence = (self._sequence + 1) % 10
        reply = self._exchange(make("93", {"uid_algorithm": "0", "pwd_algorithm": "0"},
                                    [("CN", self.user), ("CO", self.password), ("CP", self.location or None)],
                                    sequence=self._sequence))
        self.logged_in = reply.fixed["ok"] == "1"
        return self.logged_in

    def sc_status(self) -> Message:
        return self.request("99", {"status_code": "0", "max_print_width": "080", "protocol_version": "2.00"}, [])

    def patron_status(self, patron: str, password: str | None = None) -> Message:
        return self.request("23", {"language": self.language, "transaction_date": self._now()},
                            [("AO", self.institution), ("AA", patron), ("AC", ""), ("AD", password)])

    def patron_information(self, patron: str, *, charged: bool = True, overdue: bool = False) -> Message:
        summary = (" " + ("Y" if overdue else " ") + ("Y" if charged else " ")).ljust(10)
        return self.request("63", {"language": self.language, "transaction_date": self._now(), "summary": summary},
                            [("AO", self.institution), ("AA", patron), ("AC", "")])

    def checkout(self, patron: str, barcode: str, *, at: datetime | None = None,
                 due_at: datetime | None = None) -> Message:
        """A Checkout (11). With `at` it is a store-and-forward one (SIP2 2.00 "no block"): the loan was already
        made at `at` while the server was unreachable, so `no_block = Y`, the transaction date is then and
        `nb_due_date` the due date the resident was promised."""
        when = self._now() if at is None else format_date(at)
        return self.request("11", {"sc_renewal_policy": "N", "no_block": "N" if at is None else "Y",
                                   "transaction_date": when,
                                   "nb_due_date": " " * 18 if due_at is None else format_date(due_at)},
                            [("AO", self.institution), ("AA", patron), ("AB", barcode), ("AC", "")])

    def checkin(self, barcode: str, *, at: datetime | None = None) -> Message:
        """A Checkin (09); with `at`, one stored while offline: `no_block = Y` and the return date is `at`."""
        when = self._now() if at is None else format_date(at)
        return self.request("09", {"no_block": "N" if at is None else "Y", "transaction_date": when,
                                   "return_date": when},
                            [("AP", self.location), ("AO", self.institution), ("AB", barcode), ("AC", "")])

    def renew(self, patron: str, barcode: str) -> Message:
        return self.request("29", {"third_party_allowed": "N", "no_block": "N", "transaction_date": self._now(),
                                   "nb_due_date": " " * 18},
                            [("AO", self.institution), ("AA", patron), ("AB", barcode)])

    def renew_all(self, patron: str) -> Message:
        return self.request("65", {"transaction_date": self._now()}, [("AO", self.institution), ("AA", patron)])

    def item_information(self, barcode: str) -> Message:
        return self.request("17", {"transaction_date": self._now()}, [("AO", self.institution), ("AB", barcode)])

    def end_session(self, patron: str) -> Message:
        return self.request("35", {"transaction_date": self._now()}, [("AO", self.institution), ("AA", patron)])

    @staticmethod
    def screen_messages(reply: Message) -> list[str]:
        return reply.get_all("AF")
