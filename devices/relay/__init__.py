"""Door relay (CH340 "LCUS" boards and plain line-command relays) and the door-position sensor.

Wiring the software assumes (issue 11, safety): the lock is fail-safe (a magnetic lock or fail-safe strike that is
released when unpowered), so a power cut or a dead kiosk leaves the door openable; the relay contact only *releases*
the lock for a pulse; egress never goes through the relay (a request-to-exit button or push bar wired to the lock's
power directly, and a break-glass emergency release in series). The driver's part is in `driver.py`: off at start,
off after each pulse, off at stop, so a software failure can at worst keep the door locked from outside.
"""
