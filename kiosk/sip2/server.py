"""`kiosk sip2 serve`: a threaded TCP server, one thread per SIP2 client (self-check machines are few and keep
their connection open; blocking database calls then need no event-loop plumbing).

Lines end at CR or LF (CRLF gives an empty line, skipped). A line over `MAX_MESSAGE_BYTES` without a terminator,
an idle client past `idle_timeout_s`, or a client sending only garbage is disconnected; nothing a client sends can
stop the server or change the database except a well-formed, logged-in request.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from collections.abc import Callable, Mapping

from kiosk.sip2.codec import MAX_MESSAGE_BYTES
from kiosk.sip2.local_backend import LocalBackend
from kiosk.sip2.session import Sip2Session
from kiosk.sip2.settings import Sip2Settings

log = logging.getLogger(__name__)


def split_lines(buffer: bytearray) -> list[bytes]:
    """Remove complete lines (ended by CR or LF) from `buffer`; empty lines from CRLF are dropped."""
    lines: list[bytes] = []
    while True:
        ends = [i for i in (buffer.find(b"\r"), buffer.find(b"\n")) if i >= 0]
        if not ends:
            return lines
        end = min(ends)
        line = bytes(buffer[:end])
        del buffer[:end + 1]
        if line:
            lines.append(line)


class _Handler(socketserver.BaseRequestHandler):
    server: Sip2Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(self.server.settings.idle_timeout_s)
        # One small reply per request: send it now rather than let Nagle wait for an ACK the client delays.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        session = self.server.new_session()
        buffer = bytearray()
        try:
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                buffer += chunk
                for line in split_lines(buffer):
                    reply = session.handle(line)
                    if reply is None:
                        return
                    sock.sendall(reply)
                if len(buffer) > MAX_MESSAGE_BYTES:
                    log.info("sip2 client sent an oversize line: closing")
                    sock.sendall(b"96\r")
                    return
        except (TimeoutError, OSError):
            return
        except Exception:
            log.exception("sip2 session failed: closing the connection")
            return


class Sip2Server(socketserver.ThreadingTCPServer):
    """Bind at construction; `serve_forever()` in any thread, `shutdown()` from another."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], settings: Sip2Settings,
                 backends: Mapping[str, LocalBackend]) -> None:
        self.settings = settings
        self.backends = backends
        super().__init__(address, _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def new_session(self) -> Sip2Session:
        return Sip2Session(self.settings, self.backends)

    def start_in_thread(self) -> threading.Thread:
        # A short poll keeps `shutdown()` quick (tests start and stop many servers).
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="sip2-server",
                                  daemon=True)
        thread.start()
        return thread


BackendFactory = Callable[[str], LocalBackend]


def backends_for(settings: Sip2Settings, factory: BackendFactory) -> dict[str, LocalBackend]:
    """One backend per institution named by an account (accounts sharing an institution share it)."""
    return {inst: factory(inst) for inst in sorted({a.institution for a in settings.accounts})}
