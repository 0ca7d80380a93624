from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.scanner.wedge import WedgeAssembler


def type_keys(assembler: WedgeAssembler, keys: list[str], start: float, gap: float) -> list[str]:
    codes = []
    for index, key in enumerate(keys):
        code = assembler.feed(key, start + index * gap)
        if code is not None:
            codes.append(code)
    return codes


def test_a_fast_burst_ending_in_enter_is_one_scan() -> None:
    assembler = WedgeAssembler()
    assert type_keys(assembler, [*"9787020002207", "enter"], 10.0, 0.008) == ["9787020002207"]


def test_tab_terminates_and_modifiers_do_not_break_a_burst() -> None:
    assembler = WedgeAssembler()
    keys = ["shift", "T", "shift", "S", *"0001234", "tab"]
    assert type_keys(assembler, keys, 0.0, 0.01) == ["TS0001234"]


def test_a_person_typing_produces_nothing() -> None:
    assembler = WedgeAssembler()
    assert type_keys(assembler, [*"9787020002207", "enter"], 0.0, 0.15) == []


def test_a_scan_right_after_typing_is_still_recognised() -> None:
    assembler = WedgeAssembler()
    assert type_keys(assembler, list("hello"), 0.0, 0.2) == []
    assert type_keys(assembler, [*"TS0001234", "enter"], 5.0, 0.005) == ["TS0001234"]


def test_short_bursts_and_lonely_enters_are_ignored() -> None:
    assembler = WedgeAssembler(min_length=4)
    assert type_keys(assembler, ["a", "b", "enter"], 0.0, 0.01) == []
    assert type_keys(assembler, ["enter"], 3.0, 0.01) == []


def test_prefix_suffix_stripped() -> None:
    assembler = WedgeAssembler(prefix="]E0")
    assert type_keys(assembler, [*"]E09787020002207", "enter"], 0.0, 0.005) == ["9787020002207"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*"0123456789ABC", "enter", "tab", "shift"]), max_size=40))
def test_slow_keys_never_make_a_scan(keys: list[str]) -> None:
    assembler = WedgeAssembler()
    assert type_keys(assembler, keys, 0.0, 0.12) == []


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"\A[0-9A-Z]{4,40}\Z"), st.floats(min_value=0.0, max_value=0.04))
def test_any_fast_code_round_trips(code: str, gap: float) -> None:
    assembler = WedgeAssembler()
    assert type_keys(assembler, [*code, "enter"], 100.0, gap) == [code]
