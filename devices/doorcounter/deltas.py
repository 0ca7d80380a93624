"""Cumulative door-counter totals → people in and out per interval: the clean primitive the traffic module stores.

A counter only ever reports totals, and totals go down for two different reasons that must not be confused:

- **wrap**: the 24-bit counter passed 16 777 215 and restarted at 0. People kept coming: the delta is
  `(max − last) + current + 1`. Recognised when the last value was within `wrap_window` of the maximum and the new
  one is within `wrap_window` of zero.
- **reset**: the device rebooted (power cut, battery change) and counts from zero again. The people counted since
  are `current`; whoever passed between the last report and the reboot is lost, which is why a reset is flagged.
  Recognised by the device's reset flag, or by any other decrease.

A **gap** (no report for longer than `max_gap`) is not zero traffic: the interval is marked `gap=True` so reports
show it as missing data, and its delta (people counted somewhere inside the gap) is kept, not spread over time.
Deltas are never negative, and without resets they sum to the true number of passages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from devices.doorcounter.codec import COUNTER_MAX

DEFAULT_WRAP_WINDOW = 1_000_000
"""A fall from ≥ max − window to < window is a wrap; a counter never sees a million passages between two reports."""
DEFAULT_MAX_GAP = timedelta(minutes=15)


@dataclass(frozen=True)
class CountSample:
    """One report: cumulative totals at `at` (device time when the device has a clock, else receive time)."""

    at: datetime
    total_in: int
    total_out: int
    reset: bool = False


@dataclass(frozen=True)
class CountInterval:
    start: datetime
    end: datetime
    entered: int
    left: int
    gap: bool = False
    wrapped: bool = False
    reset: bool = False


def counter_delta(
    previous: int,
    current: int,
    *,
    reset: bool = False,
    maximum: int = COUNTER_MAX,
    wrap_window: int = DEFAULT_WRAP_WINDOW,
) -> tuple[int, str]:
    """People counted between two totals of one counter, and why: `count`, `wrap` or `reset`."""
    if reset:
        return current, "reset"
    if current >= previous:
        return current - previous, "count"
    if previous >= maximum - wrap_window and current < wrap_window:
        return (maximum - previous) + current + 1, "wrap"
    return current, "reset"


def deltas(
    samples: Iterable[CountSample],
    *,
    maximum: int = COUNTER_MAX,
    wrap_window: int = DEFAULT_WRAP_WINDOW,
    max_gap: timedelta = DEFAULT_MAX_GAP,
) -> list[CountInterval]:
    """One interval per consecutive pair of samples, in the order given (sort by device time first)."""
    result: list[CountInterval] = []
    previous: CountSample | None = None
    for sample in samples:
        if previous is not None:
            entered, why_in = counter_delta(
                previous.total_in, sample.total_in, reset=sample.reset, maximum=maximum, wrap_window=wrap_window
            )
            left, why_out = counter_delta(
                previous.total_out, sample.total_out, reset=sample.reset, maximum=maximum, wrap_window=wrap_window
            )
            result.append(
                CountInterval(
                    start=previous.at,
                    end=sample.at,
                    entered=entered,
                    left=left,
                    gap=sample.at - previous.at > max_gap,
                    wrapped="wrap" in (why_in, why_out),
                    reset="reset" in (why_in, why_out),
                )
            )
        previous = sample
    return result
