"""`OfflineCirculation`: the kiosk's own `Circulation` while the database answers, the journal while it does not.

Every action first goes to the database with a deadline (`[offline] switch_after_s`, 1.5 s by default); a refused,
timed-out or dropped connection switches the kiosk offline at once and the same action is answered from the local
cache and committed to the journal. Refusals (a blocked card, an unknown barcode) are answers, not outages, and
pass through unchanged. A background thread refreshes the cache every minute while online and, while offline,
probes the database every second; when it answers, the journal replays in order and only an empty journal puts the
kiosk back online, so an online action can never overtake an offline one.

Patrons registered while offline (only where `allow_unknown_patrons`) get a negative local id; the journal knows
them by card key, which is also how the replay finds (or registers) them centrally.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from catalog import schema
from catalog.db import Database
from kiosk.config import Settings
from kiosk.lending.errors import (
    AlreadyOnYourCard,
    IsbnNotItem,
    ItemNotFound,
    ItemNotLoanable,
    ItemOnLoanElsewhere,
    LoanLimitReached,
    NotOnLoan,
    PatronBlocked,
    Refusal,
    RenewalRefused,
)
from kiosk.lending.policy import LendingPolicy, network_policy
from kiosk.lending.service import (
    BranchRef,
    CheckinResult,
    CheckoutResult,
    Circulation,
    LoanRecord,
    PatronRecord,
    PatronStanding,
    RenewResult,
    looks_like_isbn,
)
from kiosk.offline.cache import CacheStats, branch_meta, bump_generation, refresh_cache
from kiosk.offline.connectivity import (
    Unreachable,
    call_with_deadline,
    is_connectivity_error,
    is_contention,
    reason_of,
)
from kiosk.offline.errors import OfflineLimitReached, offline_renewal_refused
from kiosk.offline.journal import Journal, from_iso, iso
from kiosk.offline.replay import BATCH, Replayer, ReplayReport, flush_ratings
from kiosk.offline.settings import OfflineSettings, offline_settings
from kiosk.ops.alerts.model import AlertKind, AlertSink

log = logging.getLogger(__name__)

T = TypeVar("T")

REFRESH_DEADLINE_S = 60.0
ONLINE_ATTEMPTS = 3
CONTENTION_RETRIES = 2
"""Extra tries of an action PostgreSQL aborted as a deadlock or serialization failure (it did nothing)."""
"""Tries at one action while the link flaps between its online attempt and its journal row."""


class _BackOnline(Exception):
    """The kiosk went back online between an action's failed online attempt and its journal row."""
REPLAY_ROW_DEADLINE_S = 10.0


@dataclass(frozen=True)
class OfflineCheckoutResult(CheckoutResult):
    """A loan the database has not confirmed yet: `pending` tells the screen to say it will be confirmed."""

    pending: bool = True
    uuid: str = ""


@dataclass(frozen=True)
class OfflineCheckinResult(CheckinResult):
    pending: bool = True
    uuid: str = ""


@dataclass(frozen=True)
class OfflineRenewResult(RenewResult):
    pending: bool = True
    uuid: str = ""


def _columns(row: sqlite3.Row) -> list[str]:
    """Column names (`in row` would search the values): a local patron row and a cached one differ."""
    return row.keys()


def _policy_from(meta: dict[str, Any]) -> LendingPolicy:
    known = LendingPolicy.__dataclass_fields__
    return LendingPolicy(**{k: v for k, v in dict(meta.get("policy", {})).items() if k in known})


class OfflineCirculation:
    """A `CirculationPort` that keeps lending when the shared database is unreachable. Thread-safe."""

    def __init__(self, online: Circulation, journal: Journal, settings: OfflineSettings, *,
                 alerts: AlertSink | None = None) -> None:
        self.online = online
        self.journal = journal
        self.settings = settings
        self.kiosk_id = online.kiosk_id
        self.clock = online.clock
        self.alerts = alerts
        self.on_connectivity: Callable[[bool], None] | None = None
        """Called (on whichever thread noticed) with True when the kiosk is back online, False when it went off."""
        self.replayer = Replayer(online, journal, run=lambda fn: call_with_deadline(fn, REPLAY_ROW_DEADLINE_S,
                                                                                   "offline-replay"))
        self.last_reason = ""
        self.last_replay: ReplayReport | None = None
        self.last_refresh: CacheStats | None = None
        self.switched_at: float | None = None
        """time.monotonic() of the last switch offline (tests and the chaos bench measure the switch with it)."""
        self._online = journal.backlog() == 0
        self._replay_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._probe: threading.Thread | None = None
        self._probe_result: dict[str, bool] = {}
        self._probe_lock = threading.Lock()
        self._refresher: threading.Thread | None = None
        self._prober: Engine | None = None
        self._schema_unchecked = False
        self._alerting = False

    # ------------------------------------------------------------------ state
    @property
    def is_online(self) -> bool:
        return self._online

    def backlog(self) -> int:
        return self.journal.backlog()

    def _go_offline(self, reason: str) -> None:
        with self.journal.reading():
            was = self._online
            self._online = False
            self.last_reason = reason
        if was:
            self.switched_at = time.monotonic()
            log.warning("database unreachable (%s): kiosk %s works offline", reason, self.kiosk_id)
            # Pooled connections may be half-dead (the peer gone without a FIN): a pre-ping on one blocks until TCP
            # gives up. Drop them all (without touching their sockets) so the kiosk comes back on fresh ones.
            self.online.db.engine.dispose(close=False)
            self._notify(False)

    def started_unreachable(self) -> None:
        """The kiosk started without its database: offline until it answers, and its schema is checked then."""
        self._schema_unchecked = True
        self._go_offline("database unreachable at start")

    def _schema_ready(self) -> bool:
        """Replay only into a schema this code knows (never checked when the kiosk started offline)."""
        if not self._schema_unchecked:
            return True
        try:
            call_with_deadline(lambda: schema.check_current(self.online.db.engine), REFRESH_DEADLINE_S)
        except schema.SchemaOutOfDate as error:
            log.error("journal not replayed: %s", error)
            self.last_reason = str(error)[:200]
            return False
        self._schema_unchecked = False
        return True

    def _go_online(self) -> bool:
        """Back online only with an empty journal, decided under the journal's lock so no row slips in between."""
        with self.journal.reading() as conn:
            if conn.execute("SELECT 1 FROM journal WHERE state = 'pending' LIMIT 1").fetchone() is not None:
                return False
            was = self._online
            self._online = True
        if not was:
            log.warning("database reachable again: kiosk %s is back online", self.kiosk_id)
            self._notify(True)
        return True

    def _notify(self, online: bool) -> None:
        hook = self.on_connectivity
        if hook is not None:
            try:
                hook(online)
            except Exception:
                log.exception("connectivity hook failed")

    def _call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the database within the switch deadline; raise Unreachable (after switching) if it fails."""
        if not self._online:
            raise Unreachable(self.last_reason or "offline")
        retries = CONTENTION_RETRIES
        while True:
            try:
                return call_with_deadline(fn, self.settings.switch_after_s)
            except Refusal:
                raise
            except Exception as error:
                if is_contention(error) and retries > 0:  # aborted whole by PostgreSQL: it changed nothing
                    retries -= 1
                    log.info("database contention (%s), retrying the action", reason_of(error))
                    continue
                self._unreachable_or_raise(error)

    def _unreachable_or_raise(self, error: Exception) -> NoReturn:
        # A driver error of another kind on a connection the network just broke ("can't change autocommit
        # now" from a BAD psycopg connection) is an outage too: a quick probe tells it from a real bug.
        if is_connectivity_error(error) or (isinstance(error, DBAPIError) and not self.probe()):
            self._go_offline(reason_of(error))
            raise Unreachable(reason_of(error)) from error
        raise error

    def if_reachable(self, fn: Callable[[], T], default: T) -> T:
        """`fn()` on the database when it answers in time, else `default` (and the kiosk switches offline): for
        the few reads around lending that have no offline answer of their own (is this a staff card?)."""
        try:
            return self._call(fn)
        except Unreachable:
            return default

    # ------------------------------------------------------------------ background
    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="offline-journal", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            if self._thread.is_alive():
                log.warning("offline journal thread still busy after 5 s; closing the journal under it")
            self._thread = None
        if self._prober is not None:
            self._prober.dispose()
        self.journal.close()

    def _run(self) -> None:
        """Probe every `probe_s`, online or not: the badge must show an outage within seconds even when nobody is
        borrowing, and a kiosk that is back must drain its journal without waiting for a resident."""
        next_refresh = 0.0
        while not self._stop.is_set():
            try:
                if not self.probe():
                    if self._online:
                        self._go_offline(self.last_reason or "the database did not answer the probe")
                elif not self._online or self.journal.backlog():
                    self.replay_now()
                elif time.monotonic() >= next_refresh:
                    self._refresh_in_background()
                    next_refresh = time.monotonic() + self.settings.refresh_s
                self._check_alert()
            except Exception as error:
                if self._stop.is_set():  # close() came while this pass was under way: not a fault of the loop
                    log.info("offline journal loop stopped mid-pass: %s", reason_of(error))
                    break
                log.exception("offline journal loop")
            self._stop.wait(self.settings.probe_s)

    def _refresh_in_background(self) -> None:
        """A minute's refresh can take seconds on a big catalogue: it must not delay the next probe."""
        if self._refresher is not None and self._refresher.is_alive():
            return

        def refresh() -> None:
            try:
                self.refresh_cache()
            except Exception as error:
                log.warning("offline cache not refreshed: %s", reason_of(error))

        self._refresher = threading.Thread(target=refresh, name="offline-refresh", daemon=True)
        self._refresher.start()

    def probe(self) -> bool:
        """One quick `SELECT 1`, at most one in flight (a probe stuck on a dead link must not pile up threads);
        a caller that finds one in flight waits for that one's answer instead of starting another."""
        with self._probe_lock:
            if self._probe is None or not self._probe.is_alive():
                result: dict[str, bool] = {}

                def attempt() -> None:
                    try:
                        with self._probe_engine().connect() as conn:
                            conn.execute(text("SELECT 1"))
                        result["ok"] = True
                    except Exception as error:
                        self.last_reason = reason_of(error)

                self._probe_result = result
                self._probe = threading.Thread(target=attempt, name="offline-probe", daemon=True)
                self._probe.start()
            probe, result = self._probe, self._probe_result
        probe.join(self.settings.switch_after_s)
        if probe.is_alive():
            self.last_reason = f"no answer within {self.settings.switch_after_s:g} s"
            return False
        return result.get("ok", False)

    def _probe_engine(self) -> Engine:
        """A fresh connection per probe on a network database (never a pooled one that may be half-dead); the
        kiosk's own engine on SQLite, where there is no link to go half-dead."""
        engine = self.online.db.engine
        if engine.dialect.name == "sqlite":
            return engine
        if self._prober is None:
            self._prober = create_engine(engine.url, poolclass=NullPool,
                                         connect_args={"connect_timeout": 2, "options": "-c statement_timeout=1000",
                                                       "application_name": "reading-room-kiosk-probe"})
        return self._prober

    def replay_now(self, batch: int = BATCH) -> ReplayReport:
        """Apply every pending row in order; back online when the journal is empty. Safe from any thread."""
        with self._replay_lock:
            try:
                if not self._schema_ready():
                    return ReplayReport(remaining=self.journal.backlog(), error=self.last_reason)
                report = self.replayer.replay(batch)
            except Exception as error:
                if not is_connectivity_error(error):
                    raise
                self._go_offline(reason_of(error))
                report = ReplayReport(remaining=self.journal.backlog(), error=reason_of(error))
                self.last_replay = report
                return report
            self.last_replay = report
            if report.complete:
                try:
                    call_with_deadline(lambda: flush_ratings(self.online, self.journal), REFRESH_DEADLINE_S)
                except Exception as error:
                    log.warning("offline ratings not stored yet: %s", reason_of(error))
                if self._go_online() and (report.applied or report.exceptions or report.already):
                    try:
                        self.refresh_cache(full=False)
                    except Exception as error:
                        log.warning("cache refresh after replay failed: %s", reason_of(error))
            if report.applied or report.exceptions or report.already:
                log.info("journal replayed: %d applied, %d exceptions, %d already applied, %d left",
                         report.applied, report.exceptions, report.already, report.remaining)
            return report

    def refresh_cache(self, *, full: bool = False) -> CacheStats:
        """Copy patrons, items and open loans from the database into the journal file (raises when unreachable)."""
        def work() -> CacheStats:
            return refresh_cache(self.online.db, self.journal, self.online.branch(), self.clock(), full=full)

        stats = call_with_deadline(work, REFRESH_DEADLINE_S, "offline-refresh")
        self.last_refresh = stats
        return stats

    def _check_alert(self) -> None:
        if self.alerts is None:
            return
        pending = self.journal.backlog()
        oldest = self.journal.oldest_pending_at()
        age = (self.clock() - oldest).total_seconds() if oldest else 0.0
        if pending and (pending >= self.settings.alert_backlog or age >= self.settings.alert_after_s):
            if not self._alerting:
                self.alerts.raise_alert(AlertKind.JOURNAL_BACKLOG, self.kiosk_id, actions=pending,
                                        oldest_min=int(age // 60))
                self._alerting = True
        elif self._alerting and not pending:
            self.alerts.resolve(AlertKind.JOURNAL_BACKLOG, self.kiosk_id)
            self._alerting = False

    # ------------------------------------------------------------------ cache reads
    def _cached_branch(self) -> BranchRef:
        meta = self.journal.meta("branch")
        if not isinstance(meta, dict):
            raise Unreachable("the database is unreachable and this kiosk has no cached branch yet")
        return BranchRef(int(meta["id"]), str(meta["code"]), str(meta["name"]), ZoneInfo(str(meta["tz"])),
                         _policy_from(meta))

    def branch(self) -> BranchRef:
        if self.online._branch is None:  # prime the rules' branch cache from ours while offline
            try:
                branch = self._call(self.online.branch)
                with self.journal.transaction() as conn:
                    Journal.set_meta(conn, "branch", branch_meta(branch))
            except Unreachable:
                self.online._branch = self._cached_branch()
        branch = self.online.branch()
        if not self._online and not self.settings.allow_unknown_patrons and branch.policy.self_registration:
            # Offline, a card never seen is refused at the card (UnknownCard) instead of after the consent screen.
            return replace(branch, policy=replace(branch.policy, self_registration=False))
        return branch

    def _patron_row(self, conn: sqlite3.Connection, patron_id: int) -> sqlite3.Row | None:
        if patron_id < 0:
            local = conn.execute("SELECT * FROM local_patrons WHERE local_id = ?", (-patron_id,)).fetchone()
            if local is None:
                return None
            known = conn.execute("SELECT * FROM cache_patrons WHERE card_key = ?", (local["card_key"],)).fetchone()
            return known or local
        row: sqlite3.Row | None = conn.execute("SELECT * FROM cache_patrons WHERE patron_id = ?",
                                               (patron_id,)).fetchone()
        return row

    def _local_ids(self, conn: sqlite3.Connection, patron_id: int) -> tuple[int, ...]:
        """Both ids a patron registered offline may have in the cache: the local one and, later, the central one."""
        row = self._patron_row(conn, patron_id)
        if row is None:
            return (patron_id,)
        ids = {patron_id}
        if "patron_id" in _columns(row):
            ids.add(int(row["patron_id"]))
        local = conn.execute("SELECT local_id FROM local_patrons WHERE card_key = ?", (row["card_key"],)).fetchone()
        if local is not None:
            ids.add(-int(local[0]))
        return tuple(sorted(ids))

    def _offline_standing(self, conn: sqlite3.Connection, patron_id: int) -> PatronStanding:
        row = self._patron_row(conn, patron_id)
        if row is None:
            raise LookupError(f"patron {patron_id} is not in this kiosk's offline cache")
        policy = self.online.branch().policy
        ids = self._local_ids(conn, patron_id)
        marks = ",".join("?" * len(ids))
        loans = tuple(
            LoanRecord(int(r["loan_id"]), int(r["item_id"] or 0), r["barcode"], r["title"] or "",
                       from_iso(r["out_at"]) or self.clock(), from_iso(r["due_at"]) or self.clock(),
                       int(r["renewals"]), bool(r["reserved"]))
            for r in conn.execute(
                "SELECT l.*, i.item_id, i.title, i.reserved FROM cache_loans l LEFT JOIN cache_items i "
                f"ON i.barcode = l.barcode WHERE l.patron_id IN ({marks}) ORDER BY l.due_at", ids).fetchall())
        keys = row.keys()
        status = str(row["status"]) if "status" in keys else "active"
        valid = row["card_valid_until"]
        record = PatronRecord(patron_id, str(row["card_kind"]), str(row["masked"]), str(row["display_name"]), status,
                              date.fromisoformat(valid) if valid else None,
                              row["max_loans"] if "max_loans" in keys else None)
        now = self.clock()
        blocks: list[Refusal] = []
        if status != "active":
            blocks.append(PatronBlocked(reason=status))
        if record.card_valid_until is not None and record.card_valid_until < now.astimezone(
                self.online.branch().tz).date():
            blocks.append(PatronBlocked(reason="card_expired"))
        if any(now - loan.due_at > timedelta(days=policy.block_when_overdue_days) for loan in loans):
            blocks.append(PatronBlocked(reason="overdue", days=policy.block_when_overdue_days))
        overdue = sum(1 for loan in loans if loan.due_at < now)
        return PatronStanding(record, loans, record.max_loans or policy.max_loans, tuple(blocks), overdue)

    def _remember_loan(self, result: CheckoutResult, patron_id: int) -> None:
        """Keep the cache in step with an online loan, so an outage a minute later still knows about it."""
        now = self.clock()
        try:
            with self.journal.transaction() as conn:
                conn.execute("UPDATE cache_items SET status = 'on_loan' WHERE barcode = ?", (result.barcode,))
                conn.execute("INSERT OR REPLACE INTO cache_loans VALUES (?, ?, ?, ?, ?, 0)",
                             (result.barcode, result.loan_id, patron_id, iso(now), iso(result.due_at)))
                bump_generation(conn)
        except sqlite3.Error:
            log.exception("offline cache not updated after a loan")

    def _remember_return(self, result: CheckinResult) -> None:
        try:
            with self.journal.transaction() as conn:
                conn.execute("UPDATE cache_items SET status = ? WHERE barcode = ?",
                             ("in_transit" if result.in_transit else "available", result.barcode))
                conn.execute("DELETE FROM cache_loans WHERE barcode = ?", (result.barcode,))
                bump_generation(conn)
        except sqlite3.Error:
            log.exception("offline cache not updated after a return")

    def _central_id(self, patron_id: int) -> int | None:
        """The database's id for a patron known locally by a negative id (registered offline, replayed since)."""
        if patron_id >= 0:
            return patron_id
        with self.journal.reading() as conn:
            row = self._patron_row(conn, patron_id)
        if row is None:
            return None
        if "patron_id" in _columns(row):
            return int(row["patron_id"])
        return self._call(lambda: self.online.find_patron(str(row["card_key"])))

    # ------------------------------------------------------------------ CirculationPort
    def standing(self, patron_id: int) -> PatronStanding:
        try:
            central = self._central_id(patron_id)
            if central is not None:
                standing = self._call(lambda: self.online.standing(central))
                return replace(standing, patron=replace(standing.patron, id=patron_id))
        except Unreachable:
            pass
        self._rules_branch()
        with self.journal.reading() as conn:
            return self._offline_standing(conn, patron_id)

    def find_patron(self, card_key: str) -> int | None:
        try:
            return self._call(lambda: self.online.find_patron(card_key))
        except Unreachable:
            pass
        with self.journal.reading() as conn:
            row = conn.execute("SELECT patron_id FROM cache_patrons WHERE card_key = ?", (card_key,)).fetchone()
            if row is not None:
                return int(row[0])
            local = conn.execute("SELECT local_id FROM local_patrons WHERE card_key = ?", (card_key,)).fetchone()
            return None if local is None else -int(local[0])

    def touch_patron(self, patron_id: int, *, card_valid_until: date | None) -> None:
        """Online only: "last seen" is no lending action, and the card's expiry is read afresh next visit."""
        try:
            central = self._central_id(patron_id)
            if central is not None:
                self._call(lambda: self.online.touch_patron(central, card_valid_until=card_valid_until))
        except Unreachable:
            pass

    def register(self, *, card_kind: str, card_key: str, masked_card: str, display_name: str,
                 card_valid_until: date | None) -> int:
        try:
            patron_id = self._call(lambda: self.online.register(
                card_kind=card_kind, card_key=card_key, masked_card=masked_card, display_name=display_name,
                card_valid_until=card_valid_until))
        except Unreachable:
            pass
        else:
            # Into the cache at once: an outage before the next refresh must not make a new resident a stranger.
            with self.journal.transaction() as conn:
                conn.execute("INSERT OR IGNORE INTO cache_patrons VALUES (?, ?, ?, ?, ?, 'active', ?, NULL)",
                             (card_key, patron_id, card_kind, masked_card, display_name,
                              card_valid_until.isoformat() if card_valid_until else None))
            return patron_id
        if not self.settings.allow_unknown_patrons:
            from kiosk.lending.errors import UnknownCard

            raise UnknownCard()
        with self.journal.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO local_patrons (card_key, card_kind, masked, display_name, "
                         "card_valid_until) VALUES (?, ?, ?, ?, ?)",
                         (card_key, card_kind, masked_card, display_name,
                          card_valid_until.isoformat() if card_valid_until else None))
            row = conn.execute("SELECT local_id FROM local_patrons WHERE card_key = ?", (card_key,)).fetchone()
        return -int(row[0])

    def _item(self, conn: sqlite3.Connection, barcode: str) -> sqlite3.Row:
        item: sqlite3.Row | None = conn.execute("SELECT * FROM cache_items WHERE barcode = ?", (barcode,)).fetchone()
        if item is None:
            if looks_like_isbn(barcode):
                raise IsbnNotItem(barcode=barcode)
            raise ItemNotFound(barcode=barcode)
        return item

    def checkout(self, patron_id: int, barcode: str) -> CheckoutResult:
        for _ in range(ONLINE_ATTEMPTS):
            attempted = False
            try:
                central = self._central_id(patron_id)
                if central is not None:
                    attempted = True
                    result = self._call(partial(self.online.checkout, central, barcode))
                    self._remember_loan(result, central)
                    return result
            except Unreachable:
                pass
            try:
                return self._offline_checkout(patron_id, barcode, recheck_online=attempted)
            except _BackOnline:
                continue
        raise Unreachable("the database link keeps coming and going")

    def _still_offline(self, recheck: bool) -> None:
        """Inside the journal's transaction (whose lock `_go_online` also takes): if the probe thread put the kiosk
        back online after this action's online attempt failed, journal nothing and let the caller try the database
        again; a pending row written now would be overtaken by every online action until the next replay."""
        if recheck and self._online:
            raise _BackOnline()

    def _rules_branch(self) -> BranchRef:
        """The branch the lending rules use, primed from the cache when the kiosk started offline."""
        self.branch()
        return self.online.branch()

    def _offline_checkout(self, patron_id: int, barcode: str, *, recheck_online: bool = True) -> CheckoutResult:
        branch = self._rules_branch()
        now = self.clock()
        with self.journal.transaction() as conn:
            self._still_offline(recheck_online)
            standing = self._offline_standing(conn, patron_id)
            patron = self._patron_row(conn, patron_id)
            assert patron is not None
            card_key = str(patron["card_key"])
            item = self._item(conn, barcode)
            title = str(item["title"])
            loan = conn.execute("SELECT * FROM cache_loans WHERE barcode = ?", (barcode,)).fetchone()
            if loan is not None or item["status"] == "on_loan":
                mine = next((lo for lo in standing.loans if lo.barcode == barcode), None)
                if mine is not None:
                    raise AlreadyOnYourCard(title=title, loan_id=mine.loan_id, due_at=mine.due_at.isoformat())
                raise ItemOnLoanElsewhere(title=title)
            if item["status"] != "available":
                raise ItemNotLoanable(title=title, status=str(item["status"]))
            if standing.blocks:
                raise standing.blocks[0]
            if len(standing.loans) >= standing.max_loans:
                raise LoanLimitReached(count=len(standing.loans), max=standing.max_loans)
            offline_count = int(conn.execute(
                "SELECT COUNT(*) FROM journal WHERE state = 'pending' AND action = 'checkout' AND card_key = ?",
                (card_key,)).fetchone()[0])
            if offline_count >= self.settings.max_loans:
                raise OfflineLimitReached(count=offline_count, max=self.settings.max_loans)
            due = self.online.due_date(now, branch.policy.loan_days)
            action_id = str(uuid.uuid4())
            detail: dict[str, Any] = {"due_at": iso(due)}
            if "local_id" in _columns(patron):
                detail["register"] = {"card_kind": patron["card_kind"], "masked_card": patron["masked"],
                                      "display_name": patron["display_name"],
                                      "card_valid_until": patron["card_valid_until"]}
            seq = self.journal.insert(conn, uuid=action_id, action="checkout", card_key=card_key, barcode=barcode,
                                      loan_ref=action_id, at=now, detail=detail)
            conn.execute("UPDATE cache_items SET status = 'on_loan' WHERE barcode = ?", (barcode,))
            conn.execute("INSERT OR REPLACE INTO cache_loans VALUES (?, ?, ?, ?, ?, 0)",
                         (barcode, -seq, patron_id, iso(now), iso(due)))
        return OfflineCheckoutResult(-seq, barcode, title, due, len(standing.loans) + 1, standing.max_loans,
                                     uuid=action_id)

    def checkin(self, barcode: str) -> CheckinResult:
        for _ in range(ONLINE_ATTEMPTS):
            try:
                result = self._call(lambda: self.online.checkin(barcode))
                self._remember_return(result)
                return result
            except Unreachable:
                pass
            try:
                return self._offline_checkin(barcode)
            except _BackOnline:
                continue
        raise Unreachable("the database link keeps coming and going")

    def _offline_checkin(self, barcode: str, *, recheck_online: bool = True) -> CheckinResult:
        branch = self._rules_branch()
        now = self.clock()
        with self.journal.transaction() as conn:
            self._still_offline(recheck_online)
            item = self._item(conn, barcode)
            title = str(item["title"])
            loan = conn.execute("SELECT * FROM cache_loans WHERE barcode = ?", (barcode,)).fetchone()
            if loan is None and item["status"] != "on_loan":
                raise NotOnLoan(title=title)
            patron_id = int(loan["patron_id"]) if loan is not None else None
            card = None
            if patron_id is not None:
                row = self._patron_row(conn, patron_id)
                card = str(row["card_key"]) if row is not None else None
            due = from_iso(loan["due_at"]) if loan is not None else None
            was_overdue = due is not None and due < now
            days_late, fine = self.online.fine_for(due, now) if due is not None else (0, 0)
            in_transit = int(item["home_branch_id"]) != branch.id and not branch.policy.floating_collection
            action_id = str(uuid.uuid4())
            self.journal.insert(conn, uuid=action_id, action="checkin", card_key=card, barcode=barcode,
                                loan_ref=str(loan["loan_id"]) if loan is not None else "", at=now,
                                detail={"fine_cents": fine})
            conn.execute("UPDATE cache_items SET status = ? WHERE barcode = ?",
                         ("in_transit" if in_transit else "available", barcode))
            conn.execute("DELETE FROM cache_loans WHERE barcode = ?", (barcode,))
        return OfflineCheckinResult(barcode, title, patron_id, was_overdue, in_transit, str(item["home_branch"]),
                                    str(item["shelf_location"]), days_late, fine, uuid=action_id)

    def renew(self, patron_id: int, loan_id: int) -> RenewResult:
        for _ in range(ONLINE_ATTEMPTS):
            attempted = False
            try:
                central = self._central_id(patron_id)
                if central is not None and loan_id > 0:
                    attempted = True
                    return self._call(partial(self.online.renew, central, loan_id))
            except Unreachable:
                pass
            try:
                return self._offline_renew(patron_id, loan_id, recheck_online=attempted)
            except _BackOnline:
                continue
        raise Unreachable("the database link keeps coming and going")

    def _offline_renew(self, patron_id: int, loan_id: int, *, recheck_online: bool = True) -> RenewResult:
        policy = self._rules_branch().policy
        now = self.clock()
        with self.journal.transaction() as conn:
            self._still_offline(recheck_online)
            standing = self._offline_standing(conn, patron_id)
            loan = next((lo for lo in standing.loans if lo.loan_id == loan_id), None)
            if loan is None:
                raise NotOnLoan(title="")
            if loan_id < 0:
                raise offline_renewal_refused(loan.title)
            refusal = self.online.renewal_refusal(standing.patron, loan, loan.reserved, policy, now, loan.title)
            if refusal is not None:
                raise refusal
            new_due = self.online.due_date(max(now, loan.due_at), policy.renewal_days)
            row = self._patron_row(conn, patron_id)
            assert row is not None
            action_id = str(uuid.uuid4())
            self.journal.insert(conn, uuid=action_id, action="renew", card_key=str(row["card_key"]),
                                barcode=loan.barcode, loan_ref=str(loan_id), at=now,
                                detail={"renewals_before": loan.renewals, "due_at": iso(new_due)})
            conn.execute("UPDATE cache_loans SET due_at = ?, renewals = renewals + 1 WHERE barcode = ?",
                         (iso(new_due), loan.barcode))
        return OfflineRenewResult(loan_id, loan.barcode, loan.title, new_due, loan.renewals + 1, uuid=action_id)

    def cached_barcodes(self, *, on_loan: bool, limit: int = 20) -> list[str]:
        """Copies the local cache says are on the shelf (or out, newest first): the demo's strip uses these while
        the database is pulled."""
        query = ("SELECT barcode FROM cache_loans ORDER BY out_at DESC LIMIT ?" if on_loan
                 else "SELECT barcode FROM cache_items WHERE status = 'available' ORDER BY item_id LIMIT ?")
        with self.journal.reading() as conn:
            return [str(row[0]) for row in conn.execute(query, (limit,))]

    def renewal_refusal(self, patron: Any, loan: Any, reserved: bool, policy: LendingPolicy, now: datetime,
                        title: str) -> RenewalRefused | None:
        if getattr(loan, "loan_id", 1) < 0:
            return offline_renewal_refused(title)
        return self.online.renewal_refusal(patron, loan, reserved, policy, now, title)

    def record_rating(self, score: str, tags: tuple[str, ...] = ()) -> None:
        try:
            self._call(lambda: self.online.record_rating(score, tags))
            return
        except Unreachable:
            pass
        if score not in ("good", "neutral", "bad"):
            raise ValueError(f"unknown rating {score!r}")
        with self.journal.transaction() as conn:
            conn.execute("INSERT INTO pending_ratings (at, score, tags) VALUES (?, ?, ?)",
                         (iso(self.clock()), score, json.dumps([str(t)[:40] for t in tags][:10])))


def open_offline_circulation(settings: Settings, db: Database, *, clock: Callable[[], datetime] | None = None,
                             start: bool = True, alerts: AlertSink | None = None) -> OfflineCirculation:
    """The offline-capable backend for this kiosk, its background refresh/replay thread started."""
    offline = offline_settings(settings)
    kwargs: dict[str, Any] = {} if clock is None else {"clock": clock}
    online = Circulation(db, branch_code=settings.kiosk.branch, kiosk_id=settings.kiosk.id,
                         network_policy=network_policy(settings.extra), **kwargs)
    circulation = OfflineCirculation(online, Journal(offline.journal_path, settings.kiosk.id), offline,
                                     alerts=alerts)
    if start:
        circulation.start()
    return circulation
