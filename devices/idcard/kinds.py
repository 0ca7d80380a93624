"""Registers the `idcard` device kind and its `sim:idcard` simulator (discovered by `devices.drivers`)."""

from devices.drivers import DriverKind, register_driver
from devices.idcard import simulator
from devices.idcard.reader import IdCardReader
from devices.simulators.registry import register_simulator

register_simulator("idcard", simulator.create)
register_driver(
    DriverKind("idcard", IdCardReader, "Resident ID-card reader (GA 467 SAM)", needs_secret=True, simulator="idcard")
)
