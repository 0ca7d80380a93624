"""ESC/POS receipt printer: receipt bytes, status replies, transports by URL, the non-blocking printer, simulator."""
