"""Circulation across the network: loans and returns per branch, cross-branch returns, copies in transit.

Borrow anywhere, return anywhere means a branch's shelves fill with other branches' books and empty of its own;
the district office plans the van runs from exactly these numbers: which branch lends to whom (a loan made at A and
returned at B is a flow A → B), how many copies sit in transit at each branch waiting to go home, and how many of
each branch's own copies are away. Loans are counted where they were made, returns where they were made, in the
branch's (or the network's) local days; the transit and open-loan figures are the state at `now`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from catalog.db import Database
from catalog.model import Branch, Item, ItemStatus, Loan, Title
from kiosk.i18n import translate
from kiosk.traffic.buckets import day_start
from kiosk.traffic.reports import resolve_scope


@dataclass(frozen=True)
class BranchCirculation:
    code: str
    name: str
    loans: int
    returns: int
    returns_from_elsewhere: int
    """Returned here, lent at another branch."""
    returned_elsewhere: int
    """Lent here, returned at another branch."""
    open_loans: int
    overdue: int
    in_transit_here: int
    """Copies of other branches sitting here in transit, waiting for the van."""
    own_in_transit: int
    """This branch's own copies in transit somewhere, on their way home."""


@dataclass(frozen=True)
class TransitCopy:
    barcode: str
    title: str
    at_branch: str
    home_branch: str
    since: datetime


@dataclass(frozen=True)
class Flow:
    lent_at: str
    returned_at: str
    count: int


@dataclass(frozen=True)
class CirculationReport:
    scope: str
    start: date
    end: date
    branches: tuple[BranchCirculation, ...]
    total: BranchCirculation
    flows: tuple[Flow, ...]
    """Cross-branch returns in the period, largest first."""
    transit: tuple[TransitCopy, ...]


def _grouped(session: Session, column: Any, *where: Any) -> Counter[int]:
    return Counter({k: int(n) for k, n in session.execute(select(column, func.count()).where(*where)
                                                           .group_by(column)) if k is not None})


def circulation_report(db: Database, *, start: date, end: date, branch: str | None,
                       network_tz: str = "Asia/Shanghai", now: datetime | None = None) -> CirculationReport:
    """`branch` is a code, or `*`/None for the whole network; raises UnknownBranch for a code not in the database."""
    if end < start:
        raise ValueError("the report ends before it starts")
    now = now or datetime.now(UTC)
    with db.read() as s:
        scope = resolve_scope(s, branch, network_tz)
        lo, hi = day_start(start, scope.tz), day_start(end + timedelta(days=1), scope.tz)
        names = {b.id: (b.code, b.name) for b in s.scalars(select(Branch).order_by(Branch.code))}
        lent = _grouped(s, Loan.branch_id, Loan.out_at >= lo, Loan.out_at < hi)
        in_period = (Loan.returned_at >= lo, Loan.returned_at < hi)
        returned = _grouped(s, Loan.return_branch_id, *in_period)
        flows: Counter[tuple[int, int]] = Counter({(a, b): int(n) for a, b, n in s.execute(
            select(Loan.branch_id, Loan.return_branch_id, func.count())
            .where(*in_period, Loan.return_branch_id != Loan.branch_id)
            .group_by(Loan.branch_id, Loan.return_branch_id)) if b is not None})
        open_loans = _grouped(s, Loan.branch_id, Loan.returned_at.is_(None))
        overdue = _grouped(s, Loan.branch_id, Loan.returned_at.is_(None), Loan.due_at < now)
        transit_here = _grouped(s, Item.current_branch_id, Item.status == ItemStatus.IN_TRANSIT)
        own_transit = _grouped(s, Item.home_branch_id, Item.status == ItemStatus.IN_TRANSIT)
        home, here = aliased(Branch), aliased(Branch)
        transit_rows = s.execute(
            select(Item.barcode, Title.title, here.code, home.code, Item.updated_at, Item.current_branch_id,
                   Item.home_branch_id)
            .join(Title, Title.id == Item.title_id).join(here, here.id == Item.current_branch_id)
            .join(home, home.id == Item.home_branch_id)
            .where(Item.status == ItemStatus.IN_TRANSIT).order_by(Item.updated_at, Item.barcode)).all()
    ids = set(scope.branch_ids)
    rows = tuple(BranchCirculation(
        code, name, lent[i], returned[i],
        sum(n for (a, b), n in flows.items() if b == i), sum(n for (a, b), n in flows.items() if a == i),
        open_loans[i], overdue[i], transit_here[i], own_transit[i]) for i, (code, name) in names.items() if i in ids)
    total = BranchCirculation(scope.code, scope.name, *(sum(getattr(r, f) for r in rows) for f in (
        "loans", "returns", "returns_from_elsewhere", "returned_elsewhere", "open_loans", "overdue",
        "in_transit_here", "own_in_transit")))
    return CirculationReport(
        scope.code, start, end, rows, total,
        tuple(Flow(names[a][0], names[b][0], n) for (a, b), n in sorted(flows.items(), key=lambda f: (-f[1], f[0]))
              if a in ids or b in ids),
        tuple(TransitCopy(barcode, title, at, to, since.astimezone(scope.tz))
              for barcode, title, at, to, since, at_id, home_id in transit_rows if at_id in ids or home_id in ids))


COLUMNS = ("branch", "loans", "returns", "returns_from_elsewhere", "returned_elsewhere", "open_loans", "overdue",
           "in_transit_here", "own_in_transit")


def branch_table(report: CirculationReport, language: str = "zh_CN") -> list[list[Any]]:
    """Header, one row per branch, then the scope's total."""
    table: list[list[Any]] = [[translate(f"circulation.report.{c}", language) for c in COLUMNS]]
    for row in (*report.branches, report.total):
        table.append([f"{row.code} {row.name}", *(getattr(row, c) for c in COLUMNS[1:])])
    return table


def flow_table(report: CirculationReport, language: str = "zh_CN") -> list[list[Any]]:
    table: list[list[Any]] = [[translate(f"circulation.report.{c}", language)
                               for c in ("lent_at", "returned_at", "count")]]
    return table + [[f.lent_at, f.returned_at, f.count] for f in report.flows]


def transit_table(report: CirculationReport, language: str = "zh_CN") -> list[list[Any]]:
    table: list[list[Any]] = [[translate(f"circulation.report.{c}", language)
                               for c in ("barcode", "title", "at_branch", "home_branch", "since")]]
    return table + [[t.barcode, t.title, t.at_branch, t.home_branch, t.since.strftime("%Y-%m-%d %H:%M")]
                    for t in report.transit]
