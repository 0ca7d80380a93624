"""Hypothesis over every byte parser and file importer (`kiosk.reliability.parsers.TARGETS`).

Inputs are arbitrary bytes and mutations (bit flips, cuts, splices) of the corpus's well-formed and almost
well-formed cases, which reach much deeper into a parser than random bytes do: past the preamble, the checksum,
the ZIP header. The only acceptable outcomes are a summary or the parser's documented refusal; any other
exception, or a stream decoder that never stops, fails the test with the input that caused it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.reliability.parsers import TARGETS, run_target

CORPUS = Path(__file__).parent.parent / "corpus"


def _seeds(target: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted((CORPUS / target).glob("*.bin"))] or [b""]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(("flip", "cut", "insert", "splice")))
        at = draw(st.integers(0, len(data)))
        if op == "flip" and data:
            data[min(at, len(data) - 1)] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del data[at: at + draw(st.integers(1, 64))]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            data[at:] = draw(st.sampled_from(seeds))
    return bytes(data)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_parser_refuses_bad_bytes_only_with_its_own_error(name: str) -> None:
    target = TARGETS[name]
    slow = name in ("config", "import_xlsx")

    @settings(max_examples=40 if slow else 100, deadline=None, suppress_health_check=[HealthCheck.too_slow],
              database=None)
    @given(st.one_of(st.binary(max_size=600), mutated(_seeds(name))))
    def check(data: bytes) -> None:
        outcome = run_target(target, data)
        assert set(outcome) <= {"ok", "refused"}

    check()
