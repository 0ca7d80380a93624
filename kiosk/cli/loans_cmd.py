"""`kiosk loans overdue`: who has what past its due date, by masked card and name only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import aliased

from catalog.model import Branch, Item, Loan, Patron, Title
from kiosk.cli.catalog_cmd import echo_json, opened
from kiosk.cli.options import ConfigOption, JsonOption, fail, settings_from

loans_app = typer.Typer(help="Loans: overdue list.", no_args_is_help=True)


def overdue_rows(session: Any, now: datetime, branch_code: str | None) -> list[dict[str, Any]]:
    lender = aliased(Branch)
    query = (
        select(Loan.id, Loan.due_at, Loan.out_at, Loan.renewals, Item.barcode, Title.title, Patron.id,
               Patron.masked_card, Patron.display_name, lender.code)
        .join(Item, Item.id == Loan.item_id).join(Title, Title.id == Item.title_id)
        .join(lender, lender.id == Loan.branch_id)
        .outerjoin(Patron, Patron.id == Loan.patron_id)
        .where(Loan.returned_at.is_(None), Loan.due_at < now)
        .order_by(Loan.due_at, Loan.id)
    )
    if branch_code:
        query = query.where(lender.code == branch_code)
    rows = []
    for loan_id, due, out, renewals, barcode, title, patron_id, card, name, code in session.execute(query):
        rows.append({"loan_id": loan_id, "barcode": barcode, "title": title, "branch": code,
                     "patron_id": patron_id, "masked_card": card or "", "display_name": name or "",
                     "out_at": out, "due_at": due, "days_overdue": (now - due).days, "renewals": renewals})
    return rows


@loans_app.command("overdue")
def overdue(
    branch: Annotated[str | None, typer.Option("--branch", help="Only loans made at this branch.")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open loans past their due date, oldest first."""
    tz = settings_from(config).tz
    now = datetime.now(UTC)
    with opened(config) as db, db.read() as session:
        if branch and session.scalar(select(Branch.id).where(Branch.code == branch)) is None:
            raise fail(f"no branch {branch!r}")
        rows = overdue_rows(session, now, branch)
    if as_json:
        echo_json(rows)
        return
    table = Table(title=f"{len(rows)} overdue")
    for column in ("barcode", "title", "patron", "due", "days"):
        table.add_column(column)
    for r in rows:
        patron = f"#{r['patron_id']} {r['display_name']} {r['masked_card']}" if r["patron_id"] else "(anonymised)"
        table.add_row(r["barcode"], r["title"], patron, r["due_at"].astimezone(tz).strftime("%Y-%m-%d"),
                      str(r["days_overdue"]))
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(loans_app, name="loans")
