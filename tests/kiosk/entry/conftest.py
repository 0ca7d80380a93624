"""Entry tests: simulators are stopped after each test (drivers speak to them over real ptys)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devices.simulators.registry import stop_all


@pytest.fixture(autouse=True)
def _stop_simulators() -> Iterator[None]:
    yield
    stop_all()
