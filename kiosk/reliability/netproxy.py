"""A TCP proxy on loopback that stands between kiosks and PostgreSQL and fails the way networks fail.

Mocking a driver shows what we *think* a broken network does; a proxy in the byte stream shows what psycopg, the
connection pool and our journal actually do when the link to the central database goes bad. The modes are the
failures a branch's uplink really has:

- `PASS`: bytes flow both ways unchanged (a property test holds the proxy to that);
- `REFUSE`: the listening socket is closed, so a new connection gets ECONNREFUSED at once, exactly as when the
  database host is up but PostgreSQL is not; connections already open keep working;
- `DELAY`: every chunk waits `delay_s` before it is forwarded (a congested or satellite uplink); a delay above the
  client's statement timeout turns into timeouts, below it into slowness;
- `BLACKHOLE`: connections are accepted but nothing moves in either direction, on open connections too, until the
  mode changes (a cable pulled or a router gone mad): the bytes wait in the kernel's buffers, so when the link
  heals TCP carries on as it would after a real partition, and clients that gave up meanwhile see their timeouts;

and one action, `cut()`: every open connection is reset mid-stream (RST, via SO_LINGER 0), as when the uplink
drops and comes back with a new address. The mode is switched at runtime from any thread (`proxy.mode = …`), so a
harness can script a schedule while the kiosks keep working.

Threads, not asyncio: each connection has two pump threads doing blocking `recv`/`sendall`, which keeps the
forwarding path obviously correct, and a kiosk network opens tens of connections, not thousands.
"""

from __future__ import annotations

import contextlib
import enum
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass
from types import TracebackType

CHUNK = 65536
POLL_S = 0.05


class ProxyMode(enum.StrEnum):
    PASS = "pass"
    REFUSE = "refuse"
    DELAY = "delay"
    BLACKHOLE = "blackhole"


@dataclass
class ProxyStats:
    """What went through, so a harness can prove its faults were really exercised."""

    accepted: int = 0
    upstream_failures: int = 0
    connections_cut: int = 0
    bytes_up: int = 0
    bytes_down: int = 0


def _reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN: the peer sees 'connection reset', not a polite end of stream."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class _Link:
    """One client connection and its upstream twin."""

    def __init__(self, proxy: FaultProxy, client: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream: socket.socket | None = None
        self.closed = threading.Event()
        self._lock = threading.Lock()
        self._released = False

    def start(self) -> None:
        threading.Thread(target=self._run, name="proxy-link", daemon=True).start()

    def _run(self) -> None:
        proxy = self.proxy
        if not proxy.wait_while_blackholed(self.closed):
            self.close(reset=True)
            return
        try:
            self.upstream = socket.create_connection(proxy.upstream, timeout=proxy.connect_timeout_s)
            self.upstream.settimeout(None)
            self.upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            with proxy.lock:
                proxy.stats.upstream_failures += 1
            self.close(reset=True)
            return
        if self.closed.is_set():  # cut while we were connecting: close() could not see this socket yet
            _reset(self.upstream)
            return
        threading.Thread(target=self._pump, args=(self.client, self.upstream, "bytes_up"),
                         name="proxy-up", daemon=True).start()
        self._pump(self.upstream, self.client, "bytes_down")

    def _pump(self, source: socket.socket, sink: socket.socket, counter: str) -> None:
        proxy = self.proxy
        try:
            while not self.closed.is_set():
                if not proxy.wait_while_blackholed(self.closed):
                    break
                ready, _, _ = select.select([source], [], [], POLL_S)
                if not ready:
                    continue
                if proxy.mode is ProxyMode.BLACKHOLE:  # switched while we waited: leave the bytes in the kernel
                    continue
                data = source.recv(CHUNK)
                if not data:
                    break
                delay = proxy.delay_s if proxy.mode is ProxyMode.DELAY else 0.0
                if delay:
                    time.sleep(delay)
                sink.sendall(data)
                with proxy.lock:
                    setattr(proxy.stats, counter, getattr(proxy.stats, counter) + len(data))
        except OSError:
            pass
        self.close(reset=False)

    def close(self, *, reset: bool) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
            self.closed.set()
            for sock in (self.client, self.upstream):
                if sock is None:
                    continue
                if reset:
                    _reset(sock)
                else:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                    with contextlib.suppress(OSError):
                        sock.close()
        self.proxy.forget(self)


class FaultProxy:
    """`with FaultProxy(("127.0.0.1", 5432)) as proxy:` then connect to `proxy.port`; switch `proxy.mode`."""

    def __init__(self, upstream: tuple[str, int], *, listen_port: int = 0, delay_s: float = 0.5,
                 connect_timeout_s: float = 3.0) -> None:
        if upstream[0] not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fault proxy forwards to loopback only")
        self.upstream = upstream
        self.delay_s = delay_s
        self.connect_timeout_s = connect_timeout_s
        self.stats = ProxyStats()
        self.lock = threading.Lock()
        self._mode = ProxyMode.PASS
        self._mode_changed = threading.Condition(self.lock)
        self._links: set[_Link] = set()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = self._listen(listen_port)
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, name="proxy-accept", daemon=True)
        self._acceptor.start()

    # ------------------------------------------------------------------ control
    @property
    def mode(self) -> ProxyMode:
        return self._mode

    @mode.setter
    def mode(self, mode: ProxyMode) -> None:
        with self._mode_changed:
            self._mode = ProxyMode(mode)
            self._mode_changed.notify_all()

    def cut(self) -> int:
        """Reset every open connection now; returns how many were cut."""
        with self.lock:
            links = list(self._links)
            self.stats.connections_cut += len(links)
        for link in links:
            link.close(reset=True)
        return len(links)

    @property
    def open_connections(self) -> int:
        with self.lock:
            return len(self._links)

    def url_for(self, database_url: str) -> str:
        """The same database URL, pointed at this proxy instead of the server."""
        from sqlalchemy.engine import make_url

        return make_url(database_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def close(self) -> None:
        self._stopping.set()
        self.mode = ProxyMode.PASS  # wake anything waiting out a blackhole
        self._acceptor.join(5)
        self.cut()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------------ internals
    def wait_while_blackholed(self, closed: threading.Event) -> bool:
        """Block while the mode is BLACKHOLE; False if the link was closed (or the proxy stopped) meanwhile."""
        with self._mode_changed:
            while self._mode is ProxyMode.BLACKHOLE and not closed.is_set() and not self._stopping.is_set():
                self._mode_changed.wait(POLL_S)
        return not closed.is_set() and not self._stopping.is_set()

    def forget(self, link: _Link) -> None:
        with self.lock:
            self._links.discard(link)

    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        return listener

    def _accept_loop(self) -> None:
        try:
            while not self._stopping.is_set():
                refusing = self._mode is ProxyMode.REFUSE
                if refusing and self._listener is not None:
                    self._listener.close()  # the kernel now answers SYN with RST: ECONNREFUSED
                    self._listener = None
                elif not refusing and self._listener is None:
                    self._listener = self._listen(self.port)
                if self._listener is None:
                    self._stopping.wait(POLL_S / 5)
                    continue
                ready, _, _ = select.select([self._listener], [], [], POLL_S / 5)
                if not ready or self._mode is ProxyMode.REFUSE:
                    continue
                client, _ = self._listener.accept()
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                link = _Link(self, client)
                with self.lock:
                    self._links.add(link)
                    self.stats.accepted += 1
                link.start()
        finally:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
