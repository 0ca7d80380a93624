"""Registers the `printer` kind and its `sim:printer` simulator (discovered by `devices.drivers`)."""

from devices.drivers import DriverKind, register_driver
from devices.printer.printer import ReceiptPrinter
from devices.printer.simulator import create_printer
from devices.simulators.registry import register_simulator

register_simulator("printer", create_printer)
register_driver(
    DriverKind(
        "printer",
        ReceiptPrinter,
        "ESC/POS receipt printer (serial path, socket://, usb:VID:PID, tcp://host:port, file:/path, sim:printer)",
        simulator="printer",
    )
)
