"""Pulling the database for real, in-process: what the demo's "断开数据库 / pull the database" button does.

A SQLite file cannot be unplugged like a network link, so the engine is made to refuse exactly as an unreachable
server does: every pooled connection is invalidated when it is checked out, and every new connection fails in the
driver with "unable to open database file". Nothing above the engine is mocked: the backend meets the same
`OperationalError` a vanished file gives and switches offline on it. (A PostgreSQL demo goes through the loopback
fault proxy instead, `kiosk.reliability.netproxy`.)
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError


class SqliteCutoff:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pulled = False
        event.listen(engine, "checkout", self._on_checkout)
        event.listen(engine, "do_connect", self._on_connect)

    def _on_checkout(self, _dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if self.pulled:
            raise DisconnectionError("database pulled")

    def _on_connect(self, _dialect: Any, _record: Any, _cargs: Any, _cparams: Any) -> None:
        if self.pulled:
            raise sqlite3.OperationalError("unable to open database file")

    def pull(self) -> None:
        self.pulled = True
        self.engine.pool.dispose()

    def restore(self) -> None:
        self.pulled = False
