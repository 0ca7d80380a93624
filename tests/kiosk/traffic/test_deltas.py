"""Delta computation from cumulative totals: wraps, resets, never negative, sums right."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.traffic.deltas import StepKind, channel_delta, counter_step

MAX = 16_777_215
PLAUSIBLE = 10_000


def test_wrap_formula_from_the_protocol_note() -> None:
    # delta = (max − last) + current + 1
    assert channel_delta(MAX - 2, 5, maximum=MAX, max_plausible_delta=PLAUSIBLE) == (8, StepKind.WRAP)
    assert channel_delta(MAX, 0, maximum=MAX, max_plausible_delta=PLAUSIBLE) == (1, StepKind.WRAP)


def test_drop_from_the_middle_is_a_reset_not_a_wrap() -> None:
    assert channel_delta(5_000_000, 12, maximum=MAX, max_plausible_delta=PLAUSIBLE) == (12, StepKind.RESET)


def test_reset_flag_wins_even_when_a_wrap_is_plausible() -> None:
    step = counter_step((MAX - 1, MAX - 1), (3, 2), maximum=MAX, max_plausible_delta=PLAUSIBLE, reset_flag=True)
    assert step == type(step)(3, 2, StepKind.RESET)


def test_reset_of_one_channel_resets_both() -> None:
    step = counter_step((100, 5_000), (120, 4), maximum=MAX, max_plausible_delta=PLAUSIBLE)
    assert (step.delta_in, step.delta_out, step.kind) == (120, 4, StepKind.RESET)


@st.composite
def counter_histories(draw: st.DrawFn) -> tuple[list[tuple[int, bool]], int]:
    """A counter's reported totals: increments (≤ plausible), wrapping at MAX, with flagged resets."""
    start = draw(st.one_of(st.integers(0, MAX), st.integers(MAX - 3 * PLAUSIBLE, MAX)))
    total, true_sum = start, 0
    reports: list[tuple[int, bool]] = [(start, False)]
    for _ in range(draw(st.integers(1, 40))):
        if draw(st.integers(0, 9)) == 0:
            since_reset = draw(st.integers(0, PLAUSIBLE))
            total = since_reset
            true_sum += since_reset
            reports.append((total, True))
        else:
            inc = draw(st.integers(0, PLAUSIBLE))
            total = (total + inc) % (MAX + 1)
            true_sum += inc
            reports.append((total, False))
    return reports, true_sum


@settings(max_examples=200, deadline=None)
@given(counter_histories())
def test_deltas_are_non_negative_and_sum_to_the_true_count(history: tuple[list[tuple[int, bool]], int]) -> None:
    reports, true_sum = history
    total = 0
    for (last, _), (current, reset) in itertools.pairwise(reports):
        step = counter_step((last, 0), (current, 0), maximum=MAX, max_plausible_delta=PLAUSIBLE, reset_flag=reset)
        assert step.delta_in >= 0 and step.delta_out >= 0
        total += step.delta_in
    assert total == true_sum


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, MAX + 5), st.integers(-5, MAX + 5), st.booleans()), min_size=2,
                max_size=30))
def test_any_sequence_of_totals_gives_non_negative_deltas(seq: list[tuple[int, int, bool]]) -> None:
    for (a_in, a_out, _), (b_in, b_out, reset) in itertools.pairwise(seq):
        step = counter_step((a_in, a_out), (b_in, b_out), maximum=MAX, max_plausible_delta=PLAUSIBLE,
                            reset_flag=reset)
        assert step.delta_in >= 0 and step.delta_out >= 0
