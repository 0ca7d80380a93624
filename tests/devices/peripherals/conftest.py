"""Fixtures for peripheral device tests (camera, door counter, printer, relay): synthetic barcode images."""

from __future__ import annotations

import numpy as np
import zxingcpp


def barcode_image(text: str, fmt: zxingcpp.BarcodeFormat, *, scale: int = 3, border: int = 40) -> np.ndarray:
    """A clean BGR picture of one symbol, on a white margin like a label on a book."""
    symbol = np.asarray(zxingcpp.create_barcode(text, fmt).to_image(scale=scale, add_quiet_zones=True))
    gray = np.pad(symbol, border, constant_values=255)
    return np.dstack([gray, gray, gray])


def blank_image(width: int = 320, height: int = 240, seed: int = 0) -> np.ndarray:
    """Texture with no barcode: smooth noise, as a camera sees an empty counter."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(height // 16, width // 16), dtype=np.uint8)
    big = np.kron(small, np.ones((16, 16), dtype=np.uint8))
    return np.dstack([big, big, big])
