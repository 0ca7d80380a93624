"""`kiosk chaos network`: several kiosk processes on one PostgreSQL, each through a proxy that fails like an uplink.

Each kiosk (branch) reaches the central database through its own `FaultProxy` on loopback, as each branch has its
own line; the schedule drives all lines together. The run, all of it seeded (`--seed` picks every duration, the
delay, the cut rhythm and the kill point):
1. online: the kiosks (`kiosk.reliability.network_worker`, each a process with its own data_dir and journal,
   each a branch of the network) lend, return (also copies of other branches) and renew;
2. refuse: open connections are cut and new ones refused: every kiosk switches to its journal;
3. cut storm: the link works but every connection is reset every few hundred milliseconds, so replays that
   start are cut mid-way, and kiosks flap between online and offline;
4. delay: every chunk waits longer than the kiosks' switch deadline: the link is "up" but useless;
5. restore: the link is clean again; the kiosks stop serving and replay. One kiosk — the one with the longest
   journal — is SIGKILLed while its replay is under way (a seeded number of replay bytes has crossed its line and
   its journal is not empty), then started again on the same data_dir, where it must find and finish its journal.
Then, with a direct connection (never through the proxy), the run passes only if:
- every journal is empty (nothing `pending`) within `drain_deadline_s` (30 s) of the database returning;
- every journaled action is in the central `offline_actions` ledger with the journal's own outcome, an
  `exception` is listed by `kiosk exceptions list`, an applied action was applied exactly once (one loan carries a
  replayed checkout's UUID; one audit entry names each replayed action), and the ledger names nothing no journal has;
- the circulation invariants hold: no item has two open loans, item status agrees with its loans, nobody is over
  the limit, every loan and return is audited;
- no kiosk process raised anything but a refusal, and the faults really happened (connections were cut).
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from catalog import schema
from catalog.db import Database
from catalog.model import AuditEntry, Branch, Loan, Patron
from catalog.offline_model import OfflineAction
from kiosk.lending.policy import LendingPolicy
from kiosk.reliability.crash import add_copies
from kiosk.reliability.netproxy import FaultProxy, ProxyMode
from kiosk.reliability.network_worker import barcode, card_key
from kiosk.reliability.processes import close_pipes, sigkill, spawn, wait_ready
from kiosk.simulate_day import check_invariants

WORKER = "kiosk.reliability.network_worker"
ITEMS = 90
PATRONS_PER_BRANCH = 8
MAX_LOANS = 8
REPLAY_BYTES_PER_ROW = 1_200
"""What replaying one journal row sends up the line, at the least (measured: 57 rows, 90 KB with probes)."""
KILL_AT = (0.02, 0.25)
"""The victim dies this far (seeded) into the bytes of its first replay batch: inside the batch's transaction. Kept
well under the measured bytes per row, so a leaner replay still cannot finish before the kill."""
KILL_AFTER_AT_LEAST = 2_000
"""…and never before this many bytes: a probe (`SELECT 1` on a fresh connection) is a few hundred."""


@dataclass
class Phase:
    name: str
    seconds: float
    detail: str = ""


@dataclass
class NetworkChaosReport:
    kiosks: int = 0
    seed: int = 0
    phases: list[Phase] = field(default_factory=list)
    actions: int = 0
    journaled: int = 0
    applied: int = 0
    exceptions: int = 0
    killed: str = ""
    killed_backlog: tuple[int, int] = (0, 0)
    """The victim's journal backlog when the link came back, and when it was killed (0 < second < first)."""
    killed_after_bytes: int = 0
    """What the victim's replay had sent up its line when the SIGKILL came."""
    drained_s: float | None = None
    connections_cut: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "kiosks": self.kiosks, "seed": self.seed,
                "phases": [p.__dict__ for p in self.phases], "actions": self.actions, "journaled": self.journaled,
                "applied": self.applied, "exceptions": self.exceptions, "killed": self.killed,
                "killed_backlog": list(self.killed_backlog),
                "killed_after_bytes": self.killed_after_bytes, "drained_s": self.drained_s,
                "connections_cut": self.connections_cut, "problems": self.problems}


def prepare_network(url: str, kiosks: int) -> None:
    """Branches N01… with their own policies, copies spread over their home branches, residents registered at each."""
    db = Database.from_url(url)
    try:
        schema.upgrade(db.engine)
        with db.unit_of_work() as s:
            # Per-branch policies: the last branch keeps what is returned to it (a floating collection), the others
            # send other branches' copies home in transit; one lends for a shorter time.
            policies: list[dict[str, Any]] = [{} for _ in range(kiosks)]
            policies[-1] = {"floating_collection": True}
            policies[0] = {"loan_days": 14}
            branches = [Branch(code=f"N{b + 1:02d}", name=f"网络书房{b + 1}", policy=policies[b])
                        for b in range(kiosks)]
            s.add_all(branches)
            s.flush()
            add_copies(s, [b.id for b in branches], ITEMS, barcode, "网络测试")
            for b, branch in enumerate(branches):
                for n in range(PATRONS_PER_BRANCH):
                    s.add(Patron(card_kind="id_card", card_key=card_key(b, n), masked_card="x", display_name="某*",
                                 home_branch_id=branch.id))
    finally:
        db.dispose()


class KioskProcess:
    """A worker process and the latest status line it printed (read by a thread, so pipes never fill up)."""

    def __init__(self, data_dir: Path, url: str, branch_no: int, seed: int) -> None:
        self.data_dir = data_dir
        self.args = (str(data_dir), url, f"N{branch_no + 1:02d}", f"net-{branch_no + 1}", str(seed), str(ITEMS),
                     str(PATRONS_PER_BRANCH), str(branch_no))
        self.name = f"net-{branch_no + 1}"
        self.status: dict[str, Any] = {}
        self.totals: Counter[str] = Counter()
        self.stderr: list[str] = []
        """Every line the worker printed on stderr, over all its lives (also kept in its data_dir)."""
        self.child: subprocess.Popen[bytes] | None = None
        self._readers: list[threading.Thread] = []

    @property
    def journal(self) -> Path:
        return self.data_dir / "journal.sqlite3"

    def start(self) -> str | None:
        self.child = spawn(WORKER, *self.args, stdin=True)
        error = wait_ready(self.child)
        if error is None:
            self._readers = [threading.Thread(target=reader, args=(self.child,), daemon=True)
                             for reader in (self._read, self._errors)]
            for thread in self._readers:
                thread.start()
        return error

    def _read(self, child: subprocess.Popen[bytes]) -> None:
        assert child.stdout is not None
        with suppress(ValueError, OSError):  # the pipe closed under us: the process is gone
            for line in child.stdout:
                try:
                    self.status = json.loads(line)
                except ValueError:
                    continue

    def _errors(self, child: subprocess.Popen[bytes]) -> None:
        """Keep all of stderr, here for the report and beside the journal for whoever looks later."""
        assert child.stderr is not None
        with (self.data_dir / "stderr.log").open("a", encoding="utf-8") as kept, suppress(ValueError, OSError):
            for raw in child.stderr:
                line = raw.decode(errors="replace").rstrip()
                kept.write(line + "\n")
                kept.flush()
                self.stderr.append(line)

    @property
    def errors(self) -> list[str]:
        return stderr_problems(self.stderr)

    def send(self, command: str) -> None:
        if self.child is not None and self.child.stdin is not None and self.child.poll() is None:
            self.child.stdin.write(command.encode() + b"\n")
            self.child.stdin.flush()

    def bank(self) -> None:
        """Keep this life's counts before a kill or an exit (a restarted worker counts from zero)."""
        self.totals.update({k: int(v) for k, v in self.status.items() if not isinstance(v, bool)})
        self.status = {}

    def kill(self) -> None:
        if self.child is not None:
            sigkill(self.child, close=False)
            for thread in self._readers:  # read its pipes to the end: its last lines (a traceback) count too
                thread.join(5)
            close_pipes(self.child)
            self.bank()

    def exit(self) -> int | None:
        """Ask the worker to stop; its exit status (None if it had to be killed, or never started)."""
        if self.child is None:
            return None
        crashed = self.child.poll()
        self.send("exit")
        with suppress(subprocess.TimeoutExpired):
            self.child.wait(15)
        status = self.child.poll() if crashed is None else crashed
        self.kill()
        return status


CHAINED = ("The above exception was the direct cause", "During handling of the above exception")
"""What Python prints between the tracebacks of one chained exception (a psycopg error under SQLAlchemy's)."""
CHAIN_LOOKAHEAD = 12
"""Lines of an exception's message (SQLAlchemy adds [SQL: …], DETAIL: …) searched for a chain's next part."""


def stderr_problems(lines: Sequence[str]) -> list[str]:
    """A worker's `error:` lines, and each traceback as one line a CI log can be read by: the message logged with
    it, the exception raised (the last of a chain, naming the first as its origin) and its innermost frame. A bare
    "Traceback (most recent call last):" says nothing."""
    problems: list[str] = []
    label, first, i = "", "", 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("error:"):
            problems.append(line.strip())
        elif line.startswith("Traceback"):
            if not first:  # a new traceback, not the next part of a chain: what was logged just before names it
                label = next((p.strip() for p in reversed(lines[max(0, i - 3):i]) if p.strip()), "") or "traceback"
            frame, i = "", i + 1
            while i < len(lines) and (lines[i].startswith(" ") or not lines[i]):
                if lines[i].startswith("  File "):
                    frame = lines[i].strip()
                i += 1
            if i == len(lines) or lines[i].startswith(("error:", "Traceback")):  # died mid-traceback, or its
                problems.append(f"{label}: (cut off) [{frame}]")  # stream was cut: still a traceback
                first = ""
                continue
            raised = lines[i].strip()
            ahead = lines[i + 1:i + 1 + CHAIN_LOOKAHEAD]
            connector = next((n for n, p in enumerate(ahead) if p.startswith(CHAINED)), None)
            if connector is not None and not any(p.startswith(("Traceback", "error:")) for p in ahead[:connector]):
                first = first or raised
                i += 1 + connector
                continue
            origin = f" (from {first})" if first and first != raised else ""
            problems.append(f"{label}: {raised} [{frame}]{origin}")
            first = ""
        i += 1
    if first:  # a chain whose next part never came
        problems.append(f"{label}: {first} (and a chained exception cut off)")
    return problems


def pending(journal: Path) -> int:
    """Rows still waiting for the database, read straight from the kiosk's journal file."""
    if not journal.exists():
        return 0
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM journal WHERE state = 'pending'").fetchone()[0])


def journal_rows(journal: Path) -> list[tuple[str, str, str, str]]:
    """(uuid, kiosk_id, action, state) of every row this kiosk ever journaled."""
    if not journal.exists():
        return []
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5) as conn:
        return [tuple(r) for r in conn.execute("SELECT uuid, kiosk_id, action, state FROM journal ORDER BY seq")]


def check_network(url: str, journals: list[Path], *, max_loans: int = MAX_LOANS) -> tuple[list[str], Counter[str]]:
    """Every journaled action applied exactly once or listed as an exception; the circulation invariants hold."""
    from kiosk.offline.exceptions import list_exceptions

    problems: list[str] = []
    counts: Counter[str] = Counter()
    rows = [row for path in journals for row in journal_rows(path)]
    db = Database.from_url(url)
    try:
        with db.read() as s:
            ledger = {a.uuid: a for a in s.scalars(select(OfflineAction))}
            loans_by_uuid = Counter(s.scalars(select(Loan.uuid)))
            audited: Counter[str] = Counter()
            for detail in s.scalars(select(AuditEntry.detail).where(
                    AuditEntry.action.in_(("checkout", "checkin", "renew")))):
                if isinstance(detail, dict) and detail.get("offline_uuid"):
                    audited[str(detail["offline_uuid"])] += 1
        listed = {e.uuid for e in list_exceptions(db)}  # what `kiosk exceptions list` shows
        for action_id, kiosk_id, action, state in rows:
            counts["journaled"] += 1
            what = f"{kiosk_id} {action} {action_id[:8]}"
            if state == "pending":
                problems.append(f"{what} is still pending in its journal")
                continue
            entry = ledger.get(action_id)
            if entry is None:
                problems.append(f"{what} is marked {state} in its journal but the database has no record of it")
                continue
            if entry.outcome != state:
                problems.append(f"{what}: journal says {state}, the database says {entry.outcome}")
            if entry.outcome == "exception":
                counts["exceptions"] += 1
                if action_id not in listed:
                    problems.append(f"{what} ended as an exception that `kiosk exceptions list` does not show")
                continue
            counts["applied"] += 1
            duplicate = isinstance(entry.detail, dict) and "duplicate_of_loan" in entry.detail
            expected = 0 if duplicate else 1
            if audited[action_id] != expected:
                problems.append(f"{what} was applied {audited[action_id]} times (audit entries), expected {expected}")
            if action == "checkout" and loans_by_uuid[action_id] != expected:
                problems.append(f"{what} made {loans_by_uuid[action_id]} loans, expected {expected}")
        journaled = {row[0] for row in rows}
        problems += [f"the ledger lists {action_id[:8]} ({a.kiosk_id} {a.action}), which no journal has"
                     for action_id, a in ledger.items() if action_id not in journaled]
        problems += check_invariants(db, LendingPolicy(max_loans=max_loans))
    finally:
        db.dispose()
    return problems, counts


def schedule(seed: int) -> list[Phase]:
    rng = random.Random(seed)
    return [Phase("online", round(rng.uniform(1.0, 2.0), 2)),
            Phase("refuse", round(rng.uniform(2.0, 3.0), 2), "open connections cut, new ones refused"),
            Phase("cut", round(rng.uniform(2.0, 3.0), 2), f"every connection reset every "
                                                           f"{rng.uniform(0.2, 0.5):.2f} s"),
            Phase("delay", round(rng.uniform(1.5, 2.5), 2), f"{rng.uniform(1.6, 2.4):.2f} s per chunk")]


class Uplinks:
    """One fault proxy per branch: each kiosk has its own line to the central database, as each branch does."""

    def __init__(self, upstream: tuple[str, int], count: int) -> None:
        self.proxies = [FaultProxy(upstream) for _ in range(count)]

    def set(self, mode: ProxyMode, *, delay_s: float | None = None) -> None:
        for proxy in self.proxies:
            if delay_s is not None:
                proxy.delay_s = delay_s
            proxy.mode = mode

    def cut(self) -> None:
        for proxy in self.proxies:
            proxy.cut()

    @property
    def connections_cut(self) -> int:
        return sum(p.stats.connections_cut for p in self.proxies)

    def close(self) -> None:
        for proxy in self.proxies:
            proxy.close()


def _apply(uplinks: Uplinks, phase: Phase, until: float) -> None:
    """Hold the phase's fault until `until` (monotonic)."""
    if phase.name == "online":
        uplinks.set(ProxyMode.PASS)
    elif phase.name == "refuse":
        uplinks.set(ProxyMode.REFUSE)
        uplinks.cut()
    elif phase.name == "delay":
        uplinks.set(ProxyMode.DELAY, delay_s=float(phase.detail.split()[0]))
    elif phase.name == "cut":
        uplinks.set(ProxyMode.PASS)
        every = float(phase.detail.split()[-2])
        while time.monotonic() + every < until:
            time.sleep(every)
            uplinks.cut()
    time.sleep(max(0.0, until - time.monotonic()))


def _wait(condition: Callable[[], bool], deadline: float, step: float = 0.05) -> bool:
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def _kill_one_mid_replay(report: NetworkChaosReport, fleet: list[KioskProcess], uplinks: Uplinks, deadline: float,
                         rng: random.Random) -> None:
    """SIGKILL the kiosk with the longest journal part-way through its replay, then start it again.

    The kiosk is quiet (serving nobody), so what crosses its line now is its replay: counting those bytes at the
    proxy puts the kill inside the first batch's transaction, at a seeded point, wherever that is in the code."""
    backlogs = [pending(k.journal) for k in fleet]
    index = max(range(len(fleet)), key=lambda n: (backlogs[n], rng.random()))
    victim, link, start = fleet[index], uplinks.proxies[index], backlogs[index]
    if start == 0:
        report.problems.append("no kiosk had anything journaled when the database returned")
        return
    from kiosk.offline.replay import BATCH

    sent = link.stats.bytes_up
    threshold = max(KILL_AFTER_AT_LEAST, int(rng.uniform(*KILL_AT) * min(start, BATCH) * REPLAY_BYTES_PER_ROW))
    _wait(lambda: link.stats.bytes_up - sent >= threshold or pending(victim.journal) == 0, deadline, step=0.002)
    left = pending(victim.journal)
    victim.kill()
    report.killed, report.killed_backlog = victim.name, (start, left)
    report.killed_after_bytes = link.stats.bytes_up - sent
    if left == 0:
        report.problems.append(f"{victim.name} finished its replay before the kill landed")
    error = victim.start()
    if error is not None:
        report.problems.append(f"{victim.name} did not restart: {error}")


def run_network_chaos(url: str, workdir: Path, *, kiosks: int = 3, seed: int = 1,
                      drain_deadline_s: float = 30.0) -> NetworkChaosReport:
    """The whole run on `url` (an EMPTY PostgreSQL database); see the module docstring."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError("the network run needs PostgreSQL: SQLite is one file on one machine, not a network")
    report = NetworkChaosReport(kiosks=kiosks, seed=seed, phases=schedule(seed))
    rng = random.Random(seed * 7919)
    prepare_network(url, kiosks)
    uplinks = Uplinks((parsed.host or "127.0.0.1", parsed.port or 5432), kiosks)
    fleet = [KioskProcess(workdir / f"kiosk-{n + 1}", uplinks.proxies[n].url_for(url), n, seed * 100 + n)
             for n in range(kiosks)]
    try:
        errors = [e for e in (k.start() for k in fleet) if e is not None]
        if errors:
            report.problems += errors
            return report
        for phase in report.phases:
            _apply(uplinks, phase, time.monotonic() + phase.seconds)
        uplinks.set(ProxyMode.PASS)
        restored = time.monotonic()
        for kiosk in fleet:
            kiosk.send("quiet")
        _kill_one_mid_replay(report, fleet, uplinks, restored + drain_deadline_s, rng)
        drained = _wait(lambda: all(pending(k.journal) == 0 for k in fleet), restored + drain_deadline_s)
        if drained:
            report.drained_s = round(time.monotonic() - restored, 2)
        else:
            report.problems.append(f"journals not empty {drain_deadline_s:g} s after the database returned: "
                                   + ", ".join(f"{k.name} {pending(k.journal)}" for k in fleet))
    finally:
        for kiosk in fleet:
            status = kiosk.exit()
            if status not in (0, None):
                report.problems.append(f"{kiosk.name} exited with status {status} instead of stopping cleanly")
        uplinks.close()
    report.connections_cut = uplinks.connections_cut
    for kiosk in fleet:
        report.actions += kiosk.totals["actions"]
        report.problems += [f"{kiosk.name}: {e}" for e in kiosk.errors[:5]]
    if report.connections_cut == 0:
        report.problems.append("the proxy cut no connection: the faults did not happen")
    problems, counts = check_network(url, [k.journal for k in fleet])
    report.problems += problems
    report.journaled, report.applied, report.exceptions = counts["journaled"], counts["applied"], counts["exceptions"]
    return report


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A fresh database `kiosk_chaos_network_…` on the server, dropped afterwards: the run needs an empty one."""
    from sqlalchemy import create_engine, text

    name = f"kiosk_chaos_network_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
