"""Fixtures for foot-traffic tests: a branch (or two) in a real database of each backend."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from catalog.db import Database
from catalog.model import Branch
from kiosk.traffic.settings import TrafficSettings


@pytest.fixture
def add_branch(database: Database) -> Callable[..., int]:
    def make(code: str = "B1", *, capacity: int | None = 40, timezone: str = "Asia/Shanghai") -> int:
        with database.unit_of_work() as session:
            branch = Branch(code=code, name=f"{code} 党群服务中心", capacity=capacity, timezone=timezone)
            session.add(branch)
            session.flush()
            return branch.id

    return make


@pytest.fixture
def traffic_settings() -> TrafficSettings:
    return TrafficSettings()
