"""Registers the `door-counter` kind and its `sim:door-counter` simulator (discovered by `devices.drivers`)."""

from devices.doorcounter.driver import DoorCounter
from devices.doorcounter.simulator import create_door_counter
from devices.drivers import DriverKind, register_driver
from devices.simulators.registry import register_simulator

register_simulator("door-counter", create_door_counter)
register_driver(
    DriverKind(
        "door-counter",
        DoorCounter,
        "People counter at the door (framing=line: IN=…,OUT=… totals; framing=pointsix: hex packets)",
        simulator="door-counter",
    )
)
