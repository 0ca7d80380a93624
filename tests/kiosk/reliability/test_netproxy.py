"""The fault proxy, tested against a real PostgreSQL through psycopg (and a loopback echo server for byte fidelity)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from kiosk.reliability.netproxy import FaultProxy, ProxyMode


@pytest.fixture
def postgres(_postgres_url: str | None) -> tuple[str, int, str, str]:
    if _postgres_url is None:
        pytest.skip("PostgreSQL not reachable (set KIOSK_TEST_POSTGRES_URL); required in CI")
    url = make_url(_postgres_url)
    return url.host or "127.0.0.1", url.port or 5432, url.username or "postgres", url.database or "test"


@pytest.fixture
def proxy(postgres: tuple[str, int, str, str]) -> Iterator[FaultProxy]:
    with FaultProxy((postgres[0], postgres[1]), delay_s=0.4) as p:
        yield p


def _connect(proxy: FaultProxy, postgres: tuple[str, int, str, str], timeout: int = 2) -> psycopg.Connection:
    return psycopg.connect(host="127.0.0.1", port=proxy.port, user=postgres[2], dbname=postgres[3],
                           connect_timeout=timeout, autocommit=True)


def test_pass_mode_carries_a_real_postgresql_session(proxy: FaultProxy, postgres: tuple[str, int, str, str]) -> None:
    with _connect(proxy, postgres) as conn:
        assert conn.execute("SELECT %s::text || 'x'", ("书",)).fetchone() == ("书x",)
    assert proxy.stats.accepted == 1 and proxy.stats.bytes_up > 0 and proxy.stats.bytes_down > 0


def test_refuse_mode_refuses_new_connections_but_keeps_open_ones(proxy: FaultProxy,
                                                                 postgres: tuple[str, int, str, str]) -> None:
    with _connect(proxy, postgres) as conn:
        proxy.mode = ProxyMode.REFUSE
        time.sleep(0.1)
        with pytest.raises(psycopg.OperationalError, match="refused"):
            _connect(proxy, postgres)
        assert conn.execute("SELECT 2").fetchone() == (2,)
        proxy.mode = ProxyMode.PASS
        time.sleep(0.1)
        with _connect(proxy, postgres) as again:
            assert again.execute("SELECT 3").fetchone() == (3,)


def test_delay_mode_slows_every_round_trip(proxy: FaultProxy, postgres: tuple[str, int, str, str]) -> None:
    with _connect(proxy, postgres) as conn:
        conn.execute("SELECT 1")
        proxy.mode = ProxyMode.DELAY
        started = time.monotonic()
        conn.execute("SELECT 1")
        # Query out and answer back each wait once; a floor, not a speed target: the point is the fault is real.
        assert time.monotonic() - started >= 2 * proxy.delay_s * 0.9


def test_cut_resets_open_connections_mid_stream(proxy: FaultProxy, postgres: tuple[str, int, str, str]) -> None:
    conn = _connect(proxy, postgres)
    try:
        conn.execute("SELECT 1")
        assert proxy.cut() == 1
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")
    finally:
        conn.close()
    with _connect(proxy, postgres) as fresh:  # a cut is an event, not a mode: the next connection works
        assert fresh.execute("SELECT 4").fetchone() == (4,)
    assert proxy.stats.connections_cut == 1


def test_cut_lands_in_the_middle_of_a_long_answer(proxy: FaultProxy, postgres: tuple[str, int, str, str]) -> None:
    conn = _connect(proxy, postgres)
    proxy.mode = ProxyMode.DELAY
    proxy.delay_s = 0.05
    threading.Timer(0.3, proxy.cut).start()
    try:
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT repeat('x', 1000), pg_sleep(0.0001) FROM generate_series(1, 200000)").fetchall()
    finally:
        conn.close()


def test_blackhole_stalls_until_healed_then_tcp_carries_on(proxy: FaultProxy,
                                                          postgres: tuple[str, int, str, str]) -> None:
    with _connect(proxy, postgres) as conn:
        conn.execute("SELECT 1")
        proxy.mode = ProxyMode.BLACKHOLE
        threading.Timer(0.6, setattr, (proxy, "mode", ProxyMode.PASS)).start()
        started = time.monotonic()
        assert conn.execute("SELECT 5").fetchone() == (5,)
        assert time.monotonic() - started >= 0.5


def test_blackhole_makes_a_client_time_out(proxy: FaultProxy, postgres: tuple[str, int, str, str]) -> None:
    proxy.mode = ProxyMode.BLACKHOLE
    with pytest.raises(psycopg.OperationalError):
        _connect(proxy, postgres, timeout=1)


def test_the_proxy_forwards_to_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        FaultProxy(("192.0.2.1", 5432))


@contextlib.contextmanager
def _echo_server() -> Iterator[int]:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            listener.settimeout(0.1)
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    def echo(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        listener.close()


@pytest.fixture(scope="module")
def echo_proxy() -> Iterator[FaultProxy]:
    with _echo_server() as port, FaultProxy(("127.0.0.1", port)) as p:
        yield p


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=st.lists(st.binary(min_size=1, max_size=200_000), min_size=1, max_size=4))
def test_pass_mode_delivers_every_byte_unchanged_and_in_order(echo_proxy: FaultProxy, chunks: list[bytes]) -> None:
    expected = b"".join(chunks)
    with socket.create_connection(("127.0.0.1", echo_proxy.port), timeout=10) as sock:
        received = bytearray()

        def read() -> None:
            while len(received) < len(expected):
                data = sock.recv(65536)
                if not data:
                    break
                received.extend(data)

        reader = threading.Thread(target=read)
        reader.start()
        for chunk in chunks:
            sock.sendall(chunk)
        reader.join(10)
    assert bytes(received) == expected
