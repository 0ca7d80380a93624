"""`kiosk demo-data`: fill the database with the demo branch, catalog and residents (idempotent)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import OperationalError

from catalog.demo import DemoResident, load_demo
from catalog.schema import SchemaOutOfDate
from devices.events import CardKind
from devices.identity import mask_id_number, mask_name, person_key
from kiosk.bootstrap import network_secret, open_database
from kiosk.cli.options import ConfigOption, JsonOption, fail, settings_from


def demo_residents(secret: bytes) -> list[DemoResident]:
    """The fictional residents of `devices.idcard.demo_cards`, as the catalog may know them: keyed hash and masks."""
    from devices.idcard.demo_cards import DEMO_CARDS

    return [
        DemoResident(card_kind=CardKind.ID_CARD.value, card_key=person_key(secret, card.id_number),
                     masked_card=mask_id_number(card.id_number), display_name=mask_name(card.name),
                     valid_until=card.valid_to)
        for card in DEMO_CARDS
    ]


def demo_data(
    titles: Annotated[int | None, typer.Option("--titles", "-n", min=0,
                                                help="How many titles (default: kiosk.demo_data_titles).")] = None,
    config: ConfigOption = None,
    branch: Annotated[str | None, typer.Option("--branch", help="Branch code (default: kiosk.branch).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Build the demo branch: a 24-hour reading room with its catalog, copies, events, audio books and residents."""
    settings = settings_from(config)
    wanted = settings.kiosk.demo_data_titles if titles is None else titles
    code = branch or settings.kiosk.branch
    try:
        db = open_database(settings)
    except SchemaOutOfDate as exc:
        raise fail(str(exc)) from None
    except OperationalError as exc:
        raise fail(f"cannot reach the database: {exc.orig}") from None
    try:
        residents = demo_residents(network_secret(settings))
        with Progress(TextColumn("[bold]demo catalog"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      disable=as_json, transient=False) as bar:
            task = bar.add_task("titles", total=wanted)
            report = load_demo(db, titles=wanted, branch_code=code, residents=residents,
                               progress=lambda done, total: bar.update(task, completed=done))
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps({"branch": code, **report.__dict__}, ensure_ascii=False))
        return
    typer.echo(f"branch {code}: {'created' if report.branch_created else 'kept'}")
    typer.echo(f"titles: {report.titles_added} added, {report.titles_existing} already there; "
               f"copies added: {report.items_added}")
    typer.echo(f"residents added: {report.patrons_added}; events added: {report.events}; "
               f"announcements added: {report.announcements}; audio books added: {report.audio_books}")


def register(app: typer.Typer) -> None:
    app.command("demo-data")(demo_data)
