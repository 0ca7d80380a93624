"""`kiosk reliability report`: run the soak, the crash sample, the race, the corpus and the fuzzer; write the table.

docs/RELIABILITY.md is this module's output, never edited by hand: a figure in it is what the last run measured,
with the sizes it ran at, on the machine and date it names. Each row also names the standalone command that
reproduces it at any size (`kiosk simulate-day`, `kiosk chaos crash`, `kiosk chaos race`); `--quick` runs the
same checks small enough for a pre-commit look.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from catalog import schema
from catalog.db import Database
from kiosk.reliability.corpus import cases
from kiosk.reliability.crash import run_crashes, run_race
from kiosk.reliability.parsers import TARGETS, FuzzTally, fuzz, run_target
from kiosk.simulate_day import simulate_day


@dataclass(frozen=True)
class ReportSizes:
    """The defaults take about 25 minutes on the 2-core development machine; docs/RELIABILITY.md names the sizes of
    the run that wrote it in each row's command. The
    week-long soak (20,000 visits, `kiosk simulate-day --sessions 20000 --days 7`) takes most of an hour there, so
    it runs on its own and its figures are in docs/BENCHMARKS.md."""

    soak_sessions: int = 3_000
    soak_days: float = 1.0
    device_every: int = 50
    crash_runs: int = 100
    import_every: int = 4
    race_kiosks: int = 4
    race_seconds: float = 10.0
    fuzz_inputs: int = 3_000
    ui_visits: int = 40
    """Whole visits on the real Kivy app, headless (`bench/soak_ui.py`); 0: not run."""
    network_kiosks: int = 3
    """Kiosk processes of `kiosk chaos network` (needs a PostgreSQL server; 0: not run)."""
    seed: int = 7


QUICK = ReportSizes(soak_sessions=300, soak_days=1.0, device_every=30, crash_runs=8, race_seconds=2.0,
                    fuzz_inputs=200, ui_visits=10)
UI_SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak_ui.py"


@dataclass
class Row:
    tried: str
    command: str
    outcome: str
    ok: bool
    seconds: float = 0.0


@dataclass
class Report:
    sizes: ReportSizes
    rows: list[Row] = field(default_factory=list)
    fuzz: dict[str, FuzzTally] = field(default_factory=dict)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)


def _soak(workdir: Path, sizes: ReportSizes) -> Row:
    db = Database.from_url(f"sqlite:///{workdir / 'soak.sqlite3'}")
    try:
        schema.upgrade(db.engine)
        day = simulate_day(db, bytes(range(32)), sessions=sizes.soak_sessions, seed=sizes.seed,
                           device_every=sizes.device_every, days=sizes.soak_days)
    finally:
        db.dispose()
    faults = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(day.faults_injected.items())) or "no faults"
    growth = day.resources
    outcome = (f"{day.loans:,} loans, {day.returns:,} returns, {day.renewals:,} renewals, {day.timeouts:,} idle "
               f"timeouts, {sum(day.refusals.values()):,} refusals over {day.simulated_days:.1f} simulated days; "
               f"{day.device_sessions} visits through the real drivers with {faults}: "
               f"{day.device_events_missed} device events missed; growth after warm-up: memory "
               f"{growth.get('rss_kb', 0) / 1024:+.1f} MB, threads {growth.get('threads', 0):+d}, open files "
               f"{growth.get('fds', 0):+d}; ")
    if day.ok:
        outcome += "every invariant holds"
    else:
        outcome += "VIOLATIONS: " + "; ".join(day.violations[:5] + (
            [f"{day.device_events_missed} device events not delivered"] if day.device_events_missed else []))
    return Row(f"{sizes.soak_sessions:,} random visits (borrow, return, renew, account, strangers, idle) with the "
               f"clock accelerated", f"`kiosk simulate-day --sessions {sizes.soak_sessions} --days "
               f"{sizes.soak_days:g} --device-every {sizes.device_every} --seed {sizes.seed}`", outcome, day.ok)


def _crash(workdir: Path, sizes: ReportSizes) -> Row:
    crash = run_crashes(workdir, runs=sizes.crash_runs, seed=sizes.seed, import_every=sizes.import_every)
    outcome = (f"{crash.runs} kills, {crash.import_kills} of them during an import ({crash.imports_cut_mid_way} cut "
               f"mid-way through the file); after every kill: `PRAGMA integrity_check` ok, no foreign-key "
               f"violation, every item's status agrees with its open loan, nobody over the limit, every loan and "
               f"return audited, every imported record whole (title + copy + search tokens) or absent, and "
               f"running the import again completed it ({crash.loans_seen:,} loans written in all)"
               if crash.ok else "BROKEN: " + "; ".join(crash.problems[:5]))
    return Row("SIGKILL a process lending/returning/renewing (50–400 ms into its work) or importing a catalog file "
               "(0–1.5 s in), on one SQLite file",
               f"`kiosk chaos crash --runs {sizes.crash_runs} --import-every {sizes.import_every} "
               f"--seed {sizes.seed}`", outcome, crash.ok)


def _race(workdir: Path, sizes: ReportSizes) -> Row:
    url = f"sqlite:///{workdir / 'race.sqlite3'}"
    race = run_race(url, kiosks=sizes.race_kiosks, seconds=sizes.race_seconds, seed=sizes.seed)
    outcome = (f"{race.loans:,} loans, {race.returns:,} returns: no copy with two open loans, no patron over the "
               f"limit, every action audited" if race.ok else "BROKEN: " + "; ".join(race.problems[:5]))
    return Row(f"{sizes.race_kiosks} kiosk processes lending, returning and renewing the same 60 copies to the same "
               f"12 patrons (limit 3) at once for {sizes.race_seconds:g} s on one SQLite file",
               f"`kiosk chaos race --database-url sqlite:///EMPTY.sqlite3 --kiosks {sizes.race_kiosks} "
               f"--seconds {sizes.race_seconds:g}`", outcome, race.ok)


def _network(workdir: Path, sizes: ReportSizes) -> Row:
    """On a scratch database of the PostgreSQL server the tests use (`KIOSK_TEST_POSTGRES_URL`, else the local one)."""
    from sqlalchemy.exc import OperationalError

    from kiosk.reliability.network_chaos import run_network_chaos, scratch_database

    server = os.environ.get("KIOSK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    tried = (f"{sizes.network_kiosks} kiosk processes (a branch and a journal each) on one PostgreSQL, each through "
             "its own loopback fault proxy: refused, cut every few hundred ms, delayed past the switch deadline; the "
             "kiosk with the longest journal SIGKILLed mid-replay and started again")
    command = f"`kiosk chaos network --kiosks {sizes.network_kiosks} --seed {sizes.seed}`"
    try:
        with scratch_database(server) as url:
            run = run_network_chaos(url, workdir / "network", kiosks=sizes.network_kiosks, seed=sizes.seed)
    except OperationalError:
        return Row(tried, command, "not run: no PostgreSQL server reachable", False)
    start, left = run.killed_backlog
    outcome = (f"{run.journaled} actions journaled offline: {run.applied} applied exactly once, {run.exceptions} "
               f"exceptions, each listed by `kiosk exceptions list`; {run.connections_cut} connections cut; the kill "
               f"came {run.killed_after_bytes:,} bytes into the replay ({left} of {start} rows pending); every "
               f"journal empty {run.drained_s} s after the database returned (limit 30 s); no copy with two open "
               "loans, every invariant held" if run.ok else "BROKEN: " + "; ".join(run.problems[:5]))
    return Row(tried, command, outcome, run.ok)


def _ui_soak(sizes: ReportSizes) -> Row:
    """In a child process: Kivy allows one window per process, and its memory must not blur the other figures."""
    import json
    import subprocess
    import sys

    tried = (f"{sizes.ui_visits} whole visits on the real Kivy app, headless (card, borrow, scans incl. unknown "
             "barcodes, on-screen receipt with QR, rating; walk-aways; language and elder-mode switches)")
    command = f"`python bench/soak_ui.py --visits {sizes.ui_visits}`"
    if not UI_SOAK.is_file():
        return Row(tried, command, "not run: bench/soak_ui.py is only in a source checkout", False)
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1"}
    done = subprocess.run([sys.executable, str(UI_SOAK), "--visits", str(sizes.ui_visits), "--json"],
                          capture_output=True, text=True, env=env, timeout=7200, check=False)
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return Row(tried, command, f"FAILED to run: {done.stderr.strip()[-300:]}", False)
    g, end = result["growth"], result["end"]
    outcome = (f"growth after {result['warmup']} warm-up visits: Kivy widgets {g['widgets']:+d} (of "
               f"{end['widgets']:,} alive), textures {g['textures']:+d} (of {end['textures']:,}; outside Kivy's "
               f"timed label/image caches {g.get('textures_outside_cache', 0):+d}), memory "
               f"{g['rss_kb'] / 1024:+.1f} MB, threads {g['threads']:+d}, open files {g['fds']:+d}; ")
    if "receipt_qr_cached" in end:
        outcome += f"receipt QR textures still cached at the end: {end['receipt_qr_cached']} (bounded at 64); "
    outcome += "no leak" if result["ok"] else "PROBLEMS: " + "; ".join(result["problems"])
    return Row(tried, command, outcome, bool(result["ok"]))


def _corpus() -> Row:
    stored = list(cases())
    wrong = [f"{c.target}/{c.name}" for c in stored if _outcome(c.target, c.data) != c.expect]
    return Row(f"{len(stored)} stored bad inputs for {len({c.target for c in stored})} parsers (bad checksums, "
               "truncations, lying lengths, garbage, wrong encodings, damaged spreadsheets and MARC directories, "
               "bad TOML)", "`tests/corpus/` (`expected.json` per parser; `tests/corpus/test_corpus.py`)",
               "every input got its declared behaviour" if not wrong else "DIFFERENT: " + ", ".join(wrong[:8]),
               not wrong)


def _outcome(target: str, data: bytes) -> dict[str, object]:
    try:
        return run_target(TARGETS[target], data)
    except Exception as exc:  # a crash is a finding for the table, not the end of the report
        return {"crashed": type(exc).__name__}


def _fuzz(report: Report) -> Row:
    seeds: dict[str, list[bytes]] = {}
    for case in cases():
        seeds.setdefault(case.target, []).append(case.data)
    for n, (name, target) in enumerate(sorted(TARGETS.items())):
        report.fuzz[name] = fuzz(target, seeds.get(name, []), inputs=report.sizes.fuzz_inputs,
                                 seed=report.sizes.seed * 100 + n)
    crashes = [f"{name}: {c}" for name, tally in report.fuzz.items() for c in tally.crashes or []]
    total = sum(t.inputs for t in report.fuzz.values())
    return Row(f"{total:,} random and mutated inputs into every byte parser and file importer "
               f"({report.sizes.fuzz_inputs:,} each, per-parser table below)",
               "`kiosk reliability report` (and hypothesis: `tests/fuzz/test_parsers_fuzz.py`)",
               "only each parser's documented refusal, never another exception, never a hang" if not crashes
               else "UNDOCUMENTED EXCEPTIONS: " + "; ".join(crashes[:5]), not crashes)


def run_report(workdir: Path, sizes: ReportSizes, progress: Callable[[str], None] | None = None) -> Report:
    report = Report(sizes)
    steps: list[tuple[str, Callable[[], Row]]] = [
        ("soak", lambda: _soak(workdir, sizes)),
        ("crash", lambda: _crash(workdir, sizes)),
        ("race", lambda: _race(workdir, sizes)),
        *([("network", lambda: _network(workdir, sizes))] if sizes.network_kiosks else []),
        ("corpus", _corpus),
        ("fuzz", lambda: _fuzz(report)),
    ]
    if sizes.ui_visits:
        steps.insert(1, ("ui soak", lambda: _ui_soak(sizes)))
    for name, step in steps:
        if progress is not None:
            progress(name)
        began = time.monotonic()
        row = step()
        row.seconds = time.monotonic() - began
        report.rows.append(row)
    return report


CHECKED_BY_TESTS = (
    ("A whole visit through the real drivers with file logging at DEBUG, then a crash report written by the "
     "kiosk's own exception hook", "`tests/kiosk/reliability/test_privacy.py`",
     "no unredacted log record, log file, crash report, receipt, database row or final screen holds the resident's "
     "ID number, full name or address"),
    ("`kiosk patrons forget`", "`tests/kiosk/reliability/test_forget.py`",
     "no row of any table, and no later lookup by the ID number, leads back to the person; loan counts stay"),
    ("8 kiosk processes racing on one PostgreSQL", "`kiosk chaos race --database-url postgresql+psycopg://…/EMPTY "
     "--kiosks 8 --seconds 15` (CI: 4 kiosks, 3 s, both databases)",
     "no copy lent twice, no patron over the limit (conditional updates + row locks + the partial unique index)"),
    ("The end-to-end visit on the real app, headless, on SQLite and PostgreSQL",
     "`kiosk demo --scenario first-loan --headless` (`tests/test_first_loan.py`)",
     "loan committed and shown; neither the resident's ID number nor name in any log line"),
    ("A device missing at start", "`tests/kiosk/test_bootstrap.py`",
     "the kiosk starts, the device is reported reconnecting/failed, scans still answered"),
    ("A hung UI loop under systemd", "`tests/kiosk/ops/test_sdnotify.py` (a stand-in `NOTIFY_SOCKET`)",
     "READY=1 once, WATCHDOG=1 only while the loop beats, then silence and a STATUS line saying why"),
    ("Paper out on the printer simulator and the help button, through the real driver, runtime and outbox, with "
     "the webhook answering 500 at first", "`tests/kiosk/ops/test_night_alerts.py`",
     "`paper_out` raised once however many receipts are refused, retried with the same id, resolved once when a "
     "receipt prints; help delivered once"),
    ("Device failure, door held open/forced, disk nearly full; the webhook down, the kiosk restarted",
     "`tests/kiosk/ops/test_alerts.py`, `test_alerts_mqtt.py` (local HTTP server, local Mosquitto), "
     "`tests/kiosk/entry/test_station.py`, `tests/kiosk/ops/test_host.py`",
     "delivered after retries with the same id, reminded not repeated, resolved once; nothing lost and nothing "
     "re-announced across a restart"),
)


def render(report: Report) -> str:
    sizes = report.sizes
    cpu = os.cpu_count() or 0
    lines = [
        "# Reliability: what was tried and what happened",
        "",
        "<!-- Written by `kiosk reliability report --out docs/RELIABILITY.md`; edit kiosk/reliability/report.py, "
        "not this file. -->",
        "",
        f"Generated {report.started:%Y-%m-%d %H:%M} UTC by `kiosk reliability report` on {platform.system()} "
        f"{platform.machine()}, {cpu} CPU cores (shared with other work), Python {platform.python_version()}. "
        f"Overall: **{'every check passed' if report.ok else 'SOMETHING FAILED'}**.",
        "",
        "| what was tried | command | outcome | time |",
        "| --- | --- | --- | --- |",
    ]
    for row in report.rows:
        lines.append(f"| {row.tried} | {row.command} | {'' if row.ok else '**FAILED** '}{row.outcome} "
                     f"| {row.seconds:.0f} s |")
    lines += ["", "Checked by the test suite on every CI run (not re-run by this command):", "",
              "| what was tried | where | outcome |", "| --- | --- | --- |"]
    lines += [f"| {tried} | {where} | {outcome} |" for tried, where, outcome in CHECKED_BY_TESTS]
    lines += ["", "## Fuzzing, per parser", "",
              f"{sizes.fuzz_inputs:,} inputs each: a third random bytes (0–600), the rest mutations (bit flips, cuts, "
              "insertions, splices) of the corpus cases. *Accepted* are inputs the parser turned into a result "
              "(for a stream decoder: skipped the noise), *refused* those it rejected with its own error.", "",
              "| parser | input | accepted | refused | undocumented exceptions |", "| --- | --- | --- | --- | --- |"]
    for name, tally in sorted(report.fuzz.items()):
        lines.append(f"| `{name}` | {TARGETS[name].what} | {tally.accepted:,} | {tally.refused:,} | "
                     f"{len(tally.crashes or []) or 'none'} |")
    lines += ["", LONGER_RUNS, "", POWER_LOSS, "", CI_SAMPLE]
    return "\n".join(lines) + "\n"


LONGER_RUNS = """## Longer runs

A simulated week of a busy room (20,000 visits, 7 simulated days, every 100th visit through the real drivers with
wire faults and unplugs) runs on its own, as `kiosk simulate-day --sessions 20000 --days 7 --device-every 100
--seed 7`: its figures (invariants, memory, thread and file-descriptor growth) are in docs/BENCHMARKS.md,
"Simulated week". Any row above runs at another size with the command in its second column."""

POWER_LOSS = """## Power loss

SQLite runs in WAL mode with `synchronous=FULL` (`catalog/db.py`): a committed loan is on disk before the screen
says "lent". `foreign_keys=ON`; write transactions start with `BEGIN IMMEDIATE`, so two writers never both read
and then both write. The WAL is checkpointed automatically (every 1,000 pages) and when the last connection closes.
A catalog import commits one chunk of records per transaction (title, copies and search tokens together), so a
cut leaves whole records and the same import run again adds exactly the rest. The alert outbox
(`data_dir/alerts-outbox.sqlite3`) uses the same settings. SIGKILL is the test for a power cut of the process; for
the disk itself, use an SSD or SD card with power-loss protection, or a UPS (see docs/OPERATIONS.md)."""

CI_SAMPLE = """## What CI runs every time

`tests/kiosk/reliability/test_crash.py` (10 SIGKILLs, 2 of them mid-import; 4 racing kiosk processes on SQLite
and PostgreSQL), `tests/kiosk/session/test_simulate_day.py` (80 visits with device faults, resource growth
measured), `tests/kiosk/reliability/test_report.py` (this report at tiny sizes),
`tests/corpus/` (every stored bad input), `tests/fuzz/` (hypothesis, 40–100 examples per parser) and the
first-loan scenario. Together well under a minute of the CI budget."""
