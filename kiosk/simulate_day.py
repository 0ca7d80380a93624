"""`kiosk simulate-day`: many random visits through the real visit machine, then the invariants checked.

Time is accelerated: a fake wall clock advances a few minutes per visit (so loans fall due and go overdue over a
run) and a fake monotonic clock drives idle timeouts without waiting. Most visits feed the machine the events a
driver would post; every `device_every`-th visit goes through the REAL drivers (GA 467 ID-card reader, serial
scanner) talking to their simulators on ptys, with faults injected on the wire (bad checksum, truncated frame,
garbage, no reply, unplug/replug). A device visit passes only if the driver recovered and delivered its event.

Invariants, checked in the database at the end:
- every item on loan has exactly one open loan, and every open loan's item is on loan;
- no patron holds more open loans than their limit;
- every loan has its checkout audit entry, every returned loan its checkin entry.
"""

from __future__ import annotations

import queue
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from catalog.db import Database
from catalog.demo import DemoResident, load_demo
from catalog.model import AuditEntry, Item, ItemStatus, Loan, Patron
from devices.events import BarcodeScanned, CardKind, CardPresented, DeviceEvent
from devices.idcard.record import SimulatedCard
from devices.identity import gb11643_check_char, mask_id_number, mask_name, person_key
from kiosk.lending.policy import LendingPolicy
from kiosk.lending.service import Circulation
from kiosk.session.view import Screen
from kiosk.session.visit import VisitMachine

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华"
ID_FAULTS = ("bad_checksum", "truncated", "garbage_before", "no_reply")


@dataclass
class DaySummary:
    sessions: int = 0
    loans: int = 0
    returns: int = 0
    renewals: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    timeouts: int = 0
    device_sessions: int = 0
    faults_injected: Counter[str] = field(default_factory=Counter)
    device_events_missed: int = 0
    missed: list[str] = field(default_factory=list)
    """What each missed device event was, for the report."""
    simulated_days: float = 0.0
    resources: dict[str, int] = field(default_factory=dict)
    """Growth from a warmed-up baseline to the end: rss_kb, threads, fds."""
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations and self.device_events_missed == 0

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "sessions": self.sessions, "loans": self.loans, "returns": self.returns,
                "renewals": self.renewals, "refusals": dict(self.refusals), "timeouts": self.timeouts,
                "device_sessions": self.device_sessions, "faults_injected": dict(self.faults_injected),
                "device_events_missed": self.device_events_missed, "missed": self.missed,
                "simulated_days": round(self.simulated_days, 1), "resources": self.resources,
                "violations": self.violations}


MAX_RSS_GROWTH_KB = 10 * 1024


def resource_usage() -> dict[str, int]:
    """Resident memory, live threads and open file descriptors of this process (Linux /proc)."""
    import os
    import threading

    rss_kb = 0
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    rss_kb = int(line.split()[1])
        fds = len(os.listdir("/proc/self/fd"))
    except OSError:
        fds = 0
    return {"rss_kb": rss_kb, "threads": threading.active_count(), "fds": fds}


def make_cards(count: int, rng: random.Random) -> list[SimulatedCard]:
    """Fictional residents with valid GB 11643 numbers (region codes of Nanjing's districts)."""
    cards = []
    for n in range(count):
        region = rng.choice(("320102", "320104", "320105", "320106", "320111", "320113"))
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))
        first17 = f"{region}{born:%Y%m%d}{n % 1000:03d}"
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + ("" if rng.random() < 0.4 else rng.choice(GIVEN))
        cards.append(SimulatedCard(name=name, id_number=first17 + gb11643_check_char(first17), valid_to=None,
                                   valid_from=date(2015, 1, 1), birth_date=born))
    return cards


class FakeClocks:
    def __init__(self, start: datetime) -> None:
        self.wall = start
        self.mono = 10_000.0

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds


class DeviceRig:
    """The real ID-card reader and scanner drivers on simulators, feeding one queue."""

    def __init__(self, secret: bytes, tag: str) -> None:
        from devices.drivers import driver_kind
        from devices.simulators.registry import get_simulator

        self.events: queue.Queue[DeviceEvent] = queue.Queue()
        self.reader = driver_kind("idcard").create(f"sim:idcard?name={tag}-id", self.events.put, name="idcard",
                                                   secret=secret, poll_interval=0.05)
        self.scanner = driver_kind("scanner").create(f"sim:scanner?name={tag}-scan", self.events.put,
                                                     name="scanner")
        self.reader.start()
        self.scanner.start()
        # The concrete simulator classes (place_card, scan, …): typed loosely because the registry hands out bases.
        # The drivers' threads start the simulators: look them up until both exist (a single look-up right after
        # start() found none under load, and the visits then silently skipped the wire they are meant to test).
        self._wait(lambda: get_simulator(f"{tag}-id") is not None and get_simulator(f"{tag}-scan") is not None, 15)
        self.id_sim: Any = get_simulator(f"{tag}-id")
        self.scan_sim: Any = get_simulator(f"{tag}-scan")
        if self.id_sim is None or self.scan_sim is None:
            raise RuntimeError("the ID-card and scanner simulators did not start within 15 s")

    @staticmethod
    def _wait(predicate: Callable[[], bool], seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return predicate()

    def next(self, kind: type, seconds: float = 15.0) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=0.05)
            except queue.Empty:
                continue
            if isinstance(event, kind):
                return event
        return None

    def stop(self) -> None:
        from devices.simulators.registry import stop_simulator

        self.reader.stop()
        self.scanner.stop()
        for sim in (self.id_sim, self.scan_sim):
            if sim is not None:
                stop_simulator(sim.name)


def check_invariants(db: Database, policy: LendingPolicy) -> list[str]:
    problems: list[str] = []
    with db.read() as s:
        open_by_item = dict(s.execute(select(Loan.item_id, func.count()).where(Loan.returned_at.is_(None))
                                      .group_by(Loan.item_id)).all())
        on_loan = set(s.scalars(select(Item.id).where(Item.status == ItemStatus.ON_LOAN)))
        for item_id, count in open_by_item.items():
            if count != 1:
                problems.append(f"item {item_id} has {count} open loans")
            if item_id not in on_loan:
                problems.append(f"item {item_id} has an open loan but is not on loan")
        for item_id in on_loan - set(open_by_item):
            problems.append(f"item {item_id} is on loan without an open loan")
        limits = dict(s.execute(select(Patron.id, Patron.max_loans)).all())
        for patron_id, count in s.execute(select(Loan.patron_id, func.count()).where(Loan.returned_at.is_(None))
                                          .group_by(Loan.patron_id)).all():
            if patron_id is not None and count > (limits.get(patron_id) or policy.max_loans):
                problems.append(f"patron {patron_id} holds {count} loans")
        audited_out = set(s.scalars(select(AuditEntry.loan_id).where(AuditEntry.action == "checkout",
                                                                     AuditEntry.outcome == "ok")))
        audited_in = set(s.scalars(select(AuditEntry.loan_id).where(AuditEntry.action == "checkin")))
        for loan_id, returned in s.execute(select(Loan.id, Loan.returned_at)).all():
            if loan_id not in audited_out:
                problems.append(f"loan {loan_id} has no checkout audit entry")
            if returned is not None and loan_id not in audited_in:
                problems.append(f"returned loan {loan_id} has no checkin audit entry")
    return problems


def simulate_day(db: Database, secret: bytes, *, sessions: int, seed: int, branch_code: str = "SIM",
                 titles: int = 400, residents: int = 60, device_every: int = 40, days: float | None = None,
                 progress: Callable[[int, int], None] | None = None) -> DaySummary:
    """`days`: spread the visits over this much simulated time (a week of a busy room: `days=7` with 20,000
    visits); default 60–900 s between visits, as in a quiet room."""
    rng = random.Random(seed)
    mean_gap = days * 86400 / sessions if days else 480.0
    clocks = FakeClocks(datetime(2026, 11, 1, 0, 30, tzinfo=UTC))
    cards = make_cards(residents, rng)
    known = cards[: residents * 3 // 4]  # the rest are strangers: first use asks for consent
    load_demo(db, titles=titles, branch_code=branch_code, now=clocks.now(), seed=seed, residents=[
        DemoResident(card_kind=CardKind.ID_CARD.value, card_key=person_key(secret, c.id_number),
                     masked_card=mask_id_number(c.id_number), display_name=mask_name(c.name), valid_until=None)
        for c in known])
    policy = LendingPolicy()
    circulation = Circulation(db, branch_code=branch_code, kiosk_id="simulate-day", network_policy=policy,
                              clock=clocks.now)
    machine = VisitMachine(circulation, idle_timeout_s=60, idle_warning_s=15, monotonic=clocks.monotonic)
    with db.read() as s:
        barcodes = list(s.scalars(select(Item.barcode).order_by(Item.id)))
    summary = DaySummary()
    rig = DeviceRig(secret, f"sd{seed}") if device_every else None
    start = clocks.now()

    def card_event(card: SimulatedCard) -> CardPresented:
        return CardPresented("idcard", CardKind.ID_CARD, person_key(secret, card.id_number),
                             mask_id_number(card.id_number), mask_name(card.name), card.valid_to, False)

    def note(view_last: Any, before: int) -> None:
        if view_last is None or machine.view.sequence == before:
            return
        key = view_last.key
        if key.startswith("refusal.") or key in ("loan.offer_renewal", "loan.already_scanned"):
            summary.refusals[key] += 1
        elif key == "loan.lent":
            summary.loans += 1
        elif key.startswith("return."):
            summary.returns += 1
        elif key == "renew.ok":
            summary.renewals += 1

    def present(card: SimulatedCard, via_devices: bool) -> None:
        if via_devices and rig is not None and rig.id_sim is not None:
            fault = rng.choice((*ID_FAULTS, "unplug", None))
            if fault == "unplug":
                rig.id_sim.replug()
                summary.faults_injected["unplug"] += 1
            elif fault is not None:
                rig.id_sim.arm_fault(fault)
                summary.faults_injected[fault] += 1
            rig.id_sim.place_card(card)
            event = rig.next(CardPresented, 5.0 if fault == "unplug" else 15.0)
            if event is None and fault == "unplug":
                # A replugged reader finds the card of the last reader session afresh and, by design, takes it for
                # the same placement (devices.idcard.reader): the resident sees nothing happen and does what
                # people do, lifts the card and puts it down again, which must then be read.
                rig.id_sim.lift_card()
                time.sleep(0.3)
                summary.faults_injected["re-placed after replug"] += 1
                rig.id_sim.place_card(card)
                event = rig.next(CardPresented)
            rig.id_sim.lift_card()
            if event is None:
                summary.device_events_missed += 1
                summary.missed.append(f"card not read after placement (fault: {fault or 'none'})")
                return
            machine.card(event)
        else:
            machine.card(card_event(card))

    def replug_scanner() -> bool:
        """Pull the scanner's cable and plug it back; True once the driver has reported the loss and then its
        reconnection (in that order, from its own health events: polling `.health` can miss a fast round trip and
        then scan into a port the driver has not reopened yet)."""
        from devices.events import DeviceHealth, HealthState

        assert rig is not None
        rig.scan_sim.replug()
        summary.faults_injected["scanner_unplug"] += 1
        lost = False
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            health = rig.next(DeviceHealth, 0.5)
            if health is None or health.device != rig.scanner.name:
                continue
            if health.state is not HealthState.CONNECTED:
                lost = True
            elif lost:
                return True
        return False

    def scan(code: str, via_devices: bool) -> None:
        before = machine.view.sequence
        if via_devices and rig is not None and rig.scan_sim is not None:
            if rng.random() < 0.1 and not replug_scanner():
                summary.device_events_missed += 1
                summary.missed.append("scanner not back after unplug")
                return
            if rng.random() < 0.3:
                rig.scan_sim.send_garbage(12, seed=rng.randrange(1 << 30))
                rig.scan_sim.send(b"\r\n")
                summary.faults_injected["scanner_garbage"] += 1
                junk = rig.next(BarcodeScanned, 2.0)
                if junk is not None:
                    machine.scan(junk.code)  # a garbled scan must be refused and change nothing
            rig.scan_sim.scan(code)
            event = rig.next(BarcodeScanned)
            # Line noise may hold a CR or LF of its own and so reach the driver as more than one junk "scan":
            # every one of them must be refused like the first, and the resident's scan is the one with its code.
            while event is not None and event.code != code:
                machine.scan(event.code)
                event = rig.next(BarcodeScanned)
            if event is None:
                summary.device_events_missed += 1
                summary.missed.append("scan not delivered")
                return
            machine.scan(event.code)
        else:
            machine.scan(code)
        note(machine.view.last, before)

    baseline: dict[str, int] | None = None
    warmup = min(100, sessions // 5)
    for n in range(sessions):
        if n == warmup:
            import gc

            gc.collect()
            baseline = resource_usage()
        via_devices = bool(device_every) and n % device_every == device_every - 1
        summary.device_sessions += via_devices
        clocks.advance(rng.uniform(0.125, 1.875) * mean_gap)
        kind = rng.choices(("borrow", "return", "account", "stranger", "idle"), (45, 25, 15, 8, 7))[0]
        if kind == "return":
            with db.read() as s:
                lent = list(s.scalars(select(Item.barcode).where(Item.status == ItemStatus.ON_LOAN).limit(50)))
            for code in rng.sample(lent, k=min(len(lent), rng.randint(1, 3))) or [rng.choice(barcodes)]:
                scan(code, via_devices)
        elif kind == "stranger":
            present(rng.choice(cards[len(known):]), via_devices)
            if machine.view.screen == Screen.CONSENT:
                (machine.accept_consent if rng.random() < 0.6 else machine.decline_consent)()
        else:
            present(rng.choice(known), via_devices)
        if machine.view.screen in (Screen.MENU, Screen.BORROWING) and kind in ("borrow", "stranger"):
            for _ in range(rng.randint(1, 4)):
                roll = rng.random()
                code = ("NOSUCH" + str(rng.randrange(999)) if roll < 0.05 else
                        "978" + "".join(rng.choices("0123456789", k=10)) if roll < 0.08 else rng.choice(barcodes))
                scan(code, via_devices)
        elif machine.view.screen == Screen.MENU and kind == "account":
            machine.choose(Screen.ACCOUNT)
            before = machine.view.sequence
            (machine.renew_all if rng.random() < 0.5 else
             lambda: machine.renew(machine.view.loans[0].loan_id) if machine.view.loans else machine.view)()
            if machine.view.sequence != before and machine.view.last is not None:
                summary.renewals += int(machine.view.last.params.get("renewed", 0) or 0)
                note(machine.view.last, before)
        if kind == "idle" or rng.random() < 0.05:
            clocks.advance(61)
            machine.tick()
            summary.timeouts += machine.view.screen == Screen.ATTRACT
        elif machine.view.screen != Screen.ATTRACT:
            machine.finish()
            if machine.view.screen == Screen.FINISHING:
                machine.choose_receipt(rng.choice(("screen", "none")))
                if machine.view.screen == Screen.RECEIPT:
                    machine.finish()
            if machine.view.screen == Screen.RATING:
                if rng.random() < 0.5:
                    machine.rate(rng.choice(("good", "good", "neutral", "bad")))
                else:
                    machine.finish()
        if machine.view.screen != Screen.ATTRACT:
            machine.cancel()
        if machine.view.patron is not None:
            summary.violations.append(f"visit {n} left personal data on the attract screen")
        summary.sessions += 1
        if progress is not None:
            progress(n + 1, sessions)
    if baseline is not None:
        import gc

        gc.collect()
        end = resource_usage()
        summary.resources = {k: end[k] - baseline[k] for k in end}
        if summary.resources["rss_kb"] > MAX_RSS_GROWTH_KB:
            summary.violations.append(f"memory grew by {summary.resources['rss_kb']} kB over the run")
        for kind in ("threads", "fds"):
            if summary.resources[kind] > 0:
                summary.violations.append(f"{kind} grew by {summary.resources[kind]} over the run")
    if rig is not None:
        rig.stop()
    summary.simulated_days = (clocks.now() - start).total_seconds() / 86400
    summary.violations += check_invariants(db, policy)
    return summary
