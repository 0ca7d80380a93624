"""Registers the `door-relay` and `door-sensor` kinds and their simulators (discovered by `devices.drivers`)."""

from devices.drivers import DriverKind, register_driver
from devices.relay.driver import DoorRelay, DoorSensor
from devices.relay.simulator import create_door_sensor, create_lcus_relay, create_line_relay
from devices.simulators.registry import register_simulator

register_simulator("relay-lcus", create_lcus_relay)
register_simulator("relay-line", create_line_relay)
register_simulator("door-sensor", create_door_sensor)
register_driver(
    DriverKind(
        "door-relay",
        DoorRelay,
        "Door relay (protocol=lcus: CH340 LCUS board; protocol=line: ASCII commands; sensor=true: DOOR lines)",
        simulator="relay-lcus",
    )
)
register_driver(
    DriverKind(
        "door-sensor", DoorSensor, "Door-position contact (DOOR OPEN / DOOR CLOSED lines)", simulator="door-sensor"
    )
)
register_driver(
    DriverKind(
        "relay",
        DoorRelay,
        "Alias of door-relay (the name kiosk doctor uses for devices.door_relay)",
        simulator="relay-lcus",
    )
)
