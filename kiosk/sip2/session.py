"""One SIP2 client connection's conversation: login, then requests answered from a `LocalBackend`.

Kept free of sockets so every reply can be tested byte for byte; `kiosk.sip2.server` only moves lines.
Security flags carry meaning, because RFID stations act on them: `desensitize=Y` only when a checkout (or renewal)
really succeeded, `resensitize=Y` whenever the returned item is ours (so its alarm bit is set again).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from devices.identity import mask_name
from kiosk.errors import KioskError
from kiosk.i18n import translate
from kiosk.lending.errors import IsbnNotItem, ItemNotFound
from kiosk.lending.service import PatronStanding
from kiosk.sip2.codec import ChecksumError, Message, Sip2Error, decode, encode, format_date, make, parse_date, yn
from kiosk.sip2.local_backend import LocalBackend
from kiosk.sip2.settings import Sip2Account, Sip2Settings

log = logging.getLogger(__name__)

# BX, positions per SIP2 2.00: patron status, checkout, checkin, block patron, SC/ACS status, resend, login,
# patron information, end patron session, fee paid, item information, item status update, patron enable, hold,
# renew, renew all. Block patron, fee paid and hold are answered (decoded, never crash) but do nothing: N.
SUPPORTED_MESSAGES = "YYYNYYYYYNYNNNYY"

# SIP2 language codes: 001 English, 019 Chinese.
LANGUAGE_CODES = {"001": "en", "019": "zh_CN"}
SIP_LANGUAGE = {"en": "001", "zh_CN": "019"}

CIRCULATION_STATUS = {"available": "03", "on_loan": "04", "reference_only": "01", "lost": "12", "withdrawn": "01",
                      "in_transit": "10", "in_repair": "06"}

BLANK_PATRON_STATUS = " " * 14
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Sip2Session:
    """Answers one client. `handle(line)` returns the reply bytes, or None when the connection must close."""

    def __init__(self, settings: Sip2Settings, backends: Mapping[str, LocalBackend], *, clock: Clock = _utcnow,
                 max_errors: int = 10) -> None:
        self.settings = settings
        self.backends = backends
        self.clock = clock
        self.account: Sip2Account | None = None
        self.last_reply: bytes | None = None
        self.errors = 0
        self.max_errors = max_errors

    # ---------------------------------------------------------------- wire
    def handle(self, line: bytes) -> bytes | None:
        try:
            request = decode(line, encoding=self.settings.encoding)
        except ChecksumError:
            return self._error()
        except Sip2Error as exc:
            if exc.code == "97":
                return self.last_reply or self._error()
            return self._error()
        if request.code == "97":
            return self.last_reply or self._error()
        if request.code != "93" and self.account is None:
            log.info("sip2 request %s before login: closing", request.code)
            return None
        handler = self._handlers().get(request.code)
        if handler is None:
            return self._error()
        try:
            reply = handler(request)
        except Sip2Error:
            return self._error()
        except SQLAlchemyError as exc:
            # The database is unreachable or busy: the transaction rolled back, so asking for a resend (96) is
            # safe, and the client's retry usually succeeds; a dropped connection would look like our crash.
            log.warning("sip2 %s: database error %s: asking for a resend", request.code, type(exc).__name__)
            return self._error()
        self.errors = 0
        # With error detection on, the reply carries the request's sequence number (SIP2 "Error detection").
        data = encode(Message(reply.code, reply.fixed, reply.fields, request.sequence),
                      encoding=self.settings.encoding)
        self.last_reply = data
        return data

    def _error(self) -> bytes | None:
        """Request SC resend (96); a client that sends nothing but garbage is disconnected."""
        self.errors += 1
        if self.errors > self.max_errors:
            return None
        return b"96\r"

    def _handlers(self) -> dict[str, Callable[[Message], Message]]:
        return {"93": self._login, "99": self._status, "23": self._patron_status, "63": self._patron_info,
                "11": self._checkout, "09": self._checkin, "29": self._renew, "65": self._renew_all,
                "17": self._item_info, "35": self._end_session, "01": self._block_patron, "15": self._hold,
                "37": self._fee_paid}

    # ---------------------------------------------------------------- helpers
    @property
    def backend(self) -> LocalBackend:
        assert self.account is not None
        return self.backends[self.account.institution]

    @property
    def institution(self) -> str:
        return self.account.institution if self.account else ""

    def _now(self) -> str:
        return format_date(self.clock())

    def _language(self, request: Message) -> str:
        return LANGUAGE_CODES.get(request.fixed.get("language", ""), self.settings.language)

    def _text(self, key: str, language: str, **params: object) -> str:
        return translate(key, language, **params).replace("|", "/")

    def _refusal_text(self, error: Exception, language: str) -> str:
        if isinstance(error, KioskError):
            return self._text(error.key, language, **error.params)
        return self._text("sip2.error", language)

    def _patron(self, request: Message) -> PatronStanding | None:
        return self.backend.find_patron(request.get("AA") or "")

    # ---------------------------------------------------------------- messages
    def _login(self, request: Message) -> Message:
        user, password = request.get("CN") or "", request.get("CO") or ""
        match = None
        for account in self.settings.accounts:
            same_user = hmac.compare_digest(account.user.encode(), user.encode())
            if hmac.compare_digest(account.password.encode(), password.encode()) and same_user:
                match = account
        if match is not None and match.institution in self.backends:
            self.account = match
            return make("94", {"ok": "1"})
        log.info("sip2 login refused")
        return make("94", {"ok": "0"})

    def _status(self, request: Message) -> Message:
        fixed = {"online_status": "Y", "checkin_ok": "Y", "checkout_ok": "Y", "acs_renewal_policy": "Y",
                 "status_update_ok": "N", "offline_ok": "N", "timeout_period": "030", "retries_allowed": "003",
                 "date_time_sync": self._now(), "protocol_version": "2.00"}
        assert self.account is not None
        fixed["offline_ok"] = yn(self.account.offline)
        return make("98", fixed, [("AO", self.institution), ("AM", self.backend.branch_name),
                                  ("BX", SUPPORTED_MESSAGES), ("AN", self.account.location or None)])

    def _status_flags(self, standing: PatronStanding | None) -> str:
        if standing is None:
            return "YYYY" + " " * 10
        flags = list(BLANK_PATRON_STATUS)
        if standing.blocks:
            flags[0] = flags[1] = "Y"
        if any(getattr(b, "params", {}).get("reason") == "card_lost" for b in standing.blocks):
            flags[4] = "Y"
        if len(standing.loans) >= standing.max_loans:
            flags[5] = "Y"
        if any(getattr(b, "params", {}).get("reason") == "overdue" for b in standing.blocks):
            flags[6] = "Y"
        if any(getattr(b, "params", {}).get("reason") == "fines" for b in standing.blocks):
            flags[10] = "Y"  # excessive outstanding fines (settled at the desk, never through 37)
        flags[3] = "Y"  # holds are not offered
        return "".join(flags)

    def _patron_fields(self, request: Message, standing: PatronStanding | None,
                       language: str) -> list[tuple[str, str | None]]:
        fields: list[tuple[str, str | None]] = [("AO", self.institution), ("AA", request.get("AA") or "")]
        if standing is None:
            return [*fields, ("AE", ""), ("BL", "N"), ("AF", self._text("sip2.unknown_patron", language))]
        fields += [("AE", mask_name(standing.patron.display_name)), ("BL", "Y")]
        for block in standing.blocks:
            fields.append(("AF", self._refusal_text(block, language)))
        return fields

    def _patron_status(self, request: Message) -> Message:
        language = self._language(request)
        standing = self._patron(request)
        fixed = {"patron_status": self._status_flags(standing), "language": SIP_LANGUAGE[language],
                 "transaction_date": self._now()}
        return make("24", fixed, self._patron_fields(request, standing, language))

    def _block_patron(self, request: Message) -> Message:
        """Block Patron (01) is answered with a Patron Status (24) as the spec asks; we do not block cards from a
        self-check machine (staff do that), so BX says N for it."""
        return self._patron_status(make("23", {"language": "000"}, list(request.fields)))

    def _patron_info(self, request: Message) -> Message:
        language = self._language(request)
        standing = self._patron(request)
        now = self.clock()
        loans = standing.loans if standing else ()
        overdue = [loan for loan in loans if loan.due_at < now]
        fixed = {"patron_status": self._status_flags(standing), "language": SIP_LANGUAGE[language],
                 "transaction_date": self._now(), "hold_items_count": "0000",
                 "overdue_items_count": f"{min(len(overdue), 9999):04d}",
                 "charged_items_count": f"{min(len(loans), 9999):04d}", "fine_items_count": "0000",
                 "recall_items_count": "0000", "unavailable_holds_count": "0000"}
        fields = self._patron_fields(request, standing, language)
        if standing is not None:
            fields.append(("CB", f"{standing.max_loans:04d}"))
        summary = request.fixed.get("summary", "")
        if summary[1:2] == "Y":
            fields += [("AT", loan.barcode) for loan in overdue]
        if summary[2:3] == "Y":
            fields += [("AU", loan.barcode) for loan in loans]
        return make("64", fixed, fields)

    def _forwarded_at(self, request: Message, key: str) -> datetime | None:
        """A store-and-forward date (`no_block = Y` from an account allowed offline); a zone-less one is the
        branch's local time. None for an online request, or when the date is blank or unreadable."""
        assert self.account is not None
        if request.fixed.get("no_block") != "Y" or not self.account.offline:
            return None
        text = request.fixed.get(key, "")
        if not text.strip():
            return None
        try:
            moment = parse_date(text)
        except Sip2Error:
            return None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=self.backend.circulation.branch().tz)

    def _forward(self, request: Message, action: str, at: datetime, code: str, fixed: dict[str, str],
                 base: list[tuple[str, str | None]], language: str) -> Message:
        """Answer a Checkout/Checkin the client made offline: applied as it happened, or refused with the reason
        a librarian will also find in `kiosk exceptions list`."""
        barcode = request.get("AB") or ""
        due = self._forwarded_at(request, "nb_due_date") if action == "checkout" else None
        if due is not None and due <= at:
            due = None  # a due date before the loan is a client's mistake: the branch's rules give it
        assert self.account is not None
        outcome = self.backend.forward(action, source=self.account.user, identifier=request.get("AA") or "",
                                       barcode=barcode, at=at, due_at=due)
        item = self.backend.item(barcode)
        title = item.title if item else ""
        if not outcome.applied:
            return make(code, fixed, [*base, ("AJ", title), ("AF", self._text(outcome.reason or "sip2.error",
                                                                              language, status=""))])
        if action == "checkout":
            fixed.update(ok="1", desensitize="Y")
            due_text = format_date(item.due_at) if item and item.due_at else None
            done = self._text("sip2.checkout_ok", language, title=title)
            return make(code, fixed, [*base, ("AJ", title), ("AH", due_text), ("AF", done)])
        fixed.update(ok="1", resensitize="Y")
        done = self._text("sip2.checkin_ok", language, title=title, branch="")
        return make(code, fixed, [*base, ("AQ", item.shelf_location if item else ""), ("AJ", title), ("AF", done)])

    def _checkout(self, request: Message) -> Message:
        language = self._language(request)
        barcode = request.get("AB") or ""
        patron_id = self.backend.find_patron_id(request.get("AA") or "")
        base: list[tuple[str, str | None]] = [("AO", self.institution), ("AA", request.get("AA") or ""),
                                               ("AB", barcode)]
        fixed = {"ok": "0", "renewal_ok": "N", "magnetic_media": "U", "desensitize": "N",
                 "transaction_date": self._now()}
        at = self._forwarded_at(request, "transaction_date")
        if at is not None:
            return self._forward(request, "checkout", at, "12", fixed, base, language)
        if patron_id is None:
            return make("12", fixed, [*base, ("AJ", ""), ("AF", self._text("sip2.unknown_patron", language))])
        try:
            result = self.backend.checkout(patron_id, barcode)
        except LookupError:
            self.backend.forget_patron_id(request.get("AA") or "")  # forgotten meanwhile
            return make("12", fixed, [*base, ("AJ", ""), ("AF", self._text("sip2.unknown_patron", language))])
        except KioskError as exc:
            return make("12", fixed, [*base, ("AJ", ""), ("AF", self._refusal_text(exc, language))])
        fixed.update(ok="1", desensitize="Y")
        done = self._text("sip2.checkout_ok", language, title=result.title)
        return make("12", fixed, [*base, ("AJ", result.title), ("AH", format_date(result.due_at)), ("AF", done)])

    def _checkin(self, request: Message) -> Message:
        language = self._language(request)
        barcode = request.get("AB") or ""
        fixed = {"ok": "0", "resensitize": "N", "magnetic_media": "U", "alert": "N",
                 "transaction_date": self._now()}
        base: list[tuple[str, str | None]] = [("AO", self.institution), ("AB", barcode)]
        at = self._forwarded_at(request, "return_date")
        if at is not None:
            return self._forward(request, "checkin", at, "10", fixed, base, language)
        try:
            result = self.backend.checkin(barcode)
        except (ItemNotFound, IsbnNotItem) as exc:
            # Not our item: leave its security alone.
            return make("10", fixed, [*base, ("AQ", ""), ("AF", self._refusal_text(exc, language))])
        except (KioskError, LookupError) as exc:
            # Ours but not on loan: it belongs on the shelf with its alarm on.
            item = self.backend.item(barcode)
            fixed.update(resensitize=yn(item is not None))
            where, title = (item.shelf_location, item.title) if item else ("", "")
            why = self._refusal_text(exc, language)
            return make("10", fixed, [*base, ("AQ", where), ("AJ", title), ("AF", why)])
        fixed.update(ok="1", resensitize="Y", alert=yn(result.in_transit))
        message = "sip2.checkin_transit" if result.in_transit else "sip2.checkin_ok"
        text = self._text(message, language, title=result.title, branch=result.home_branch)
        # CV 04 "send to other library" with CT the destination: what sorters and self-check machines route by.
        transit: list[tuple[str, str | None]] = [("CV", "04"), ("CT", result.home_branch)] if result.in_transit else []
        return make("10", fixed, [*base, ("AQ", result.shelf_location), ("AJ", result.title), ("AF", text), *transit])

    def _renew(self, request: Message) -> Message:
        language = self._language(request)
        barcode = request.get("AB") or ""
        standing = self._patron(request)
        base: list[tuple[str, str | None]] = [("AO", self.institution), ("AA", request.get("AA") or ""),
                                               ("AB", barcode)]
        fixed = {"ok": "0", "renewal_ok": "N", "magnetic_media": "U", "desensitize": "N",
                 "transaction_date": self._now()}
        if standing is None:
            return make("30", fixed, [*base, ("AJ", ""), ("AF", self._text("sip2.unknown_patron", language))])
        try:
            result = self.backend.renew(standing, barcode)
        except (KioskError, LookupError) as exc:
            return make("30", fixed, [*base, ("AJ", ""), ("AF", self._refusal_text(exc, language))])
        fixed.update(ok="1", renewal_ok="Y", desensitize="Y")
        done = self._text("sip2.renew_ok", language, title=result.title)
        return make("30", fixed, [*base, ("AJ", result.title), ("AH", format_date(result.due_at)), ("AF", done)])

    def _renew_all(self, request: Message) -> Message:
        language = self._language(request)
        standing = self._patron(request)
        renewed: list[str] = []
        refused: list[str] = []
        if standing is not None:
            for loan in standing.loans:
                try:
                    self.backend.renew(standing, loan.barcode)
                    renewed.append(loan.barcode)
                except (KioskError, LookupError):
                    refused.append(loan.barcode)
        fixed = {"ok": "1" if standing is not None else "0",
                 "renewed_count": f"{len(renewed):04d}", "unrenewed_count": f"{len(refused):04d}",
                 "transaction_date": self._now()}
        fields: list[tuple[str, str | None]] = [("AO", self.institution)]
        fields += [("BM", b) for b in renewed] + [("BN", b) for b in refused]
        if standing is None:
            fields.append(("AF", self._text("sip2.unknown_patron", language)))
        return make("66", fixed, fields)

    def _item_info(self, request: Message) -> Message:
        barcode = request.get("AB") or ""
        item = self.backend.item(barcode)
        fixed = {"circulation_status": "01", "security_marker": "00", "fee_type": "01",
                 "transaction_date": self._now()}
        if item is None:
            return make("18", fixed, [("AB", barcode), ("AJ", ""),
                                      ("AF", self._text("refusal.unknown_barcode", self.settings.language,
                                                        barcode=barcode))])
        fixed["circulation_status"] = CIRCULATION_STATUS.get(item.status, "01")
        return make("18", fixed, [("AB", barcode), ("AJ", item.title),
                                  ("AH", format_date(item.due_at) if item.due_at else None),
                                  ("AP", item.shelf_location or None)])

    def _end_session(self, request: Message) -> Message:
        return make("36", {"end_session": "Y", "transaction_date": self._now()},
                    [("AO", self.institution), ("AA", request.get("AA") or "")])

    def _hold(self, request: Message) -> Message:
        return make("16", {"ok": "0", "available": "N", "transaction_date": self._now()},
                    [("AO", self.institution), ("AA", request.get("AA") or ""),
                     ("AF", self._text("sip2.holds_not_supported", self.settings.language))])

    def _fee_paid(self, request: Message) -> Message:
        return make("38", {"payment_accepted": "N", "transaction_date": self._now()},
                    [("AO", self.institution), ("AA", request.get("AA") or ""),
                     ("AF", self._text("sip2.fees_not_supported", self.settings.language))])
