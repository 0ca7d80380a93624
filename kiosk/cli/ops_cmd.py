"""`kiosk serve`, `kiosk db backup|restore` (added to the `db` group), `kiosk ops harden|disk`: unattended running."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from kiosk.cli.db_cmd import db_app
from kiosk.cli.options import ConfigOption, JsonOption, fail, settings_from
from kiosk.ops.backup import BackupError, create_backup, manifest_summary, restore_backup
from kiosk.ops.disk import disk_space
from kiosk.ops.instance import KioskAlreadyRunning
from kiosk.ops.permissions import harden_data_dir
from kiosk.ops.service import OpsRuntime
from kiosk.ops.settings import ops_settings

ops_app = typer.Typer(help="Unattended operation: file permissions, disk space.", no_args_is_help=True)


def backup(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Bundle to write (default: data_dir/backups/…).")]
    = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Back up the database (consistent while the kiosk runs) and the network secret into one 0600 bundle."""
    settings = settings_from(config)
    try:
        path, manifest = create_backup(settings, out)
    except BackupError as exc:
        raise fail(f"backup failed: {exc}") from None
    if as_json:
        typer.echo(json.dumps({"path": str(path), **manifest_summary(manifest)}, ensure_ascii=False))
    else:
        typer.echo(f"wrote {path} ({manifest.backend}, schema {', '.join(manifest.schema_heads) or 'empty'}, "
                   f"{'with' if 'network.secret' in manifest.files else 'WITHOUT'} network secret)")
        typer.echo("it holds the network secret: keep it as safely as the secret itself")


def restore(
    bundle: Annotated[Path, typer.Argument(help="A bundle written by `kiosk db backup`.")],
    force: Annotated[bool, typer.Option("--force", help="Restore even over a running kiosk, a different network "
                                        "secret, or an existing shared PostgreSQL schema.")] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Verify a bundle (checksums, schema, integrity_check) and restore its database and network secret."""
    settings = settings_from(config)
    try:
        result = restore_backup(settings, bundle, force=force)
    except BackupError as exc:
        raise fail(f"restore refused: {exc}") from None
    if as_json:
        typer.echo(json.dumps({"database": result.database, "secret": result.secret,
                               "journal_rows_added": result.journal_rows_added,
                               **manifest_summary(result.manifest)}, ensure_ascii=False))
    else:
        m = result.manifest
        typer.echo(f"restored {m.backend} backup of kiosk {m.kiosk_id} ({m.branch}) made {m.created_at}")
        typer.echo(f"database: {result.database}; network secret: {result.secret}")
        if result.journal_rows_added:
            typer.echo(f"offline journal: {result.journal_rows_added} action(s) from the backup added; they replay "
                       "when the database answers")


@ops_app.command("harden")
def harden(config: ConfigOption = None) -> None:
    """Make the data directory 0700 and every file in it and the secret 0600."""
    changed = harden_data_dir(settings_from(config))
    typer.echo(f"tightened {len(changed)} path(s)" + "".join(f"\n  {p}" for p in changed))


@ops_app.command("disk")
def disk(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Free space of the data directory's disk against the [ops] thresholds (exit 1 when low)."""
    settings = settings_from(config)
    space = disk_space(settings.data_dir, ops_settings(settings))
    if as_json:
        typer.echo(json.dumps({"path": str(space.path), "free_mb": space.free_mb,
                               "free_percent": round(space.free_percent, 1), "low": space.low}))
    else:
        typer.echo(f"{space.path}: {space.free_mb} MB free ({space.free_percent:.1f} %)"
                   + (" — LOW" if space.low else ""))
    if space.low:
        raise typer.Exit(1)


def beat_from_kivy_clock(ops: OpsRuntime, interval_s: float = 1.0) -> list[Any]:
    """The heartbeat comes from the UI's main loop: if Kivy's loop (where every tap and every core callback runs)
    hangs, the beats stop and so do the watchdog pings. READY is sent from the first frame, when the screen is up.
    Kivy is imported here, at the edge, so the core stays Kivy-free."""
    from kivy.clock import Clock

    return [Clock.schedule_interval(lambda _dt: ops.heartbeat.beat(), interval_s),
            Clock.schedule_once(lambda _dt: ops.ready("serving"), 0)]


def serve(
    config: ConfigOption = None,
    headless: Annotated[bool, typer.Option("--headless", help="No window (soak runs, CI).")] = False,
) -> None:
    """Run the kiosk as an unattended service: private files, instance lock, rotating logs, alerts, disk checks,
    daily backups and systemd watchdog pings (deploy/reading-room-kiosk.service runs this)."""
    from kiosk.app import run_kiosk

    settings = settings_from(config)
    ops = OpsRuntime(settings)
    try:
        ops.start()
    except KioskAlreadyRunning:
        raise fail(f"a kiosk is already running on {settings.data_dir}") from None
    try:
        beat_from_kivy_clock(ops)
        run_kiosk(settings, headless=headless, alerts=ops.alerts)
    finally:
        ops.stop()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    db_app.command("backup")(backup)
    db_app.command("restore")(restore)
    app.add_typer(ops_app, name="ops")
