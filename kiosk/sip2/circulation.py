"""`Sip2Circulation`: the kiosk lends from a library system's SIP2 server instead of its own database.

It implements `kiosk.lending.port.CirculationPort`, so the visit machine, the screens and the receipts work
unchanged: a card is identified with Patron Status (23) and Patron Information (63, with the charged items), a
scan is a Checkout (11) or Checkin (09), a tap on "renew" is a Renew (29), and titles and due dates come from Item
Information (17). The library system decides; this class only translates.

What is local: the branch (time zone, the room's name, which the receipt prints) and the anonymous satisfaction
ratings stay in the kiosk's own database, read through the local `Circulation`. Self-registration is switched off,
since only the library system can issue a card.

Identity: SIP2 needs a patron identifier the library system knows; `[sip2.client] patron_id` chooses what is sent
(see `Sip2ClientSettings`). Patrons get small per-process ids here (the port speaks in ints); the identifier lives
only in memory, for the last `REMEMBERED_PATRONS` visits, and is never logged.

Refusals: a SIP2 "no" carries only flags and a screen message (AF). The reply is turned into the same typed
`Refusal` the local database would raise, by asking the server what it knows (patron flags, the item's
circulation status); every refusal also carries the server's AF text, unchanged, as `params["screen_message"]`,
and one the kiosk cannot classify is a `RemoteRefusal` whose message *is* that text.

Offline (store and forward, `kiosk.sip2.store_forward`): where the server's last SC Status said `offline_ok = Y`
(and `[sip2.client] offline` is on), an unreachable server does not stop the room: cards are accepted on trust,
returns are always journaled, loans within `[offline] max_loans` per card, renewals wait. Before any request once
the server answers again, the journal is forwarded in order (`no_block = Y`, the original dates), so an online
action never overtakes an offline one. Where the server does not allow it, the kiosk refuses with
`LibraryUnavailable` as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from devices.events import CardKind, CardPresented
from devices.identity import mask_name
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
    UnknownCard,
)
from kiosk.lending.policy import LendingPolicy
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
from kiosk.offline.backend import OfflineCheckinResult, OfflineCheckoutResult
from kiosk.offline.errors import offline_renewal_refused
from kiosk.sip2.client import Sip2Client, Sip2ConnectionError
from kiosk.sip2.codec import Message, Sip2Error, parse_date
from kiosk.sip2.settings import Sip2ClientSettings
from kiosk.sip2.store_forward import StoreForward

log = logging.getLogger(__name__)

# Circulation status (Item Information 18) → the local `ItemNotLoanable` status it means.
NOT_LOANABLE = {"06": "in_repair", "10": "in_transit", "12": "lost", "13": "lost"}
PERSON_CARDS = (CardKind.ID_CARD, CardKind.SOCIAL_SECURITY)
REMEMBERED_PATRONS = 4


class RemoteRefusal(Refusal):
    """The library system said no for a reason the kiosk cannot name: its screen message is shown as it is."""

    key = "refusal.remote"


class LibraryUnavailable(Refusal):
    """The library system did not answer (connection refused, timeout, garbage after every resend)."""

    key = "refusal.library_unavailable"


@dataclass
class _Patron:
    identifier: str
    card_kind: str
    masked_card: str
    display_name: str
    charged: int = 0
    max_loans: int = 0
    renew_denied: bool = False
    card_key: str = ""
    """The card's keyed hash: how the offline journal knows the patron (and counts their offline loans)."""


@dataclass(frozen=True)
class _ItemInfo:
    title: str
    status: str
    due_at: datetime | None


def _screen(reply: Message) -> str:
    return " ".join(text.strip() for text in reply.get_all("AF") if text.strip())


def _remote(screen: str, **params: Any) -> Refusal:
    """The server's own words when it sent any; the generic "ask a librarian" when it sent none."""
    if screen:
        return RemoteRefusal(message=screen, screen_message=screen, **params)
    return Refusal(screen_message="", **params)


class Sip2Circulation:
    """CirculationPort over a `Sip2Client`. One kiosk has one visit at a time; a lock still guards the socket."""

    def __init__(self, client: Sip2Client, local: Circulation, *, patron_id: str = "card_number",
                 store: StoreForward | None = None, probe_interval_s: float = 5.0) -> None:
        self.client = client
        self.store = store
        """The offline journal (None: never lend offline)."""
        self.local = local
        self.kiosk_id = local.kiosk_id
        self.clock = local.clock
        self.patron_id_mode = patron_id
        self._lock = threading.RLock()
        self._patrons: dict[int, _Patron] = {}
        self._by_identifier: dict[str, int] = {}
        self._next_patron_id = 0
        self._loan_ids: dict[str, int] = {}
        self._barcodes: dict[int, str] = {}
        self._items: dict[str, _ItemInfo] = {}
        self.offline_ok = store.offline_ok if store is not None else False
        """The server's `offline_ok` from the last status exchange (remembered across restarts by the store)."""
        self.library_name = ""
        self.on_connectivity: Callable[[bool], None] | None = None
        """Told when the library system stops or starts answering (the runtime shows the "offline" badge)."""
        self.is_online = True
        self.probe_interval_s = probe_interval_s
        self._prober: threading.Thread | None = None
        self._closed = threading.Event()
        if store is not None and store.backlog():
            # Restarted with actions the server has not confirmed: they go as soon as it answers, resident or not.
            self.is_online = False
            self._start_prober()

    @classmethod
    def from_settings(cls, settings: Sip2ClientSettings, local: Circulation, *,
                      store: StoreForward | None = None) -> Sip2Circulation:
        client = Sip2Client(settings.host, settings.port, user=settings.user, password=settings.password,
                            location=settings.location, institution=settings.institution,
                            encoding=settings.encoding, timeout_s=settings.timeout_s, retries=settings.retries)
        return cls(client, local, patron_id=settings.patron_id, store=store)

    # ------------------------------------------------------------------ wire
    def _call(self, name: str, send: Callable[[Sip2Client], Message]) -> Message:
        """One request; any failure to get a valid reply is `LibraryUnavailable`, which changes nothing here.

        After each login the server's status is asked once (is offline lending allowed?), and a non-empty offline
        journal is forwarded before the request itself, so it is answered after everything done offline."""
        with self._lock:
            try:
                if not self.client.logged_in:
                    if not self.client.login():
                        log.error("sip2 login to %s:%s refused", self.client.host, self.client.port)
                        raise LibraryUnavailable()
                    if name != "sc_status":
                        self._status_after_login()
                if self.store is not None and self.store.backlog():
                    report = self.store.forward(self.client, self.clock)
                    log.info("sip2 offline journal forwarded: %d applied, %d exceptions", report.applied,
                             report.exceptions)
                reply = send(self.client)
            except (Sip2Error, OSError) as exc:
                # The exception text names codes and hosts only, never a patron identifier.
                log.warning("sip2 %s failed: %s", name, type(exc).__name__)
                self.client.close()
                self._connectivity(False)
                raise LibraryUnavailable() from None
        self._connectivity(True)
        return reply

    def _connectivity(self, online: bool) -> None:
        """Report a change; while the library system is away, a probe (SC Status every `probe_interval_s`)
        notices its return even if nobody scans, so the badge does not outlive the outage."""
        if online == self.is_online:
            return
        self.is_online = online
        hook = self.on_connectivity
        if hook is not None:
            try:
                hook(online)
            except Exception:
                log.exception("sip2 connectivity hook failed")
        if not online:
            self._start_prober()

    def _start_prober(self) -> None:
        if self._prober is None or not self._prober.is_alive():
            self._prober = threading.Thread(target=self._probe_until_online, name="sip2-probe", daemon=True)
            self._prober.start()

    def _probe_until_online(self) -> None:
        while not self.is_online and not self._closed.wait(self.probe_interval_s):
            try:
                self.status()
            except Refusal:
                continue
            except Exception:
                # e.g. the kiosk database refused an exception row while forwarding: try again next round.
                log.exception("sip2 probe failed")

    def status(self) -> Message:
        """SC Status (99): whether the server is online and allows offline transactions (`offline_ok`)."""
        reply = self._call("sc_status", lambda c: c.sc_status())
        self._remember_status(reply)
        return reply

    def _status_after_login(self) -> None:
        """Ask SC Status once per login; a server that answers it strangely still lends online (its
        `offline_ok` stays what it was), only a lost connection counts as unreachable."""
        try:
            self._remember_status(self.client.sc_status())
        except Sip2ConnectionError:
            raise
        except Sip2Error as exc:
            log.warning("sip2 sc_status after login not understood: %s", type(exc).__name__)

    def _remember_status(self, reply: Message) -> None:
        self.offline_ok = reply.fixed.get("offline_ok") == "Y"
        self.library_name = reply.get("AM") or ""
        if self.store is not None:
            self.store.remember_offline_ok(self.offline_ok, self.clock())

    def _lends_offline(self) -> bool:
        """May the kiosk go on without the server? Only while it is unreachable (a refused login is not an
        outage: nothing would ever forward) and only where it said `offline_ok = Y`."""
        return not self.is_online and self.store is not None and self.store.may_lend_offline

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            self.client.close()
            if self.store is not None:
                self.store.close()

    # ------------------------------------------------------------------ context
    def branch(self) -> BranchRef:
        """The room's own branch, with self-registration off: only the library system issues cards."""
        branch = self.local.branch()
        policy: LendingPolicy = replace(branch.policy, self_registration=False)
        return replace(branch, policy=policy)

    def _due(self, text: str | None) -> datetime | None:
        """A due date as SIP2 servers send it: the 18-character form, or a bare `YYYYMMDD` / ISO date (some
        Evergreen and Interlib configurations); a time without zone is the branch's local time."""
        if not text:
            return None
        text = text.strip()
        moment: datetime | None = None
        try:
            moment = parse_date(text) if len(text) == 18 else None
        except Sip2Error:
            # A zone other than UTC or blank ("CST ", "+080"…): read the date and time as the branch's own.
            try:
                moment = datetime.strptime(text[:8] + text[12:], "%Y%m%d%H%M%S")
            except ValueError:
                moment = None
        if moment is None:
            for pattern, length in (("%Y-%m-%d %H:%M:%S", 19), ("%Y-%m-%dT%H:%M:%S", 19), ("%Y-%m-%d", 10),
                                    ("%Y%m%d", 8)):
                try:
                    moment = datetime.strptime(text[:length], pattern)
                    break
                except ValueError:
                    continue
        if moment is None:
            return None
        if moment.tzinfo is None:
            if moment.hour == moment.minute == moment.second == 0:
                moment = moment.replace(hour=23, minute=59, second=59)  # a date alone: due at the end of that day
            moment = moment.replace(tzinfo=self.branch().tz)
        return moment.astimezone(UTC)

    # ------------------------------------------------------------------ patrons
    def identifier_for(self, card: CardPresented) -> str | None:
        """What goes into AA for this card, or None when the configured mapping does not allow sending it."""
        if self.patron_id_mode == "card_key":
            return card.key
        if self.patron_id_mode == "card_number" and card.kind in PERSON_CARDS:
            return None  # an ID number is sent only with `patron_id = "id_number"`
        return card.patron_identifier or None

    def find_card(self, card: CardPresented) -> int | None:
        """Patron Status (23): does the library system know this card? (`BL` valid patron)."""
        identifier = self.identifier_for(card)
        if not identifier:
            return None
        try:
            reply = self._call("patron_status", lambda c: c.patron_status(identifier))
        except LibraryUnavailable:
            # Offline the card is taken on trust (the server checks it when the loans are forwarded), except a
            # resident ID card in `id_number` mode: its number would have to be journaled, and it never is.
            if not self._lends_offline() or (self.patron_id_mode == "id_number" and card.kind in PERSON_CARDS):
                raise
            return self._remember_patron(identifier, card, card.display_name)
        if reply.get("BL") != "Y":
            return None
        return self._remember_patron(identifier, card, mask_name(reply.get("AE") or "") or card.display_name)

    def _remember_patron(self, identifier: str, card: CardPresented, name: str) -> int:
        with self._lock:
            patron_id = self._by_identifier.pop(identifier, None)
            if patron_id is None:
                self._next_patron_id += 1
                patron_id = self._next_patron_id
            self._by_identifier[identifier] = patron_id  # most recent last
            while len(self._by_identifier) > REMEMBERED_PATRONS:
                # One visit at a time: identifiers of earlier visits are not kept (an ID number, in `id_number`
                # mode, should not sit in memory longer than it is useful).
                oldest = next(iter(self._by_identifier))
                self._patrons.pop(self._by_identifier.pop(oldest), None)
            self._patrons[patron_id] = _Patron(identifier, str(card.kind), card.masked_number, name,
                                               card_key=card.key)
        return patron_id

    def find_patron(self, card_key: str) -> int | None:
        """Without the card itself only `patron_id = "card_key"` can identify (the key is the identifier)."""
        if self.patron_id_mode != "card_key":
            return None
        return self.find_card(CardPresented("sip2", CardKind.LIBRARY_CARD, card_key, ""))

    def _patron(self, patron_id: int) -> _Patron:
        patron = self._patrons.get(patron_id)
        if patron is None:
            raise UnknownCard()
        return patron

    def touch_patron(self, patron_id: int, *, card_valid_until: date | None) -> None:
        """Nothing to record: the library system logged the visit with Patron Status."""

    def register(self, *, card_kind: str, card_key: str, masked_card: str, display_name: str,
                 card_valid_until: date | None) -> int:
        """Cards are issued by the library system, never at this kiosk (`branch()` turns self-registration off)."""
        raise UnknownCard()

    def _loan_id(self, barcode: str) -> int:
        loan_id = self._loan_ids.get(barcode)
        if loan_id is None:
            loan_id = len(self._loan_ids) + 1
            self._loan_ids[barcode] = loan_id
            self._barcodes[loan_id] = barcode
        return loan_id

    def item_info(self, barcode: str) -> _ItemInfo:
        reply = self._call("item_information", lambda c: c.item_information(barcode))
        info = _ItemInfo(reply.get("AJ") or "", reply.fixed.get("circulation_status", "01"),
                         self._due(reply.get("AH")))
        if info.title:
            self._items[barcode] = info
        return info

    def _blocks(self, flags: str, reply: Message, policy: LendingPolicy) -> list[Refusal]:
        screen = _screen(reply)
        if flags[:1] != "Y":
            return []
        if flags[4:5] == "Y":
            return [PatronBlocked(reason="card_lost", screen_message=screen)]
        if flags[6:7] == "Y":
            return [PatronBlocked(reason="overdue", days=policy.block_when_overdue_days, screen_message=screen)]
        if flags[10:11] == "Y" or flags[11:12] == "Y":
            amount = reply.get("BV") or ""
            return [PatronBlocked(reason="fines", amount=amount, screen_message=screen)]
        if flags[5:6] == "Y":
            return []  # at the loan limit: the standing's loan count says so, borrowing raises LoanLimitReached
        return [_remote(screen)]

    def standing(self, patron_id: int) -> PatronStanding:
        """Patron Information (63) with the charged items; titles and due dates from Item Information (17).

        Offline (where allowed): the loans this card made offline, since the server's list cannot be asked."""
        patron = self._patron(patron_id)
        policy = self.branch().policy
        try:
            return self._online_standing(patron_id, patron, policy)
        except LibraryUnavailable:
            if not self._lends_offline():
                raise
        assert self.store is not None
        loans = tuple(LoanRecord(-stored.seq, 0, stored.barcode, self._title(stored.barcode), stored.at,
                                 stored.due_at, 0, False) for stored in self.store.stored_loans(patron.card_key))
        max_loans = patron.max_loans or policy.max_loans
        record = PatronRecord(patron_id, patron.card_kind, patron.masked_card, patron.display_name, "active", None,
                              max_loans)
        return PatronStanding(record, loans, max_loans, (), 0)

    def _title(self, barcode: str) -> str:
        known = self._items.get(barcode)
        return known.title if known is not None and known.title else barcode

    def _online_standing(self, patron_id: int, patron: _Patron, policy: LendingPolicy) -> PatronStanding:
        reply = self._call("patron_information", lambda c: c.patron_information(patron.identifier, charged=True))
        flags = reply.fixed.get("patron_status", " " * 14)
        loans: list[LoanRecord] = []
        now = self.clock()
        for barcode in reply.get_all("AU"):
            barcode = barcode.strip()
            info = self._items.get(barcode) or self.item_info(barcode)
            due = info.due_at or now
            loans.append(LoanRecord(self._loan_id(barcode), 0, barcode, info.title or barcode, due, due, 0, False))
        limit = reply.get("CB") or ""
        patron.max_loans = int(limit) if limit.isdigit() and int(limit) > 0 else policy.max_loans
        patron.charged = len(loans)
        patron.renew_denied = flags[1:2] == "Y"
        overdue_text = reply.fixed.get("overdue_items_count", "0")
        overdue = int(overdue_text) if overdue_text.isdigit() else sum(1 for loan in loans if loan.due_at < now)
        blocks = self._blocks(flags, reply, policy)
        status = "active" if not blocks else "barred"
        record = PatronRecord(patron_id, patron.card_kind, patron.masked_card, patron.display_name, status, None,
                              patron.max_loans)
        return PatronStanding(record, tuple(sorted(loans, key=lambda loan: loan.due_at)), patron.max_loans,
                              tuple(blocks), overdue)

    def renewal_refusal(self, patron: Any, loan: Any, reserved: bool, policy: LendingPolicy, now: datetime,
                        title: str) -> RenewalRefused | None:
        """Only what the library system already said (renewal privileges denied); otherwise it decides on Renew."""
        if getattr(loan, "loan_id", 1) < 0:
            return offline_renewal_refused(title)
        if self._lends_offline():
            return RenewalRefused(title=title, reason="library_offline")
        known = self._patrons.get(patron.id)
        if patron.status != "active" or (known is not None and known.renew_denied):
            return RenewalRefused(title=title, reason="blocked")
        return None

    # ------------------------------------------------------------------ lending
    def checkout(self, patron_id: int, barcode: str) -> CheckoutResult:
        patron = self._patron(patron_id)
        try:
            reply = self._call("checkout", lambda c: c.checkout(patron.identifier, barcode))
        except LibraryUnavailable:
            if not self._lends_offline():
                raise
            return self._store_checkout(patron, barcode)
        title = reply.get("AJ") or ""
        if reply.fixed.get("ok") == "1":
            due = self._due(reply.get("AH"))
            if due is None:
                due = self.local.due_date(self.clock(), self.branch().policy.loan_days)
            self._items[barcode] = _ItemInfo(title or barcode, "04", due)
            patron.charged += 1
            max_loans = patron.max_loans or self.branch().policy.max_loans
            return CheckoutResult(self._loan_id(barcode), barcode, title or barcode, due, patron.charged, max_loans)
        raise self._checkout_refusal(patron, barcode, title, reply)

    def _store_checkout(self, patron: _Patron, barcode: str) -> CheckoutResult:
        """Journal a loan while the server is away: refused only when this kiosk itself knows better (the copy
        is on an offline loan already, the card is at its limit or at the offline limit)."""
        assert self.store is not None
        if self.patron_id_mode == "id_number" and patron.card_kind in PERSON_CARDS:
            # The journal would have to hold the resident's ID number to forward this loan: never. (Identified
            # while the server answered, the card got here only because the server dropped before the scan.)
            raise LibraryUnavailable()
        policy = self.branch().policy
        title = self._title(barcode)
        stored = self.store.stored_loans(patron.card_key)
        holder = self.store.offline_holder(barcode)
        if holder is not None:
            mine = next((loan for loan in stored if loan.barcode == barcode), None)
            if holder == patron.card_key and mine is not None:
                raise AlreadyOnYourCard(title=title, loan_id=-mine.seq, due_at=mine.due_at.isoformat())
            raise ItemOnLoanElsewhere(title=title)
        max_loans = patron.max_loans or policy.max_loans
        if patron.charged + len(stored) >= max_loans:
            raise LoanLimitReached(count=patron.charged + len(stored), max=max_loans)
        now = self.clock()
        due = self.local.due_date(now, policy.loan_days)
        action_id, seq, count = self.store.store_checkout(card_key=patron.card_key, identifier=patron.identifier,
                                                          barcode=barcode, at=now, due_at=due)
        return OfflineCheckoutResult(-seq, barcode, title, due, patron.charged + count, max_loans, uuid=action_id)

    def _checkout_refusal(self, patron: _Patron, barcode: str, title: str, reply: Message) -> Refusal:
        """Name the reason as the local rules would, from what the server says about the patron and the item."""
        screen = _screen(reply)
        standing = self.standing(next(pid for pid, known in self._patrons.items() if known is patron))
        info = self.item_info(barcode)
        title = info.title or title
        if not info.title and not title:
            if looks_like_isbn(barcode):
                return IsbnNotItem(barcode=barcode, screen_message=screen)
            return ItemNotFound(barcode=barcode, screen_message=screen)
        mine = next((loan for loan in standing.loans if loan.barcode == barcode), None)
        if mine is not None:
            return AlreadyOnYourCard(title=title, loan_id=mine.loan_id, due_at=mine.due_at.isoformat(),
                                     screen_message=screen)
        if info.status in ("04", "05"):
            return ItemOnLoanElsewhere(title=title, screen_message=screen)
        if info.status in NOT_LOANABLE:
            return ItemNotLoanable(title=title, status=NOT_LOANABLE[info.status], screen_message=screen)
        if standing.blocks:
            block = standing.blocks[0]
            return type(block)(**{**block.params, "title": title})
        if len(standing.loans) >= standing.max_loans:
            return LoanLimitReached(count=len(standing.loans), max=standing.max_loans, screen_message=screen)
        return _remote(screen, title=title)

    def checkin(self, barcode: str) -> CheckinResult:
        try:
            reply = self._call("checkin", lambda c: c.checkin(barcode))
        except LibraryUnavailable:
            if not self._lends_offline():
                raise
            assert self.store is not None
            title = self._title(barcode)
            action_id = self.store.store_checkin(barcode=barcode, at=self.clock())
            self._items.pop(barcode, None)
            return OfflineCheckinResult(barcode, title, None, False, False, "", "", uuid=action_id)
        title = reply.get("AJ") or ""
        self._items.pop(barcode, None)
        if reply.fixed.get("ok") == "1":
            in_transit = reply.get("CV") == "04"
            return CheckinResult(barcode, title or barcode, None, False, in_transit, reply.get("CT") or "",
                                 reply.get("AQ") or "")
        screen = _screen(reply)
        info = self.item_info(barcode)
        if not info.title and not title:
            if looks_like_isbn(barcode):
                raise IsbnNotItem(barcode=barcode, screen_message=screen)
            raise ItemNotFound(barcode=barcode, screen_message=screen)
        if info.status in ("03", "09"):
            raise NotOnLoan(title=info.title or title, screen_message=screen)
        raise _remote(screen, title=info.title or title)

    def renew(self, patron_id: int, loan_id: int) -> RenewResult:
        patron = self._patron(patron_id)
        if loan_id < 0 and self.store is not None:
            # Lent offline: the server has no such loan until it is forwarded.
            stored = next((s for s in self.store.stored_loans(patron.card_key) if -s.seq == loan_id), None)
            raise offline_renewal_refused(self._title(stored.barcode) if stored else "")
        barcode = self._barcodes.get(loan_id)
        if barcode is None:
            raise NotOnLoan(title="")
        try:
            reply = self._call("renew", lambda c: c.renew(patron.identifier, barcode))
        except LibraryUnavailable:
            if not self._lends_offline():
                raise
            raise RenewalRefused(title=self._title(barcode), reason="library_offline") from None
        title = reply.get("AJ") or (self._items[barcode].title if barcode in self._items else barcode)
        if reply.fixed.get("ok") == "1":
            due = self._due(reply.get("AH"))
            if due is None:
                due = self.local.due_date(self.clock(), self.branch().policy.renewal_days)
            self._items[barcode] = _ItemInfo(title, "04", due)
            return RenewResult(loan_id, barcode, title, due, 1)
        screen = _screen(reply)
        self._items.pop(barcode, None)
        raise RenewalRefused(title=title, reason="remote", message=screen, screen_message=screen)

    def record_rating(self, score: str, tags: tuple[str, ...] = ()) -> None:
        """Ratings are the room's own (anonymous) data: they stay in the kiosk's database."""
        self.local.record_rating(score, tags)

