"""`kiosk devices decode IMAGE…`: the codes the camera pipeline finds in still images (what an installer runs to
check that the camera's pictures are sharp enough), attached to the `devices` group of `devices_cmd`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kiosk.cli.options import JsonOption, fail


def decode(
    images: Annotated[list[Path], typer.Argument(help="Image files (PNG, JPEG, WebP…).")],
    as_json: JsonOption = False,
) -> None:
    """Print the barcodes found in each image (one line per code; `--json`: one JSON object per image)."""
    from devices.camera.decode import decode_image, read_image

    unreadable = 0
    for path in images:
        if not path.is_file():
            raise fail(f"no such image: {path}")
        image = read_image(str(path))
        if image is None:
            unreadable += 1
            if as_json:
                typer.echo(json.dumps({"image": str(path), "error": "unreadable image", "codes": []}))
            else:
                typer.secho(f"{path}: unreadable image", fg="red", err=True)
            continue
        found = decode_image(image)
        if as_json:
            codes = [
                {"code": d.code, "symbology": d.symbology.value, "addon": d.addon, "stage": d.stage} for d in found
            ]
            typer.echo(json.dumps({"image": str(path), "codes": codes}, ensure_ascii=False))
            continue
        if not found:
            typer.echo(f"{path}: no barcode")
        for d in found:
            addon = f" add-on {d.addon}" if d.addon else ""
            typer.echo(f"{path}: {d.code} ({d.symbology.value}){addon}")
    if unreadable == len(images):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    from kiosk.cli.devices_cmd import devices_app

    devices_app.command("decode")(decode)
