"""The find screen's category tiles keep their text inside them at every supported size, in both languages and
both looks: in large text on a landscape screen (two tiles a row, five rows) a tile holds two lines, and the English
counts used to need three there ("312 titles · 290 / available"), drawn over the tile's edges."""

from __future__ import annotations

from typing import Any

import pytest

SIZES = [(1920, 1080), (1280, 800), (1080, 1920)]


def drawn_lines(tile: Any) -> list[str]:
    tile.texture_update()
    return ["".join(word.text for word in line.words).strip() for line in tile._label._cached_lines]


@pytest.mark.parametrize("elder", [True, False])
@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_every_category_tile_shows_its_name_and_counts_inside_it(kiosk_ui: Any, lang: str, elder: bool) -> None:
    h = kiosk_ui
    h.app.lang, h.app.elder = lang, elder
    h.app.open_local("find")
    h.settle()
    try:
        for size in SIZES:
            h.set_size(*size)
            h.settle()
            h.pump(6)  # wrapped labels settle their heights over a few layout passes
            tiles = [w for w in h.current_screen().walk(restrict=True)
                     if getattr(w, "action", "").startswith("category:")]
            assert len(tiles) == 9, size
            for tile in tiles:
                name, counts = tile.text.split("\n")
                lines = drawn_lines(tile)
                assert "".join(lines).replace(" ", "") == (name + counts).replace(" ", "")
                assert tile.texture_size[1] <= tile.height, (size, lines, tile.height)
                assert tile.texture_size[0] <= tile.width, (size, lines, tile.width)
                assert tile.fs >= h.app.font_small
                if elder and size[0] > size[1]:
                    assert lines == [name, counts], (size, lines)
    finally:
        h.set_size(1280, 800)
        h.settle()
