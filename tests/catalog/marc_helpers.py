"""Build ISO 2709 records by hand (any encoding), the way union-catalog CNMARC files arrive."""

from __future__ import annotations


def iso2709(fields: list[tuple[str, str | list[tuple[str, str]]]], *, encoding: str = "utf-8",
            leader_type: str = "nam") -> bytes:
    directory = b""
    data = b""
    for tag, content in fields:
        if isinstance(content, str):
            raw = content.encode(encoding) + b"\x1e"
        else:
            raw = b"  " + b"".join(b"\x1f" + code.encode() + value.encode(encoding) for code, value in content)
            raw += b"\x1e"
        directory += f"{tag}{len(raw):04d}{len(data):05d}".encode()
        data += raw
    directory += b"\x1e"
    base = 24 + len(directory)
    total = base + len(data) + 1
    leader = f"{total:05d}{leader_type}  22{base:05d}   4500".encode()
    assert len(leader) == 24, leader
    return leader + directory + data + b"\x1d"
