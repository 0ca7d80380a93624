"""`kiosk db …` and `kiosk secret …`: schema migrations and the network secret."""

from __future__ import annotations

import json

import typer
from sqlalchemy.exc import OperationalError

from catalog import schema
from catalog.db import Database
from kiosk.cli.options import ConfigOption, JsonOption, fail, settings_from
from kiosk.secret import create_secret

db_app = typer.Typer(help="Database schema: upgrade and status.", no_args_is_help=True)
secret_app = typer.Typer(help="The network secret that keys card hashes.", no_args_is_help=True)


def _connect(config: str | None) -> Database:
    settings = settings_from(config)
    if settings.is_embedded_database:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Database.from_url(settings.database_url, connect_timeout_s=settings.database.connect_timeout_s)


@db_app.command("upgrade")
def upgrade(config: ConfigOption = None) -> None:
    """Migrate the database to this code's schema (the only way a shared PostgreSQL is migrated)."""
    db = _connect(config)
    try:
        before = schema.database_heads(db.engine)
        schema.upgrade(db.engine, progress=lambda line: typer.echo(f"  {line}"))
        after = schema.database_heads(db.engine)
    except OperationalError as exc:
        raise fail(f"cannot reach the database {db.safe_url()}: {exc.orig}") from None
    finally:
        db.dispose()
    if before == after:
        typer.echo(f"already up to date ({', '.join(sorted(after))})")
    else:
        typer.echo(f"upgraded {', '.join(sorted(before)) or 'empty database'} → {', '.join(sorted(after))}")


@db_app.command("status")
def status(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Show the database URL (without password) and whether its schema matches this code."""
    db = _connect(config)
    try:
        have, want = schema.database_heads(db.engine), schema.code_heads()
    except OperationalError as exc:
        raise fail(f"cannot reach the database {db.safe_url()}: {exc.orig}") from None
    finally:
        db.dispose()
    current = have == want
    if as_json:
        typer.echo(json.dumps({"url": db.safe_url(), "database": sorted(have), "code": sorted(want),
                               "current": current}))
    else:
        typer.echo(f"database: {db.safe_url()}")
        typer.echo(f"schema:   {', '.join(sorted(have)) or 'empty'} (code needs {', '.join(sorted(want))})")
        typer.echo("status:   up to date" if current else "status:   needs `kiosk db upgrade`")
    if not current:
        raise typer.Exit(1)


@secret_app.command("init")
def secret_init(config: ConfigOption = None) -> None:
    """Create the network secret (once, for a new network; copy the file to every other kiosk)."""
    settings = settings_from(config)
    if settings.secret_file.exists():
        raise fail(f"{settings.secret_file} exists already; a network keeps one secret for life")
    create_secret(settings.secret_file)
    typer.echo(f"created {settings.secret_file} (mode 600): copy it to every kiosk of this network")


@secret_app.command("show-path")
def secret_path(config: ConfigOption = None) -> None:
    """Print where this kiosk keeps the network secret."""
    typer.echo(str(settings_from(config).secret_file))


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(secret_app, name="secret")
