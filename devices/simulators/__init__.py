"""Simulators that speak a device's real bytes on a pty or a TCP port (see `base.Simulator`), and the registry that
`sim:` URLs use to start them in-process (`registry.start_simulator`)."""

from devices.simulators.base import Simulator
from devices.simulators.registry import get_simulator, register_simulator, simulator_kinds, start_simulator, stop_all

__all__ = ["Simulator", "get_simulator", "register_simulator", "simulator_kinds", "start_simulator", "stop_all"]
