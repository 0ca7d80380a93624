"""`[traffic]` settings: defaults, overrides, and one clear ConfigError per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import load_settings
from kiosk.errors import ConfigError
from kiosk.traffic.settings import traffic_settings


def test_defaults_without_a_section() -> None:
    s = traffic_settings({})
    assert s.counter_max == 16_777_215 and s.quiet_hour == 4 and s.index.flow_weight == 0.4


def test_read_from_kiosk_toml(kiosk_env: Path) -> None:
    Path("kiosk.toml").write_text(
        '[traffic]\nsingle_direction_devices = ["gate-2"]\nretention_days = 30\nquiet_hour = 3\n'
        "[traffic.index]\ntarget_daily_visits = 250\n", encoding="utf-8")
    s = traffic_settings(load_settings())
    assert s.single_direction_devices == ("gate-2",)
    assert (s.retention_days, s.quiet_hour, s.index.target_daily_visits) == (30, 3, 250.0)


@pytest.mark.parametrize(
    ("table", "setting"),
    [
        ({"retention_days": 0}, "traffic.retention_days"),
        ({"retension_days": 5}, "traffic.retension_days"),
        ({"quiet_hour": 24}, "traffic.quiet_hour"),
        ({"counter_max": "big"}, "traffic.counter_max"),
        ({"single_direction_devices": "gate"}, "traffic.single_direction_devices"),
        ({"busy_ratio": 0.95}, "traffic.busy_ratio"),
        ({"index": {"target_daily_visits": 0}}, "traffic.index.target_daily_visits"),
        ({"index": {"flow_weight": -1}}, "traffic.index.flow_weight"),
        ({"index": {"neutral_counts_as_satisfied": "yes"}}, "traffic.index.neutral_counts_as_satisfied"),
    ],
)
def test_mistakes_name_the_setting(table: dict[str, object], setting: str) -> None:
    with pytest.raises(ConfigError) as caught:
        traffic_settings({"traffic": table})
    assert caught.value.setting == setting
