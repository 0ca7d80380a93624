"""Unattended-service figures: `kiosk serve` start to READY=1, watchdog ping spacing, SIGTERM to STOPPING=1, a
hung core withholding pings, and backup/restore time of the demo database.

A stand-in for systemd listens on an abstract AF_UNIX datagram socket, exactly what `$NOTIFY_SOCKET` points at
under systemd. The kiosk runs headless (offscreen SDL) on the demo branch in a temporary data directory.

    SDL_VIDEODRIVER=offscreen .venv/bin/python bench/bench_ops.py
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KIOSK = [sys.executable, "-m", "kiosk"]


def run_service(env: dict[str, str], seconds: float, watchdog_s: float) -> dict[str, float]:
    name = f"kiosk-bench-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(120)
    start = time.monotonic()
    proc = subprocess.Popen([*KIOSK, "serve", "--headless"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            env={**env, "NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": str(int(watchdog_s * 1e6))})
    ready = pings_from = stopping = 0.0
    pings: list[float] = []
    term_at = 0.0
    try:
        while True:
            message = sock.recv(4096).decode()
            now = time.monotonic()
            if message.startswith("READY=1"):
                ready = now - start
                pings_from = now
            elif message == "WATCHDOG=1":
                pings.append(now)
                if now - pings_from >= seconds and not term_at:
                    term_at = time.monotonic()
                    proc.send_signal(signal.SIGTERM)
            elif message.startswith("STOPPING=1"):
                stopping = now - term_at
                break
    finally:
        proc.wait(timeout=60)
        sock.close()
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    return {"ready_s": ready, "pings": len(pings), "gap_mean_s": statistics.mean(gaps), "gap_max_s": max(gaps),
            "stopping_s": stopping}


def hung_core(watchdog_s: float) -> float:
    """In-process: a core that stops beating; time from its last beat to the first withheld ping (after which
    systemd restarts the service once WatchdogSec has passed since the last ping)."""
    logging.basicConfig(level=logging.CRITICAL)
    from kiosk.ops.sdnotify import SystemdNotifier
    from kiosk.ops.watchdog import Heartbeat, ServiceWatchdog

    name = f"kiosk-bench-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(30)
    watchdog = ServiceWatchdog(SystemdNotifier({"NOTIFY_SOCKET": "@" + name,
                                                "WATCHDOG_USEC": str(int(watchdog_s * 1e6))}), Heartbeat())
    watchdog.start()
    last_beat = time.monotonic()  # the core beats once at start, then hangs
    while not sock.recv(4096).decode().startswith("STATUS=core silent"):
        pass
    silent = time.monotonic() - last_beat
    watchdog.stop()
    sock.close()
    return silent


def backup_restore(env: dict[str, str]) -> tuple[float, float, int]:
    out = Path(env["KIOSK_DATA_DIR"]) / "bench-backup.tar.gz"
    t0 = time.monotonic()
    subprocess.run([*KIOSK, "db", "backup", "--out", str(out)], cwd=ROOT, env=env, check=True, capture_output=True)
    t1 = time.monotonic()
    subprocess.run([*KIOSK, "db", "restore", str(out)], cwd=ROOT, env=env, check=True, capture_output=True)
    t2 = time.monotonic()
    return t1 - t0, t2 - t1, out.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to watch pings")
    parser.add_argument("--watchdog", type=float, default=4.0, help="WatchdogSec to simulate")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-ops-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
        env.update(KIOSK_DATA_DIR=str(Path(tmp, "data")), SDL_VIDEODRIVER="offscreen", KIVY_NO_ARGS="1")
        subprocess.run([*KIOSK, "demo-data"], cwd=tmp, env=env, check=True, capture_output=True)
        service = run_service(env, args.seconds, args.watchdog)
        backup_s, restore_s, size = backup_restore(env)
    silent = hung_core(args.watchdog)
    print(f"kiosk serve → READY=1:            {service['ready_s']:.2f} s")
    print(f"watchdog pings (WatchdogSec={args.watchdog:g}): {service['pings']} pings, gap mean "
          f"{service['gap_mean_s']:.2f} s, max {service['gap_max_s']:.2f} s")
    print(f"SIGTERM → STOPPING=1:              {service['stopping_s'] * 1000:.0f} ms")
    print(f"hung core → pings withheld after:  {silent:.2f} s")
    print(f"demo database backup (CLI):        {backup_s:.2f} s ({size / 1e6:.1f} MB bundle)")
    print(f"demo database restore (CLI):       {restore_s:.2f} s")


if __name__ == "__main__":
    main()
