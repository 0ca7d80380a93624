"""Foot-traffic timing: ingest rate into SQLite, and report latency over a network-sized history.

1. Ingest: a simulated month of one counter (5-minute samples, with a wrap, a reset and a gap) through the real
   `kiosk.traffic.ingest.ingest`, once one event per transaction (live, as the driver delivers them) and once a
   day's events per transaction (catching up after an outage).
2. History: `--events` raw samples for `--branches` branches over one year (2026), written straight into
   `traffic_samples` with executemany, plus the rollups those samples produce (computed with numpy, the same
   bucketing the ingest does). Then the daily report for one year of one branch and the hourly report for one month
   are timed through the real `kiosk.traffic.reports.traffic_report`. Target (issue 7): ≤ 200 ms each.

    .venv/bin/python bench/bench_traffic.py [--branches 50] [--events 10000000] [--db /tmp/bench-traffic.sqlite3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from catalog import schema
from catalog.db import Database
from catalog.model import Branch
from kiosk.traffic.ingest import ingest
from kiosk.traffic.reports import traffic_report
from kiosk.traffic.settings import TrafficSettings
from kiosk.traffic.simulate import HOURLY_PROFILE, simulate_month

YEAR_START = datetime(2026, 1, 1, tzinfo=UTC).timestamp() - 8 * 3600  # 2026-01-01 00:00 Asia/Shanghai
YEAR_SECONDS = 365 * 86400
OFFSET = 8 * 3600  # Asia/Shanghai, no DST


def _fresh(path: Path) -> Database:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = Database.from_url(f"sqlite:///{path}")
    schema.upgrade(db.engine)
    return db


def bench_ingest(path: Path) -> dict[str, float]:
    db = _fresh(path)
    with db.unit_of_work() as s:
        s.add(Branch(code="B000", name="基准中心", capacity=40))
    sim = simulate_month(2026, 11)
    settings = TrafficSettings()
    single = sim.events[:600]
    t0 = time.perf_counter()
    for event in single:
        ingest(db, "B000", [event], settings)
    one = len(single) / (time.perf_counter() - t0)
    rest = sim.events[600:]
    t0 = time.perf_counter()
    for i in range(0, len(rest), 288):
        ingest(db, "B000", rest[i : i + 288], settings)
    batched = len(rest) / (time.perf_counter() - t0)
    db.dispose()
    return {"per_event_tx": one, "per_day_tx": batched, "events": float(len(sim.events))}


def _stamp(seconds: np.ndarray) -> np.ndarray:
    """Epoch seconds → the naive-UTC text SQLAlchemy's SQLite DateTime stores ("YYYY-MM-DD HH:MM:SS.ffffff")."""
    text = np.datetime_as_string(seconds.astype("datetime64[s]").astype("datetime64[us]"), unit="us")
    return np.char.replace(text, "T", " ")


def generate_history(db: Database, branches: int, events: int) -> float:
    """Write `events` raw samples and their rollups for `branches` branches; returns seconds taken."""
    t0 = time.perf_counter()
    with db.unit_of_work() as s:
        for b in range(1, branches + 1):
            s.add(Branch(code=f"B{b:03d}", name=f"第{b}社区党群服务中心", capacity=60))
    per_branch = events // branches
    interval = YEAR_SECONDS / per_branch
    profile = np.array(HOURLY_PROFILE) / 5 / 60  # arrivals per second by local hour
    rng = np.random.default_rng(7)
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("BEGIN")
        for b in range(1, branches + 1):
            at = YEAR_START + np.arange(per_branch) * interval + rng.uniform(0, interval * 0.5, per_branch)
            at = np.floor(at).astype(np.int64)
            local_hour = ((at + OFFSET) // 3600) % 24
            deltas = rng.poisson(profile[local_hour] * interval)
            totals = np.cumsum(deltas) % 16_777_216
            outs = np.cumsum(np.roll(deltas, 20)) % 16_777_216
            stamps = _stamp(at)
            received = _stamp(at + 3)
            cursor.executemany(
                "INSERT INTO traffic_samples (branch_id, device, at, device_time, received_at, total_in, total_out,"
                " delta_in, delta_out, kind, flags) VALUES (?, 'door-1', ?, ?, ?, ?, ?, ?, ?, 'normal', '')",
                list(zip([b] * per_branch, stamps.tolist(), stamps.tolist(), received.tolist(), totals.tolist(),
                         outs.tolist(), deltas.tolist(), np.roll(deltas, 20).tolist(), strict=True)),
            )
            cursor.executemany(
                "INSERT INTO traffic_rollups (branch_id, grain, bucket_start, local_date, visits_in, visits_out,"
                " covered_slots, samples) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                _rollup_rows(b, at, deltas, np.roll(deltas, 20)),
            )
        cursor.execute("INSERT INTO traffic_device_state VALUES (1, 'door-1', '2026-12-31 15:59:00.000000', 0, 0)")
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - t0


def _rollup_rows(branch: int, at: np.ndarray, d_in: np.ndarray, d_out: np.ndarray) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    slot = (at + OFFSET) // 900  # local 15-minute slot number
    for grain, width in (("15m", 1), ("hour", 4), ("day", 96)):
        bucket = slot // width
        keys, inverse = np.unique(bucket, return_inverse=True)
        vin = np.bincount(inverse, weights=d_in)
        vout = np.bincount(inverse, weights=d_out)
        samples = np.bincount(inverse)
        covered = np.bincount(np.unique(slot) // width - keys[0], minlength=len(keys))[keys - keys[0]]
        start_utc = keys * width * 900 - OFFSET
        stamps = _stamp(start_utc).tolist()
        days = np.datetime_as_string(((keys * width * 900) // 86400).astype("datetime64[D]")).tolist()
        for i in range(len(keys)):
            rows.append((branch, grain, stamps[i], days[i], float(vin[i]), float(vout[i]), int(covered[i]),
                         int(samples[i])))
    return rows


def _time(fn: object, runs: int = 7) -> tuple[float, float, float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t0) * 1000)
    return times[0], statistics.median(times[1:]), max(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--branches", type=int, default=50)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "bench-traffic.sqlite3")
    args = parser.parse_args()

    rates = bench_ingest(args.db.with_name("bench-traffic-ingest.sqlite3"))
    print(f"ingest: {rates['events']:.0f} simulated events; one event per transaction: "
          f"{rates['per_event_tx']:.0f} events/s; one day (288 events) per transaction: {rates['per_day_tx']:.0f}"
          " events/s")

    db = _fresh(args.db)
    seconds = generate_history(db, args.branches, args.events)
    size_mb = args.db.stat().st_size / 1e6
    print(f"history: {args.events:,} raw samples across {args.branches} branches written in {seconds:.0f} s "
          f"({size_mb:.0f} MB)")
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    probe = f"B{min(7, args.branches):03d}"
    for label, fn in [
        ("daily report, one branch, one year (visits only)",
         lambda: traffic_report(db, start=date(2026, 1, 1), end=date(2026, 12, 31), by="day", branch=probe,
                                details=False)),
        ("daily report, one branch, one year (with heatmap, peaks, YoY, loans, ratings)",
         lambda: traffic_report(db, start=date(2026, 1, 1), end=date(2026, 12, 31), by="day", branch=probe)),
        ("hourly report, one branch, one month",
         lambda: traffic_report(db, start=date(2026, 11, 1), end=date(2026, 11, 30), by="hour", branch=probe)),
        (f"daily report, network ({args.branches} branches), one month",
         lambda: traffic_report(db, start=date(2026, 11, 1), end=date(2026, 11, 30), by="day", branch="*")),
    ]:
        first, median, worst = _time(fn)
        print(f"{label}: first {first:.0f} ms, then median {median:.0f} ms, max {worst:.0f} ms")
    db.dispose()


if __name__ == "__main__":
    main()
