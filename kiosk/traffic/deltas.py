"""Turning cumulative counter totals into visit deltas: wrap-around told apart from a reset.

A 24-bit counter that passes 16,777,215 starts again at 0: the delta is (max − last) + current + 1. A counter that
lost power also starts again near 0, but what it counted before the reboot is already in the previous total, so the
delta is just the current value. The two look alike (the total went down); they are told apart by the reset flag
when the device sends one, and otherwise by plausibility: a wrap implies the previous total was near the maximum, so
the wrapped delta is small. A drop whose wrapped delta would exceed `max_plausible_delta` is a reset.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class StepKind(StrEnum):
    NORMAL = "normal"
    WRAP = "wrap"
    RESET = "reset"


@dataclass(frozen=True)
class CounterStep:
    delta_in: int
    delta_out: int
    kind: StepKind


def channel_delta(last: int, current: int, *, maximum: int, max_plausible_delta: int) -> tuple[int, StepKind]:
    """Delta of one channel (in or out) between two totals, never negative."""
    if current >= last:
        return current - last, StepKind.NORMAL
    wrapped = (maximum - last) + current + 1
    if 0 <= wrapped <= max_plausible_delta:
        return wrapped, StepKind.WRAP
    return max(current, 0), StepKind.RESET


def counter_step(
    last: tuple[int, int],
    current: tuple[int, int],
    *,
    maximum: int,
    max_plausible_delta: int,
    reset_flag: bool = False,
) -> CounterStep:
    """Deltas for a bidirectional counter. A reset of either channel is a reset of the device: both channels then
    count from zero, so both deltas are the current totals (a channel cannot wrap in the same step)."""
    if reset_flag:
        return CounterStep(max(current[0], 0), max(current[1], 0), StepKind.RESET)
    d_in, k_in = channel_delta(last[0], current[0], maximum=maximum, max_plausible_delta=max_plausible_delta)
    d_out, k_out = channel_delta(last[1], current[1], maximum=maximum, max_plausible_delta=max_plausible_delta)
    if StepKind.RESET in (k_in, k_out):
        return CounterStep(max(current[0], 0), max(current[1], 0), StepKind.RESET)
    kind = StepKind.WRAP if StepKind.WRAP in (k_in, k_out) else StepKind.NORMAL
    return CounterStep(d_in, d_out, kind)
