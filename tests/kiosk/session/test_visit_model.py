"""The visit machine against a simple model (hypothesis stateful testing), on both databases.

The model knows only who holds which copy, which screen should show, whose visit it is and what this visit scanned.
Hypothesis drives random cards, scans, taps, finishes, cancels and idle timeouts; after every step the screen, the
patron shown, the loan count and the database (open loans and item statuses) must agree with the model, no patron
may exceed the limit, and the attract and rating screens must carry no personal data.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import select

from catalog.db import Database
from catalog.model import Branch, Item, ItemStatus, Loan, Patron, Title
from devices.events import CardKind, CardPresented
from kiosk.lending.policy import LendingPolicy
from kiosk.lending.service import Circulation
from kiosk.session.view import Screen
from kiosk.session.visit import VisitMachine

ITEMS = 4
MAX_LOANS = 2
IDLE_TIMEOUT_S = 60.0
IDLE_WARNING_S = 15.0
PEOPLE = ("A", "B", "N")
"""A and B are known residents; N is a first-time card that must consent before it is stored."""
VISIT = {Screen.MENU, Screen.BORROWING, Screen.RETURNING, Screen.ACCOUNT}


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def build(db: Database) -> tuple[VisitMachine, Ticks, dict[str, str], list[str], dict[str, str]]:
    """A fresh branch with its own codes, so every hypothesis example starts from an empty room in one database."""
    tag = uuid.uuid4().hex[:8]
    cards = {person: uuid.uuid4().hex + uuid.uuid4().hex for person in PEOPLE}
    barcodes = [f"M{tag}{n}" for n in range(ITEMS)]
    with db.unit_of_work() as s:
        branch = Branch(code=f"M{tag}", name="模型书房", timezone="Asia/Shanghai")
        s.add(branch)
        s.flush()
        title = Title(title="模型图书")
        s.add(title)
        s.flush()
        for code in barcodes:
            s.add(Item(barcode=code, title_id=title.id, home_branch_id=branch.id, current_branch_id=branch.id))
        for person in ("A", "B"):
            s.add(Patron(card_kind="id_card", card_key=cards[person], masked_card="3201**********0000",
                         display_name=f"{person}*"))
        code = branch.code
    clock_at = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    circ = Circulation(db, branch_code=code, kiosk_id="model", network_policy=LendingPolicy(max_loans=MAX_LOANS),
                       clock=lambda: clock_at)
    ticks = Ticks()
    machine = VisitMachine(circ, idle_timeout_s=IDLE_TIMEOUT_S, idle_warning_s=IDLE_WARNING_S, monotonic=ticks)
    return machine, ticks, cards, barcodes, {v: k for k, v in cards.items()}


def make_model(db: Database) -> type[RuleBasedStateMachine]:
    class VisitModel(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.machine, self.ticks, self.cards, self.barcodes, self.person_of_key = build(db)
            self.holder: dict[str, str | None] = dict.fromkeys(self.barcodes)
            self.known = {"A", "B"}
            self.screen = Screen.ATTRACT
            self.current: str | None = None
            """Whose visit it is (a card accepted as a patron)."""
            self.card: str | None = None
            """The card of this visit, also while consent is pending."""
            self.scanned_ok: set[str] = set()
            self.receipt = False

        # ---------------------------------------------------------------- model helpers
        def _end_visit(self, screen: Screen) -> None:
            self.screen, self.current, self.card = screen, None, None
            self.scanned_ok, self.receipt = set(), False

        def _welcome(self, person: str) -> None:
            self._end_visit(Screen.MENU)
            self.current = self.card = person

        # ---------------------------------------------------------------- rules
        @rule(person=st.sampled_from(PEOPLE))
        def present_card(self, person: str) -> None:
            event = CardPresented(device="model", kind=CardKind.ID_CARD, key=self.cards[person],
                                  masked_number="3201**********0000", display_name=f"{person}*")
            self.machine.card(event)
            if self.card == person and self.screen != Screen.ATTRACT:
                return
            if person in self.known:
                self._welcome(person)
            else:
                self._end_visit(Screen.CONSENT)
                self.card = person

        @rule()
        def accept_consent(self) -> None:
            self.machine.accept_consent()
            if self.screen == Screen.CONSENT and self.card is not None:
                self.known.add(self.card)
                self._welcome(self.card)

        @rule(index=st.integers(0, ITEMS - 1))
        def scan(self, index: int) -> None:
            code = self.barcodes[index]
            self.machine.scan(code)
            if self.screen in (Screen.ATTRACT, Screen.RETURNING):
                self.screen = Screen.RETURNING
                if self.holder[code] is not None:
                    self.holder[code] = None
                    self.receipt = True
            elif self.screen in (Screen.MENU, Screen.BORROWING, Screen.ACCOUNT) and self.current is not None:
                self.screen = Screen.BORROWING
                if code in self.scanned_ok:
                    return
                mine = sum(1 for h in self.holder.values() if h == self.current)
                if self.holder[code] is None and mine < MAX_LOANS:
                    self.holder[code] = self.current
                    self.scanned_ok.add(code)
                    self.receipt = True

        @precondition(lambda self: self.screen in VISIT | {Screen.ATTRACT})
        @rule(screen=st.sampled_from([Screen.MENU, Screen.BORROWING, Screen.RETURNING, Screen.ACCOUNT]))
        def choose(self, screen: Screen) -> None:
            self.machine.choose(screen)
            if screen == Screen.RETURNING or self.current is not None:
                self.screen = screen

        @rule()
        def finish(self) -> None:
            self.machine.finish()
            if self.screen in VISIT or self.screen == Screen.CONSENT:
                if self.receipt:
                    self.screen = Screen.FINISHING
                else:
                    self._end_visit(Screen.RATING)
            elif self.screen in (Screen.FINISHING, Screen.RECEIPT):
                self._end_visit(Screen.RATING)
            elif self.screen == Screen.RATING:
                self._end_visit(Screen.ATTRACT)

        @rule(kind=st.sampled_from(["print", "screen", "none"]))
        def choose_receipt(self, kind: str) -> None:
            self.machine.choose_receipt(kind)
            if self.screen == Screen.FINISHING:
                if kind == "none":
                    self._end_visit(Screen.RATING)
                else:
                    self.screen = Screen.RECEIPT

        @rule(score=st.sampled_from(["good", "neutral", "bad"]))
        def rate(self, score: str) -> None:
            self.machine.rate(score)
            if self.screen == Screen.RATING:
                self._end_visit(Screen.ATTRACT)

        @rule()
        def cancel(self) -> None:
            self.machine.cancel()
            self._end_visit(Screen.ATTRACT)

        @rule()
        def idle_warning_then_touch(self) -> None:
            self.ticks.now += IDLE_TIMEOUT_S - IDLE_WARNING_S + 1
            view = self.machine.tick()
            if self.screen != Screen.ATTRACT:
                assert view.idle_warning_remaining_s is not None
                assert 0 < view.idle_warning_remaining_s <= IDLE_WARNING_S
            view = self.machine.touch()
            assert view.idle_warning_remaining_s is None

        @rule()
        def walk_away(self) -> None:
            self.ticks.now += IDLE_TIMEOUT_S + 1
            self.machine.tick()
            if self.screen != Screen.ATTRACT:
                self._end_visit(Screen.ATTRACT)

        # ---------------------------------------------------------------- invariants
        @invariant()
        def screen_matches(self) -> None:
            assert self.machine.view.screen == self.screen

        @invariant()
        def no_personal_data_outside_a_visit(self) -> None:
            view = self.machine.view
            if view.screen in (Screen.ATTRACT, Screen.RATING, Screen.CONSENT):
                assert view.patron is None
                assert view.loans == ()
                assert view.receipt is None

        @invariant()
        def the_patron_shown_is_the_visitor_with_their_count(self) -> None:
            view = self.machine.view
            if self.current is not None and view.screen in (Screen.MENU, Screen.BORROWING, Screen.ACCOUNT):
                assert view.patron is not None
                assert view.patron.masked_name == f"{self.current}*"
                assert view.patron.loans_count == sum(1 for h in self.holder.values() if h == self.current)
                assert view.patron.max_loans == MAX_LOANS

        @invariant()
        def database_agrees(self) -> None:
            with db.read() as s:
                rows = s.execute(
                    select(Item.barcode, Item.status, Patron.card_key)
                    .outerjoin(Loan, (Loan.item_id == Item.id) & Loan.returned_at.is_(None))
                    .outerjoin(Patron, Patron.id == Loan.patron_id)
                    .where(Item.barcode.in_(self.barcodes))
                ).all()
            actual = {code: (None if key is None else self.person_of_key[key]) for code, _, key in rows}
            assert actual == self.holder
            for code, status, key in rows:
                assert status == (ItemStatus.ON_LOAN if key is not None else ItemStatus.AVAILABLE), code
            for person in PEOPLE:
                assert sum(1 for h in actual.values() if h == person) <= MAX_LOANS

    return VisitModel


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_visit_machine_follows_the_model(database: Database) -> None:
    run_state_machine_as_test(
        make_model(database),
        settings=settings(max_examples=12, stateful_step_count=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]),
    )
