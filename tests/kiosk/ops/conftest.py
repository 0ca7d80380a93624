"""Fixtures for operations tests: settings with [alerts]/[ops] sections, a real local webhook server."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kiosk.config import DatabaseSettings, Settings, load_settings


@pytest.fixture
def make_settings(kiosk_env: Path) -> Callable[..., Settings]:
    """Settings in a temp data dir; `extra` holds [alerts]/[ops] tables, `url` the database."""

    def build(url: str = "", **extra: Any) -> Settings:
        return load_settings(env={"KIOSK_DATA_DIR": str(kiosk_env)}, extra=extra, database=DatabaseSettings(url=url))

    return build


class WebhookServer:
    """A real HTTP server on 127.0.0.1 that records JSON bodies; `fail_next` makes it answer 500 that many times."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.fail_next = 0
        self.arrived = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with server.arrived:
                    if server.fail_next > 0:
                        server.fail_next -= 1
                        self.send_response(500)
                        self.end_headers()
                        return
                    server.received.append(json.loads(body))
                    server.headers.append(dict(self.headers))
                    server.arrived.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def webhook() -> Iterator[WebhookServer]:
    server = WebhookServer()
    try:
        yield server
    finally:
        server.close()


class Clock:
    """A hand-moved clock for the dispatcher's dedupe and backoff rules (no sleeping, no timed assertions)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()
