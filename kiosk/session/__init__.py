"""The kiosk session: one visitor's visit, as an explicit state machine, and the values the UI renders."""
