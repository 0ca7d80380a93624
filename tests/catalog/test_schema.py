from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from catalog import schema
from catalog.db import Database
from catalog.model import Branch, Item, Loan, Title


def _branch_with_item(db: Database) -> tuple[int, int]:
    with db.unit_of_work() as s:
        branch = Branch(code="B1", name="测试书房")
        title = Title(title="红楼梦", authors="曹雪芹")
        s.add_all([branch, title])
        s.flush()
        item = Item(barcode="TS0001", title_id=title.id, home_branch_id=branch.id, current_branch_id=branch.id)
        s.add(item)
        s.flush()
        return branch.id, item.id


def test_fresh_database_is_at_code_heads(database: Database) -> None:
    assert schema.is_current(database.engine)


def test_timestamps_round_trip_as_aware_utc(database: Database) -> None:
    branch_id, item_id = _branch_with_item(database)
    due = datetime(2026, 12, 1, 8, 0, tzinfo=UTC) + timedelta(hours=8)
    with database.unit_of_work() as s:
        s.add(Loan(item_id=item_id, branch_id=branch_id, kiosk_id="k1", due_at=due))
    with database.read() as s:
        loan = s.scalars(select(Loan)).one()
    assert loan.due_at == due
    assert loan.due_at.tzinfo is not None


def test_naive_timestamps_are_refused(database: Database) -> None:
    branch_id, item_id = _branch_with_item(database)
    with pytest.raises(Exception, match="naive"), database.unit_of_work() as s:
        s.add(Loan(item_id=item_id, branch_id=branch_id, kiosk_id="k1", due_at=datetime(2026, 1, 1)))


def test_database_refuses_a_second_open_loan_of_one_item(database: Database) -> None:
    branch_id, item_id = _branch_with_item(database)
    due = datetime.now(UTC) + timedelta(days=30)
    with database.unit_of_work() as s:
        s.add(Loan(item_id=item_id, branch_id=branch_id, kiosk_id="k1", due_at=due))
    with pytest.raises(IntegrityError), database.unit_of_work() as s:
        s.add(Loan(item_id=item_id, branch_id=branch_id, kiosk_id="k2", due_at=due))
    with database.read() as s:
        assert len(s.scalars(select(Loan)).all()) == 1


def test_returned_loans_do_not_block_a_new_one(database: Database) -> None:
    branch_id, item_id = _branch_with_item(database)
    now = datetime.now(UTC)
    with database.unit_of_work() as s:
        s.add(Loan(item_id=item_id, branch_id=branch_id, kiosk_id="k1", due_at=now, returned_at=now))
        s.add(Loan(item_id=item_id, branch_id=branch_id, kiosk_id="k1", due_at=now + timedelta(days=1)))


def test_sqlite_runs_in_wal_with_foreign_keys(sqlite_database: Database) -> None:
    with sqlite_database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_unit_of_work_rolls_back_on_error(database: Database) -> None:
    with pytest.raises(RuntimeError), database.unit_of_work() as s:
        s.add(Branch(code="B9", name="x"))
        s.flush()
        raise RuntimeError("boom")
    with database.read() as s:
        assert s.scalars(select(Branch)).all() == []


def test_batch_work_gets_a_longer_statement_bound_for_its_own_transaction_only(database: Database) -> None:
    """PostgreSQL: the kiosk's 5 s bound (give up on a stuck server) would cancel a chunk of an import on a loaded
    server, so a batch unit of work raises it, and the next unit of work has the kiosk's bound again."""
    if database.is_sqlite:
        with database.unit_of_work(statement_timeout_s=600) as s:  # no bound to set: the same unit of work
            s.add(Branch(code="B8", name="x"))
        with database.read() as s:
            assert s.scalars(select(Branch.code)).all() == ["B8"]
        return
    with database.unit_of_work(statement_timeout_s=600) as s:
        assert s.connection().exec_driver_sql("SHOW statement_timeout").scalar() == "10min"
        s.connection().exec_driver_sql("SELECT pg_sleep(0.05)")
    with database.unit_of_work() as s:
        assert s.connection().exec_driver_sql("SHOW statement_timeout").scalar() == "5s"


def test_empty_database_is_reported_out_of_date(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database.from_url(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    try:
        with pytest.raises(schema.SchemaOutOfDate, match="kiosk db upgrade"):
            schema.check_current(db.engine)
    finally:
        db.dispose()
