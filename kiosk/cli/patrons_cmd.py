"""`kiosk patrons …`: list, block, unblock, forget.

Patrons are named by their surrogate id, or by their resident ID number, which is hashed with the network secret
on the spot (the number itself is never stored nor printed). `forget` implements the PIPL right to deletion: the
card key and the masked card and name are erased and the loans unlinked, so that loan counts stay in the
statistics but nothing leads back to the person.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select, update

from catalog.model import Loan, Patron, PatronStatus
from devices.identity import InvalidIdNumber, person_key
from kiosk.bootstrap import network_secret
from kiosk.cli.catalog_cmd import echo_json, opened
from kiosk.cli.options import ConfigOption, JsonOption, fail, settings_from
from kiosk.errors import ConfigError

patrons_app = typer.Typer(help="Residents: list, block, unblock, forget (PIPL).", no_args_is_help=True)

PatronRef = Annotated[str, typer.Argument(help="Patron id, or the resident ID number (hashed, never stored).")]


def _find(session: Any, ref: str, config: str | None) -> Patron:
    ref = ref.strip()
    patron: Patron | None = None
    if ref.isdigit() and len(ref) < 18:
        patron = session.get(Patron, int(ref))
    else:
        try:
            secret = network_secret(settings_from(config))
            key = person_key(secret, ref)
        except InvalidIdNumber as exc:
            raise fail(f"not a patron id nor a valid ID number: {exc}") from None
        except ConfigError as exc:
            raise fail(f"cannot hash the ID number: {exc}") from None
        patron = session.scalars(select(Patron).where(Patron.card_key == key)).one_or_none()
    if patron is None or patron.status == PatronStatus.FORGOTTEN:
        raise fail("no such patron")
    return patron


def _view(p: Patron, open_loans: int = 0) -> dict[str, Any]:
    return {"id": p.id, "card_kind": p.card_kind, "masked_card": p.masked_card, "display_name": p.display_name,
            "status": p.status, "card_valid_until": p.card_valid_until, "open_loans": open_loans,
            "last_seen_at": p.last_seen_at, "note": p.note}


@patrons_app.command("list")
def list_patrons(
    status: Annotated[str | None, typer.Option("--status", help="active, barred, card_lost, …")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 100,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Patrons with masked card and name, status and open loans (forgotten patrons are not listed)."""
    if status is not None and status not in {s.value for s in PatronStatus}:
        raise fail(f"unknown status {status!r} (one of {', '.join(s.value for s in PatronStatus)})")
    with opened(config) as db, db.read() as session:
        loans = (select(Loan.patron_id, func.count().label("n")).where(Loan.returned_at.is_(None))
                 .group_by(Loan.patron_id).subquery())
        query = (select(Patron, func.coalesce(loans.c.n, 0)).outerjoin(loans, loans.c.patron_id == Patron.id)
                 .where(Patron.status != PatronStatus.FORGOTTEN.value).order_by(Patron.id).limit(limit))
        if status:
            query = query.where(Patron.status == status)
        rows = [_view(p, int(n)) for p, n in session.execute(query)]
    if as_json:
        echo_json(rows)
        return
    table = Table(title=f"{len(rows)} patrons")
    for column in ("id", "card", "name", "status", "valid until", "open loans", "note"):
        table.add_column(column)
    for r in rows:
        table.add_row(str(r["id"]), r["masked_card"], r["display_name"], r["status"],
                      str(r["card_valid_until"] or "长期"), str(r["open_loans"]), r["note"])
    Console().print(table)


def _set_status(ref: str, status: PatronStatus, reason: str, config: str | None, as_json: bool) -> None:
    with opened(config) as db, db.unit_of_work() as session:
        patron = _find(session, ref, config)
        patron.status = status
        if reason:
            patron.note = reason[:400]
        result = _view(patron)
    if as_json:
        echo_json(result)
    else:
        typer.echo(f"patron #{result['id']} ({result['display_name']}): {status.value}")


@patrons_app.command("block")
def block(ref: PatronRef, reason: Annotated[str, typer.Option("--reason", help="Shown to librarians.")] = "",
          config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Bar a patron from borrowing (returns still work)."""
    _set_status(ref, PatronStatus.BARRED, reason, config, as_json)


@patrons_app.command("unblock")
def unblock(ref: PatronRef, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Let a barred patron borrow again."""
    _set_status(ref, PatronStatus.ACTIVE, "", config, as_json)


@patrons_app.command("forget")
def forget(ref: PatronRef,
           yes: Annotated[bool, typer.Option("--yes", help="Do it (otherwise only say what would happen).")] = False,
           config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Erase a person's identity (PIPL): card key, masks and links from loans; loan counts stay anonymous."""
    with opened(config) as db, db.unit_of_work() as session:
        patron = _find(session, ref, config)
        open_loans = session.scalar(select(func.count()).select_from(Loan).where(
            Loan.patron_id == patron.id, Loan.returned_at.is_(None))) or 0
        if open_loans:
            raise fail(f"patron #{patron.id} still has {open_loans} books on loan: they must be returned first")
        loans = session.scalar(select(func.count()).select_from(Loan).where(Loan.patron_id == patron.id)) or 0
        if not yes:
            result = {"id": patron.id, "would_unlink_loans": loans, "done": False}
        else:
            session.execute(update(Loan).where(Loan.patron_id == patron.id).values(patron_id=None))
            patron.card_key = None
            patron.masked_card = ""
            patron.display_name = ""
            patron.card_valid_until = None
            patron.note = ""
            patron.consent_at = None
            patron.last_seen_at = None
            patron.status = PatronStatus.FORGOTTEN
            patron.forgotten_at = datetime.now(UTC)
            result = {"id": patron.id, "unlinked_loans": loans, "done": True}
    if as_json:
        echo_json(result)
    elif yes:
        typer.echo(f"patron #{result['id']} forgotten; {loans} past loans kept without a patron")
    else:
        typer.echo(f"would forget patron #{result['id']} and unlink {loans} past loans: add --yes to do it")


def register(app: typer.Typer) -> None:
    app.add_typer(patrons_app, name="patrons")
