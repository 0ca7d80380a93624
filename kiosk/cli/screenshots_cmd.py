"""`kiosk screenshots --out DIR`: every screen and state, zh and en, normal and elder mode, at the three sizes.

Kivy is imported only inside the command (after `configure_kivy`), so other commands never open a window.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from kiosk.cli.options import ConfigOption, JsonOption, fail, settings_from

SIZES_HELP = "Comma-separated WIDTHxHEIGHT list (default: 1920x1080,1080x1920,1280x800)."


def _sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for part in text.split(","):
        try:
            width, height = (int(v) for v in part.lower().strip().split("x"))
        except ValueError:
            raise fail(f"--sizes: expected WIDTHxHEIGHT, got {part!r}") from None
        if not (320 <= width <= 7680 and 320 <= height <= 7680):
            raise fail(f"--sizes: {part} is outside 320–7680 pixels")
        sizes.append((width, height))
    return sizes


def screenshots(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the PNG files into.")],
    sizes: Annotated[str, typer.Option("--sizes", help=SIZES_HELP)] = "1920x1080,1080x1920,1280x800",
    languages: Annotated[str, typer.Option("--languages", help="Comma-separated: zh_CN,en.")] = "zh_CN,en",
    elder: Annotated[str, typer.Option("--elder", help="both, on or off.")] = "both",
    states: Annotated[str, typer.Option("--states", help="Comma-separated states (default: all).")] = "",
    curated: Annotated[bool, typer.Option("--curated", help="Only the small set kept in docs/screenshots.")] = False,
    catalog: Annotated[bool, typer.Option(
        "--catalog/--demo-values",
        help="Browse screens from the configured database (after `kiosk demo-data`) or from built-in demo values.",
    )] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Render the touch screen headless with demo data and save one PNG per screen state."""
    settings = settings_from(config)
    langs = [lang.strip() for lang in languages.split(",") if lang.strip()]
    for lang in langs:
        if lang not in ("zh_CN", "en"):
            raise fail(f"--languages: unknown language {lang!r} (zh_CN, en)")
    modes = {"both": [False, True], "on": [True], "off": [False]}.get(elder)
    if modes is None:
        raise fail("--elder: expected both, on or off")
    size_list = _sizes(sizes)
    from ui.demo import all_states

    known = all_states()
    chosen = [s.strip() for s in states.split(",") if s.strip()] or known
    unknown = [s for s in chosen if s not in known]
    if unknown:
        raise fail(f"--states: unknown {', '.join(unknown)} (known: {', '.join(known)})")
    settings = replace(settings, ui=replace(settings.ui, fullscreen=False, width=size_list[0][0],
                                            height=size_list[0][1]))

    from ui import configure_kivy

    configure_kivy(settings, headless=True)
    from ui.screenshots import ScreenshotRenderer, curated_plan, plan
    shots = curated_plan() if curated else plan(chosen, langs, size_list, modes)
    db = None
    browser = None
    if catalog:
        from sqlalchemy.exc import OperationalError

        from catalog.schema import SchemaOutOfDate
        from kiosk.bootstrap import open_database
        from kiosk.browse import Browser
        from kiosk.errors import KioskError

        try:
            db = open_database(settings)
            browser = Browser(db, settings.kiosk.branch)
            browser.branch_info()
        except (KioskError, SchemaOutOfDate, OperationalError) as exc:
            if db is not None:
                db.dispose()
            raise fail(f"--catalog: {exc} (run `kiosk demo-data` first, or use --demo-values)") from None
    renderer = ScreenshotRenderer(settings, browser)
    try:
        written = renderer.render(shots, out, progress=None if as_json else lambda p: typer.echo(f"  {p}"))
    finally:
        renderer.close()
        if db is not None:
            db.dispose()
    if as_json:
        typer.echo(json.dumps({"written": [str(p) for p in written]}, ensure_ascii=False))
    else:
        typer.echo(f"{len(written)} screenshots in {out}")


def register(app: typer.Typer) -> None:
    app.command("screenshots")(screenshots)
