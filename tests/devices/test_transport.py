from __future__ import annotations

import pytest

from devices.errors import TransportError
from devices.idcard.frames import Command, encode_request
from devices.simulators.registry import get_simulator, start_simulator, stop_all
from devices.transport import is_byte_stream, open_transport, parse_sim_url, url_scheme

SAM_OK = bytes.fromhex("AAAAAA9669 0004 000090 94".replace(" ", ""))


def read_exactly(port, size: int) -> bytes:  # type: ignore[no-untyped-def]
    data = b""
    for _ in range(100):
        data += port.read(size - len(data))
        if len(data) >= size:
            break
    return data


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("/dev/ttyUSB0", "serial"),
        ("COM3", "serial"),
        ("socket://127.0.0.1:7001", "socket"),
        ("loop://", "loop"),
        ("rfc2217://host:2217", "rfc2217"),
        ("sim:idcard?name=front", "sim"),
        ("hid:", "hid"),
        ("camera:0", "camera"),
    ],
)
def test_url_scheme(url: str, scheme: str) -> None:
    assert url_scheme(url) == scheme


def test_sim_url_options() -> None:
    parsed = parse_sim_url("sim:idcard?name=front&refinds=1&card=2")
    assert (parsed.kind, parsed.name, parsed.options) == ("idcard", "front", {"refinds": "1", "card": "2"})
    assert parse_sim_url("sim:scanner").name == "scanner"
    with pytest.raises(TransportError):
        parse_sim_url("sim:")


@pytest.mark.parametrize("url", ["hid:", "camera:0"])
def test_non_serial_urls_are_refused_clearly(url: str) -> None:
    assert not is_byte_stream(url)
    with pytest.raises(TransportError) as info:
        open_transport(url)
    assert info.value.permanent
    assert "not a byte stream" in str(info.value)


def test_unknown_scheme_is_permanent() -> None:
    with pytest.raises(TransportError) as info:
        open_transport("nosuchscheme://x")
    assert info.value.permanent


def test_missing_port_may_come_back() -> None:
    with pytest.raises(TransportError) as info:
        open_transport("/dev/ttyNOSUCHPORT9")
    assert not info.value.permanent


def test_loop_url_is_routed_to_pyserial() -> None:
    port = open_transport("loop://", timeout=0.5)
    try:
        port.write(b"hello")
        assert read_exactly(port, 5) == b"hello"
    finally:
        port.close()


def test_sim_url_speaks_the_real_protocol_on_a_pty() -> None:
    port = open_transport("sim:idcard?name=t-sim", baudrate=115200, timeout=0.5)
    try:
        assert port.port is not None and port.port.startswith("/dev/pts/")
        port.write(encode_request(Command.SAM_STATUS))
        assert read_exactly(port, len(SAM_OK)) == SAM_OK
    finally:
        port.close()


def test_sim_url_reuses_the_simulator_by_name() -> None:
    first = open_transport("sim:idcard?name=shared")
    second = open_transport("sim:idcard?name=shared")
    try:
        assert first.port == second.port
        assert get_simulator("shared") is start_simulator("idcard", "shared")
    finally:
        first.close()
        second.close()
    with pytest.raises(TransportError):
        start_simulator("scanner", "shared")


def test_unknown_simulator_kind_is_permanent() -> None:
    with pytest.raises(TransportError) as info:
        open_transport("sim:teapot")
    assert info.value.permanent


def test_unplugged_simulator_is_not_permanent() -> None:
    simulator = start_simulator("idcard", "gone")
    simulator.unplug()
    with pytest.raises(TransportError) as info:
        open_transport("sim:idcard?name=gone")
    assert not info.value.permanent


def test_simulator_serves_tcp_for_socket_urls() -> None:
    simulator = start_simulator("idcard", "tcp", serve_pty=False)
    port_number = simulator.serve_tcp()
    port = open_transport(f"socket://127.0.0.1:{port_number}", timeout=0.5)
    try:
        port.write(encode_request(Command.SAM_STATUS))
        assert read_exactly(port, len(SAM_OK)) == SAM_OK
    finally:
        port.close()
        stop_all()
