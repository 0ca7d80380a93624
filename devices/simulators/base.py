"""Base of every device simulator: real bytes on a real pty (or TCP port), scripted from Python.

Like python-can's virtual bus or OctoPrint's virtual printer, a simulator is the device seen from the wire: the
driver opens the pty's slave path with pyserial and parses every byte, so a simulator can never hide a parser bug.

Replugging: a new pty gets a new `/dev/pts/N`, so a test that unplugs and replugs a device gives the simulator a
stable `link` path (a symlink re-pointed atomically at each replug), exactly like a udev rule gives a real reader
`/dev/idcard`. `unplug()` closes the master side: the driver's next read fails with EIO, as when a USB cable is
pulled. The simulator keeps its own slave descriptor open while plugged so that the master never sees EIO between
two driver connections; pyserial flushes the input on open, so stale bytes do not leak into the next connection.

Faults: `silence()` drops every reply, `send_garbage()` writes noise, `unplug()/replug()` disconnect, and
subclasses consume armed one-shot faults (`arm_fault("bad_checksum")`) when they build their next reply.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import select
import socket
import threading
import time
import tty
from collections import Counter
from typing import ClassVar

from devices.errors import TransportError

log = logging.getLogger(__name__)

_READ_CHUNK = 4096
_POLL_S = 0.05


class Simulator:
    """Serve a device protocol. Subclasses implement `received(data)` (bytes from the driver) and call `send()`.

    Thread-safety: `received` runs on the simulator's serving thread; scripting methods (`place_card`, `scan`, …)
    run on the caller's thread. Subclasses guard their own state with `self.lock`.
    """

    kind: ClassVar[str] = ""
    fault_names: ClassVar[frozenset[str]] = frozenset()
    """One-shot faults this simulator understands, besides the generic ones (silence, garbage, unplug)."""

    def __init__(self, name: str, *, link: str | None = None) -> None:
        self.name = name
        self.link = link or None
        self.lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._master: int | None = None
        self._slave: int | None = None
        self._slave_name = ""
        self._wake: int | None = None
        self._pty_thread: threading.Thread | None = None
        self._client: socket.socket | None = None
        self._server: socket.socket | None = None
        self._silent = False
        self._faults: Counter[str] = Counter()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.wire_baud: int | None = None
        """When set, `send()` paces bytes like a UART at this baud rate (10 bits per byte), for benchmarks."""
        self.connections = 0
        """How many times the pty has been (re)plugged or a TCP client accepted: scripts can wait on it."""

    # -- endpoints -----------------------------------------------------------------------------------------------

    @property
    def port_path(self) -> str:
        """The path a driver opens: the stable link when one was asked for, else the pty slave's name."""
        if self._master is None:
            raise TransportError(f"simulator {self.name!r} is unplugged", permanent=False)
        return self.link or self._slave_name

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def open_pty(self) -> str:
        """Create the pty (idempotent) and start serving it; returns the path to open."""
        with self.lock:
            if self._master is None:
                self._plug()
            return self.port_path

    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        wake_r, wake_w = os.pipe()
        self._master, self._slave, self._wake = master, slave, wake_w
        self._slave_name = os.ttyname(slave)
        if self.link:
            temp = f"{self.link}.{os.getpid()}.tmp"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            os.symlink(self._slave_name, temp)
            os.replace(temp, self.link)
        self.connections += 1
        self.on_plugged()
        thread = threading.Thread(
            target=self._serve_pty, args=(master, slave, wake_r), name=f"sim-{self.name}-pty", daemon=True
        )
        self._pty_thread = thread
        self._threads.append(thread)
        thread.start()

    def unplug(self) -> None:
        """Pull the cable: when this returns the master side is closed, so the driver's next read fails (EIO);
        the link disappears."""
        with self.lock:
            thread = self._detach()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)
        self._threads = [t for t in self._threads if t.is_alive()]

    def _detach(self) -> threading.Thread | None:
        """Forget the current pty and wake its serving thread, which closes the descriptors itself.

        Only the serving thread ever closes them: closing an fd that another thread is blocked on lets the kernel
        hand the same number to the next `openpty()` or to the driver's port, and the old thread would then read
        someone else's bytes (a bug seen under load before this rule).
        """
        if self._master is None:
            return None
        self._master = self._slave = None
        if self.link:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.link)
        wake, self._wake = self._wake, None
        if wake is not None:
            with contextlib.suppress(OSError):
                os.write(wake, b"x")
            os.close(wake)
        thread, self._pty_thread = self._pty_thread, None
        return thread

    def replug(self) -> str:
        """Plug the device back in (a new pty; the link, if any, now points at it)."""
        self.unplug()
        with self.lock:
            self._plug()
            return self.port_path

    def serve_tcp(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Serve the protocol to one TCP client at a time (`socket://host:port`); returns the bound port."""
        server = socket.create_server((host, port), reuse_port=False)
        server.settimeout(_POLL_S)
        self._server = server
        thread = threading.Thread(target=self._accept_loop, args=(server,), name=f"sim-{self.name}-tcp", daemon=True)
        self._threads.append(thread)
        thread.start()
        return int(server.getsockname()[1])

    def stop(self) -> None:
        """Stop serving and release every descriptor and thread."""
        self._stop.set()  # the TCP threads notice within _POLL_S and close their own sockets
        self.unplug()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=2.0)
        self._threads.clear()

    def _serve_pty(self, master: int, slave: int, wake: int) -> None:
        """Owns the pty's descriptors: reads until woken by `_detach` (or the device fails), then closes them
        under the write lock, so no `send()` can be writing to a number that is being recycled."""
        try:
            while not self._stop.is_set():
                try:
                    ready, _, _ = select.select([master, wake], [], [], _POLL_S)
                    if wake in ready:
                        return
                    if not ready:
                        continue
                    data = os.read(master, _READ_CHUNK)
                except BlockingIOError:
                    continue
                except OSError:
                    return
                if data:
                    self._dispatch(data)
        finally:
            with self._write_lock:
                for fd in (master, slave, wake):
                    with contextlib.suppress(OSError):
                        os.close(fd)

    def _accept_loop(self, server: socket.socket) -> None:
        """Serves one client at a time, on this thread, which alone closes the sockets (see `_detach`)."""
        try:
            while not self._stop.is_set():
                try:
                    client, _ = server.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                client.settimeout(_POLL_S)
                with self.lock:
                    self._client = client
                    self.connections += 1
                    self.on_plugged()
                self._serve_client(client)
        finally:
            self._server = None
            server.close()

    def _serve_client(self, client: socket.socket) -> None:
        while not self._stop.is_set() and self._client is client:
            try:
                data = client.recv(_READ_CHUNK)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            self._dispatch(data)
        with self.lock, self._write_lock:
            if self._client is client:
                self._client = None
            with contextlib.suppress(OSError):
                client.close()

    def _dispatch(self, data: bytes) -> None:
        try:
            with self.lock:
                self.received(data)
        except Exception:  # a simulator bug must not kill the serving thread silently
            log.exception("simulator %s failed on input", self.name)

    # -- output and faults ---------------------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Write bytes to the driver, unless silenced or unplugged (then they are lost, as on a real wire)."""
        if self._silent or not data:
            return
        if self.wire_baud:
            self._send_paced(data, self.wire_baud)
            return
        with self._write_lock:
            master, client = self._master, self._client
            if master is not None:
                self._write_pty(master, data)
            if client is not None:
                with contextlib.suppress(OSError):
                    client.sendall(data)

    def _send_paced(self, data: bytes, baud: int) -> None:
        chunk = 32
        for start in range(0, len(data), chunk):
            piece = data[start : start + chunk]
            with self._write_lock:
                master, client = self._master, self._client
                if master is not None:
                    self._write_pty(master, piece)
                if client is not None:
                    with contextlib.suppress(OSError):
                        client.sendall(piece)
            time.sleep(len(piece) * 10 / baud)

    @staticmethod
    def _write_pty(master: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                _, ready, _ = select.select([], [master], [], 0.5)
                if not ready:
                    return  # nobody reads: the bytes are lost, as on a real UART
                written = os.write(master, view)
            except BlockingIOError:
                continue
            except (OSError, ValueError):
                return
            view = view[written:]

    def silence(self, on: bool = True) -> None:
        """Stop (or resume) answering: the device is powered but mute."""
        self._silent = on

    def send_garbage(self, size: int = 16, *, seed: int | None = None) -> None:
        """Line noise: random bytes the driver must skip without losing the next good frame."""
        rng = random.Random(seed)
        self.send(bytes(rng.randrange(256) for _ in range(size)))

    def arm_fault(self, fault: str, times: int = 1) -> None:
        """Make the next `times` replies carry `fault` (see the subclass's `fault_names`)."""
        if fault not in self.fault_names:
            raise ValueError(f"{self.kind} simulator knows no fault {fault!r}; known: {sorted(self.fault_names)}")
        with self.lock:
            self._faults[fault] += times

    def take_fault(self, fault: str) -> bool:
        """Consume one armed `fault`; subclasses call this while building a reply."""
        with self.lock:
            if self._faults[fault] > 0:
                self._faults[fault] -= 1
                return True
            return False

    # -- subclass hooks ------------------------------------------------------------------------------------------

    def received(self, data: bytes) -> None:
        """Bytes written by the driver. Default: the device only talks (scanners, card readers)."""

    def on_plugged(self) -> None:
        """Called under `lock` after each plug-in: a real device powers up and forgets its volatile state."""

    def describe(self) -> str:
        return f"{self.kind} simulator {self.name!r}"

    # -- hand scripting (`kiosk simulate`) -----------------------------------------------------------------------

    GENERIC_COMMANDS: ClassVar[str] = "garbage [N] | silence on|off | fault NAME [TIMES] | unplug | replug | help"

    def command(self, line: str) -> str:
        """Run one typed command (`kiosk simulate` reads them from stdin); returns a one-line answer."""
        words = line.split()
        if not words:
            return ""
        verb, args = words[0].lower(), words[1:]
        try:
            answer = self.kind_command(verb, args)
            if answer is not None:
                return answer
            if verb == "garbage":
                self.send_garbage(int(args[0]) if args else 16)
                return "sent garbage"
            if verb == "silence":
                self.silence(not args or opt_bool(args[0]))
                return f"silent: {self._silent}"
            if verb == "fault" and args:
                self.arm_fault(args[0], int(args[1]) if len(args) > 1 else 1)
                return f"armed {args[0]}"
            if verb == "unplug":
                self.unplug()
                return "unplugged"
            if verb == "replug":
                return f"plugged in at {self.replug()}"
        except (ValueError, IndexError, TransportError) as exc:
            return f"error: {exc}"
        return f"commands: {self.kind_help()} | {self.GENERIC_COMMANDS}"

    def kind_command(self, verb: str, args: list[str]) -> str | None:
        """Subclasses handle their own verbs (`place 0`, `scan CODE`); None: not mine."""
        return None

    def kind_help(self) -> str:
        return ""


def opt_bool(value: object, default: bool = False) -> bool:
    """Options come from URL query strings (`?refinds=1`) or from Python (`refinds=True`)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise TransportError(f"not a yes/no option value: {value!r}")


def opt_float(value: object, default: float) -> float:
    if value is None:
        return default
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TransportError(f"not a number: {value!r}") from None
