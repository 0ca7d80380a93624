"""`kiosk staff add|passwd|remove|list`: the people who may enter librarian mode or leave the kiosk screen."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from kiosk.bootstrap import network_secret, open_database
from kiosk.cli.options import ConfigOption, JsonOption, fail, settings_from
from kiosk.staff_accounts import StaffDirectory, StaffError, staff_card_key

staff_app = typer.Typer(help="Staff accounts: card + PIN for librarian mode.", no_args_is_help=True)
PinStdin = Annotated[bool, typer.Option("--pin-stdin", help="Read the PIN from standard input (for scripts).")]


def _read_pin(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().strip()
    return str(typer.prompt("PIN", hide_input=True, confirmation_prompt=True))


def _directory(config: str | None) -> tuple[StaffDirectory, bytes]:
    settings = settings_from(config)
    return StaffDirectory(open_database(settings), kiosk_id=settings.kiosk.id), network_secret(settings)


@staff_app.command("add")
def add(
    username: str,
    name: Annotated[str, typer.Option("--name", help="Name shown on the kiosk (e.g. 王老师).")] = "",
    card_number: Annotated[str | None, typer.Option("--card-number", help="Staff library-card number.")] = None,
    id_number: Annotated[str | None, typer.Option("--id-number", help="Use the staff member's ID card.")] = None,
    role: Annotated[str, typer.Option("--role")] = "librarian",
    pin_stdin: PinStdin = False,
    config: ConfigOption = None,
) -> None:
    """Add a staff member with a PIN and (to log in at the kiosk) a card."""
    directory, secret = _directory(config)
    try:
        key = staff_card_key(secret, card_number=card_number, id_number=id_number) \
            if (card_number or id_number) else None
        directory.add(username, _read_pin(pin_stdin), display_name=name, role=role, card_key_value=key)
    except (StaffError, ValueError) as exc:
        raise fail(str(exc)) from None
    finally:
        directory.db.dispose()
    typer.echo(f"added {username}" + ("" if key else " (no card: cannot log in at the kiosk until one is given)"))


@staff_app.command("passwd")
def passwd(username: str, pin_stdin: PinStdin = False, config: ConfigOption = None) -> None:
    """Set a new PIN (also lifts a lockout)."""
    directory, _ = _directory(config)
    try:
        directory.passwd(username, _read_pin(pin_stdin))
    except StaffError as exc:
        raise fail(str(exc)) from None
    finally:
        directory.db.dispose()
    typer.echo(f"PIN changed for {username}")


@staff_app.command("remove")
def remove(username: str, config: ConfigOption = None) -> None:
    """Deactivate a staff member (kept in the audit log, can no longer log in)."""
    directory, _ = _directory(config)
    try:
        directory.remove(username)
    except StaffError as exc:
        raise fail(str(exc)) from None
    finally:
        directory.db.dispose()
    typer.echo(f"removed {username}")


@staff_app.command("list")
def list_staff(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """List staff members and whether they are locked out."""
    directory, _ = _directory(config)
    try:
        rows = directory.list()
    finally:
        directory.db.dispose()
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in rows], ensure_ascii=False))
        return
    for r in rows:
        flags = ", ".join(f for f, on in (("card", r.has_card), ("LOCKED", r.locked), ("inactive", not r.active))
                          if on)
        typer.echo(f"{r.username:<16} {r.display_name:<12} {r.role:<10} {flags}")


def register(app: typer.Typer) -> None:
    app.add_typer(staff_app, name="staff")
