"""Registers the serial `scanner` kind and its `sim:scanner` simulator (discovered by `devices.drivers`)."""

from devices.drivers import DriverKind, register_driver
from devices.scanner.serial_scanner import SerialScanner
from devices.simulators.line import create_scanner
from devices.simulators.registry import register_simulator

register_simulator("scanner", create_scanner)
register_driver(DriverKind("scanner", SerialScanner, "Serial / USB-CDC barcode scanner (one code per line)",
                           simulator="scanner"))
