"""Application core of the reading-room kiosk: configuration, session state machine, circulation, reports, CLI."""

__version__ = "0.1.0"
