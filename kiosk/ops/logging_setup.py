"""Rotating file logs in `data_dir/logs`, with ID numbers redacted as a last line of defence.

The code never logs a raw ID number on purpose (it logs masked values and HMAC keys); the redactor is there for the
mistake nobody caught: an exception message that quotes a frame, a third-party library that logs a payload. It
works on the final formatted text, tracebacks included, so nothing slips through `%s` arguments or `exc_info`.
The pattern is the GB 11643 citizen ID shape: 17 digits and a check character (digit or X), not part of a longer
run of digits (a 20-digit barcode is left alone).
"""

from __future__ import annotations

import logging
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

from kiosk.config import Settings
from kiosk.ops.settings import ops_settings

ID_NUMBER = re.compile(r"(?<![0-9])\d{17}[\dXx](?![0-9Xx])")
REDACTED = "[ID-REDACTED]"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"


def redact(text: str) -> str:
    return ID_NUMBER.sub(REDACTED, text)


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then redacts the whole line (message, arguments and traceback alike)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class IdNumberFilter(logging.Filter):
    """For handlers whose formatter we do not own (a console handler set up by Kivy): redact message and args."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def log_dir(settings: Settings) -> Path:
    return settings.data_dir / "logs"


def setup_logging(settings: Settings, *, level: str | None = None,
                  logger: logging.Logger | None = None) -> RotatingFileHandler:
    """Attach a rotating, redacting file handler to `logger` (default: the root logger); returns it so the caller
    (or a test) can remove it. Files are created 0600 under the process umask set by `apply_private_umask`."""
    ops = ops_settings(settings)
    directory = log_dir(settings)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    handler = RotatingFileHandler(directory / "kiosk.log", maxBytes=ops.log_max_bytes,
                                  backupCount=ops.log_backups, encoding="utf-8")
    handler.setFormatter(RedactingFormatter(LOG_FORMAT))
    handler.addFilter(IdNumberFilter())
    target = logger or logging.getLogger()
    target.addHandler(handler)
    target.setLevel((level or ops.log_level).upper())
    for existing in target.handlers:
        if existing is not handler and not any(isinstance(f, IdNumberFilter) for f in existing.filters):
            existing.addFilter(IdNumberFilter())
    return handler
