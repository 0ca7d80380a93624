"""The network circulation report: borrow anywhere, return anywhere, and what the van has to carry home."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kiosk.cli import app
from kiosk.lending.circulation_report import branch_table, circulation_report
from kiosk.lending.policy import LendingPolicy
from kiosk.lending.service import Circulation
from kiosk.traffic.ingest import UnknownBranch
from tests.kiosk.lending.conftest import Room

DAY = date(2026, 11, 23)


def _lend_and_return_across_branches(room: Room) -> None:
    """Lent at XW01: three of its copies and one of XW02's. One returned at XW02 (goes in transit home to XW01),
    one at home, XW02's copy at XW01 (in transit to XW02, but not a cross-branch return: lent and returned at XW01);
    one stays out and falls overdue."""
    other = Circulation(room.db, branch_code="XW02", kiosk_id="k2", network_policy=LendingPolicy(), clock=room.clock)
    for barcode in ("TS0000000", "TS0000001", "TS0000002"):
        room.circ.checkout(room.patron_id, barcode)
    room.circ.checkout(room.other_patron_id, "OTHER01")
    room.clock.advance(hours=2)
    assert other.checkin("TS0000000").in_transit
    assert not room.circ.checkin("TS0000001").in_transit
    assert room.circ.checkin("OTHER01").in_transit
    room.clock.advance(days=40)


def test_loans_returns_flows_and_transit_per_branch(room: Room) -> None:
    _lend_and_return_across_branches(room)
    report = circulation_report(room.db, start=DAY, end=DAY, branch="*", now=room.clock())
    by_code = {b.code: b for b in report.branches}
    home, other = by_code["XW01"], by_code["XW02"]
    assert (home.loans, home.returns, home.returns_from_elsewhere, home.returned_elsewhere) == (4, 2, 0, 1)
    assert (home.open_loans, home.overdue, home.in_transit_here, home.own_in_transit) == (1, 1, 1, 1)
    assert (other.loans, other.returns, other.returns_from_elsewhere, other.returned_elsewhere) == (0, 1, 1, 0)
    assert (other.open_loans, other.in_transit_here, other.own_in_transit) == (0, 1, 1)
    assert (report.total.loans, report.total.returns, report.total.in_transit_here) == (4, 3, 2)
    assert [(f.lent_at, f.returned_at, f.count) for f in report.flows] == [("XW01", "XW02", 1)]
    assert {(t.barcode, t.at_branch, t.home_branch) for t in report.transit} == {
        ("TS0000000", "XW02", "XW01"), ("OTHER01", "XW01", "XW02")}
    assert branch_table(report, "en")[0][:3] == ["Branch", "Loans", "Returns"]

    # One branch sees its flows and the copies it waits for.
    report = circulation_report(room.db, start=DAY, end=DAY, branch="XW02", now=room.clock())
    assert [b.code for b in report.branches] == ["XW02"] and report.total.returns == 1
    assert [(f.lent_at, f.returned_at) for f in report.flows] == [("XW01", "XW02")]
    assert {t.barcode for t in report.transit} == {"TS0000000", "OTHER01"}

    # Days outside the period count nothing, but the state is the state now.
    report = circulation_report(room.db, start=date(2026, 11, 1), end=date(2026, 11, 22), branch="*",
                                now=room.clock())
    assert (report.total.loans, report.total.returns, report.flows) == (0, 0, ())
    assert report.total.open_loans == 1 and len(report.transit) == 2
    with pytest.raises(UnknownBranch):
        circulation_report(room.db, start=DAY, end=DAY, branch="NOPE")
    with pytest.raises(ValueError):
        circulation_report(room.db, start=DAY, end=date(2026, 11, 1), branch="*")


def test_the_cli_reports_the_network(room: Room, database_url: str, kiosk_env: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _lend_and_return_across_branches(room)
    monkeypatch.setenv("KIOSK_DATABASE_URL", database_url)
    monkeypatch.setenv("KIOSK_KIOSK_BRANCH", "XW01")
    runner = CliRunner()
    result = runner.invoke(app, ["report", "circulation", "--network", "--from", "2026-11-23", "--to", "2026-11-23",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["scope"] == "*" and data["flows"] == [{"lent_at": "XW01", "returned_at": "XW02", "count": 1}]
    table = runner.invoke(app, ["report", "circulation", "--from", "2026-11-23", "--to", "2026-11-23",
                                "--language", "en"])
    assert table.exit_code == 0 and "XW01" in table.output and "XW02 " not in table.output.split("Lent at")[0]
    bad = runner.invoke(app, ["report", "circulation", "--branch", "NOPE", "--from", "2026-11-23",
                              "--to", "2026-11-23"])
    assert bad.exit_code != 0 and "NOPE" in bad.output


def test_a_copy_in_transit_is_shelved_when_scanned_in_at_home_and_only_there(room: Room) -> None:
    from sqlalchemy import select

    from catalog.model import AuditEntry, Item, ItemStatus
    from kiosk.i18n import translate
    from kiosk.lending.errors import NotOnLoan
    from kiosk.session.visit import VisitMachine
    from kiosk.simulate_day import check_invariants

    _lend_and_return_across_branches(room)  # TS0000000 (home XW01) now in transit at XW02
    other = Circulation(room.db, branch_code="XW02", kiosk_id="k2", network_policy=LendingPolicy(), clock=room.clock)
    with pytest.raises(NotOnLoan):  # the van passing through another branch does not end the transit
        other.checkin("TS0000000")
    machine = VisitMachine(room.circ, idle_timeout_s=60, idle_warning_s=15)
    view = machine.scan("TS0000000")  # delivered home: scanned into XW01's return slot
    assert view.last is not None and view.last.key == "return.transit_received" and view.scans[-1].ok
    assert "A区" in translate(view.last.key, "zh_CN", **view.last.params)
    assert "(Zone A)" in translate(view.last.key, "en", **view.last.params)  # the shelf mark in English too
    with room.db.read() as s:
        item = s.scalars(select(Item).where(Item.barcode == "TS0000000")).one()
        assert (item.status, item.current_branch_id) == (ItemStatus.AVAILABLE, room.branch_id)
        assert s.scalar(select(AuditEntry.outcome).where(AuditEntry.action == "transit_receive",
                                                         AuditEntry.item_id == item.id)) == "ok"
    assert check_invariants(room.db, LendingPolicy()) == []
    report = circulation_report(room.db, start=DAY, end=DAY, branch="*", now=room.clock())
    assert [t.barcode for t in report.transit] == ["OTHER01"] and report.total.own_in_transit == 1
    with pytest.raises(NotOnLoan):  # on the shelf now: a second scan is an ordinary "not on loan"
        room.circ.checkin("TS0000000")
