"""`kiosk items …`: copies on the shelf — add, mark lost / in repair / withdrawn, move.

A copy on loan cannot be marked or moved from here: its state belongs to circulation until it is returned (the
return desk, or the kiosk, checks it in first), so these commands refuse instead of silently ending a loan.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy import select

from catalog.model import Branch, Item, ItemStatus, Loan
from kiosk.cli.catalog_cmd import branch_code, echo_json, find_title, opened
from kiosk.cli.options import ConfigOption, JsonOption, fail

items_app = typer.Typer(help="Copies: add, lost, repair, withdraw, move.", no_args_is_help=True)

Barcode = Annotated[str, typer.Argument(help="The copy's barcode.")]


def _item(session: Any, barcode: str) -> Item:
    item = session.scalars(select(Item).where(Item.barcode == barcode.strip())).one_or_none()
    if item is None:
        raise fail(f"no copy with barcode {barcode!r}")
    return item


def _refuse_if_lent(session: Any, item: Item) -> None:
    lent = session.scalar(select(Loan.id).where(Loan.item_id == item.id, Loan.returned_at.is_(None)))
    if lent is not None or item.status == ItemStatus.ON_LOAN:
        raise fail(f"copy {item.barcode} is on loan: check it in first")


def _branch_id(session: Any, code: str) -> int:
    branch_id = session.scalar(select(Branch.id).where(Branch.code == code))
    if branch_id is None:
        raise fail(f"no branch {code!r}")
    return int(branch_id)


def _view(item: Item) -> dict[str, Any]:
    return {"barcode": item.barcode, "title_id": item.title_id, "status": item.status,
            "shelf_location": item.shelf_location, "home_branch_id": item.home_branch_id,
            "current_branch_id": item.current_branch_id}


@items_app.command("add")
def add(
    title: Annotated[str, typer.Argument(help="Title id, ISBN, or the barcode of another copy.")],
    barcode: Annotated[str, typer.Argument(help="The new copy's barcode.")],
    shelf: Annotated[str, typer.Option("--shelf", help='Shelf location, e.g. "A区 2排 3层".')] = "",
    reference: Annotated[bool, typer.Option("--reference", help="Reference only: not for loan.")] = False,
    branch: Annotated[str | None, typer.Option("--branch")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a copy of a title (refused when the barcode is already used)."""
    barcode = barcode.strip()
    if not barcode or not barcode.isprintable() or " " in barcode:
        raise fail(f"barcode {barcode!r} is empty or contains spaces")
    code = branch_code(config, branch)
    with opened(config) as db, db.unit_of_work() as session:
        target = find_title(session, title)
        other = session.scalars(select(Item).where(Item.barcode == barcode)).one_or_none()
        if other is not None:
            raise fail(f"barcode {barcode} is already a copy of title #{other.title_id}")
        branch_id = _branch_id(session, code)
        item = Item(barcode=barcode, title_id=target.id, home_branch_id=branch_id, current_branch_id=branch_id,
                    shelf_location=shelf.strip(),
                    status=ItemStatus.REFERENCE_ONLY if reference else ItemStatus.AVAILABLE)
        session.add(item)
        session.flush()
        result = {**_view(item), "title": target.title}
    if as_json:
        echo_json(result)
    else:
        typer.echo(f"added copy {barcode} of «{result['title']}»")


def _mark(barcode: str, status: ItemStatus, config: str | None, as_json: bool) -> None:
    with opened(config) as db, db.unit_of_work() as session:
        item = _item(session, barcode)
        _refuse_if_lent(session, item)
        before = item.status
        item.status = status
        result = {**_view(item), "previous_status": before}
    if as_json:
        echo_json(result)
    else:
        typer.echo(f"copy {result['barcode']}: {before} → {status.value}")


@items_app.command("lost")
def lost(barcode: Barcode, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Mark a copy lost (it disappears from the visitors' catalog)."""
    _mark(barcode, ItemStatus.LOST, config, as_json)


@items_app.command("repair")
def repair(barcode: Barcode, done: Annotated[bool, typer.Option("--done", help="Back on the shelf.")] = False,
           config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Send a copy to repair, or with --done put it back on the shelf."""
    _mark(barcode, ItemStatus.AVAILABLE if done else ItemStatus.IN_REPAIR, config, as_json)


@items_app.command("withdraw")
def withdraw(barcode: Barcode, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Withdraw one copy from the collection."""
    _mark(barcode, ItemStatus.WITHDRAWN, config, as_json)


@items_app.command("found")
def found(barcode: Barcode, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """A lost or withdrawn copy is back: make it available again."""
    _mark(barcode, ItemStatus.AVAILABLE, config, as_json)


@items_app.command("move")
def move(
    barcode: Barcode,
    shelf: Annotated[str | None, typer.Option("--shelf", help="New shelf location.")] = None,
    to_branch: Annotated[str | None, typer.Option("--branch", help="Branch code the copy now stands in.")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move a copy to another shelf and/or branch (its home branch stays)."""
    if shelf is None and to_branch is None:
        raise fail("give --shelf and/or --branch")
    with opened(config) as db, db.unit_of_work() as session:
        item = _item(session, barcode)
        _refuse_if_lent(session, item)
        if to_branch is not None:
            item.current_branch_id = _branch_id(session, to_branch)
        if shelf is not None:
            item.shelf_location = shelf.strip()
        result = _view(item)
    if as_json:
        echo_json(result)
    else:
        typer.echo(f"copy {result['barcode']} now at {result['shelf_location'] or '(no shelf)'} "
                   f"in branch #{result['current_branch_id']}")


def register(app: typer.Typer) -> None:
    app.add_typer(items_app, name="items")
