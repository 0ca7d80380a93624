"""`kiosk exceptions list|resolve`: what the offline replay could not apply, for the librarian to settle."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kiosk.cli.catalog_cmd import echo_json, opened
from kiosk.cli.options import ConfigOption, JsonOption, fail, settings_from
from kiosk.errors import KioskError
from kiosk.i18n import translate
from kiosk.offline.exceptions import list_exceptions, resolve_exception

exceptions_app = typer.Typer(help="Circulation exceptions left by offline replays.", no_args_is_help=True)


@exceptions_app.command("list")
def list_cmd(
    include_resolved: Annotated[bool, typer.Option("--all", help="Include resolved exceptions.")] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open exceptions, oldest first (exit 0 either way: an exception is work, not a failure)."""
    settings = settings_from(config)
    with opened(config) as db:
        rows = list_exceptions(db, include_resolved=include_resolved)
    if as_json:
        echo_json([r.to_json() for r in rows])
        return
    language = settings.kiosk.language
    table = Table(title=f"{len(rows)} {'exception(s)' if include_resolved else 'open exception(s)'}")
    for column in ("id", "when", "kiosk", "action", "barcode", "what happened", "resolved"):
        table.add_column(column)
    for r in rows:
        params = {k: v for k, v in r.detail.items() if isinstance(v, str | int)}
        table.add_row(str(r.id), r.created_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M"), r.kiosk_id,
                      r.action, r.barcode, translate(r.reason, language, **params),
                      f"{r.resolved_by}: {r.resolution}" if r.resolved_at else "")
    Console().print(table)


@exceptions_app.command("resolve")
def resolve_cmd(
    exception_id: Annotated[int, typer.Argument(help="The exception's id, from `kiosk exceptions list`.")],
    by: Annotated[str, typer.Option("--by", help="Who settled it (staff username).")],
    note: Annotated[str, typer.Option("--note", help="What was decided (e.g. 'copy was on the shelf').")] = "",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mark an exception settled, with who and what; the loan itself is fixed by an ordinary desk action."""
    settings = settings_from(config)
    with opened(config) as db:
        try:
            record = resolve_exception(db, exception_id, staff=by, note=note)
        except KioskError as exc:
            raise fail(translate(exc.key, settings.kiosk.language, **exc.params)) from None
        except ValueError as exc:
            raise fail(str(exc)) from None
    if as_json:
        echo_json(record.to_json())
        return
    typer.echo(f"exception {record.id} resolved by {record.resolved_by}")


def register(app: typer.Typer) -> None:
    app.add_typer(exceptions_app, name="exceptions")
