"""Running unattended: systemd watchdog, alerts to the librarian on duty, backups, disk checks, logs, permissions.

Nothing here starts by itself; `kiosk.app` (or whoever runs the kiosk) wires the pieces it wants. See
`docs/OPERATIONS.md`.
"""
