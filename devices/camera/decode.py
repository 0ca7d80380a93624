"""Decode the barcodes in one camera frame or still image: a pure function of pixels.

Measured on the zxing-cpp test photos (`bench/bench_camera.py`): zxing-cpp alone finds 42 of 44 codes, pyzbar 35,
and on a 640x480 frame without a code (what a kiosk camera sees most of the time) pyzbar takes 15-100 ms where
zxing-cpp limited to our symbologies takes about 5.
So zxing-cpp, limited to the linear symbologies a library meets (EAN/UPC on books, Code 128 / Code 39 / Codabar on
item labels), runs first on the plain grayscale image, and the cascade stops at the first stage that yields a code.
Only when nothing was found do cheap rescues run, each chosen because it recovers a real failure in the set:
upscaling (a small, soft EAN-13 below zxing's minimum module width), a sharpened upscale, and CLAHE (local
contrast for a blurred, grey-on-grey label), then pyzbar on a bounded-size image as a second opinion.

False positives: a rescue stage sees a distorted image, where a checksum-less symbology (Code 39, Codabar) can be
hallucinated from text or texture. Rescue stages therefore accept only symbologies that carry a check digit
(EAN/UPC, Code 128), and every EAN/UPC is re-validated by `devices.barcodes.normalise`. Two different codes read
on the same spot of the image (zxing-cpp can misread an EAN-13 along a scan line that clips the bars' ends) are one
symbol read twice: pyzbar arbitrates, else the read with the larger footprint wins.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp
from pyzbar import pyzbar
from pyzbar.pyzbar import ZBarSymbol

from devices.barcodes import BarcodeError, NormalisedCode, Symbology, normalise, symbology_from_name

_F = zxingcpp.BarcodeFormat
ZXING_FORMATS = zxingcpp.BarcodeFormats([_F.EAN13, _F.EAN8, _F.UPCA, _F.UPCE, _F.Code128, _F.Code39Std, _F.Codabar])
"""`Code39Std`, not zxing-cpp's `Code39` umbrella: the umbrella re-interprets any 6-character Code 39 whose last
character happens to be a valid mod-10 check as an Italian pharmacy Code 32 (`100001` → `A033554433`): 39 of 400
six-digit library labels were rewritten that way in a test. We report what is printed on the label; the Code 32
reading stays available as `devices.barcodes.code32_text`."""
ADDON_FORMATS = zxingcpp.BarcodeFormats([_F.EAN13, _F.UPCA])
ZBAR_SYMBOLS = [
    ZBarSymbol.EAN13,
    ZBarSymbol.EAN8,
    ZBarSymbol.UPCA,
    ZBarSymbol.UPCE,
    ZBarSymbol.ISBN13,
    ZBarSymbol.CODE128,
    ZBarSymbol.CODE39,
    ZBarSymbol.CODABAR,
]
CHECKED_SYMBOLOGIES = frozenset({Symbology.EAN13, Symbology.EAN8, Symbology.UPCA, Symbology.UPCE, Symbology.CODE128})
"""Symbologies with a check digit: the only ones a rescue stage may report."""
ZBAR_MAX_SIDE = 480
"""pyzbar scans every line: bound the image so the last-resort stage stays within a few milliseconds."""
UPSCALE_BELOW = 500
"""Images whose longer side is under this are upscaled 2x in the rescue stages."""

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class DecodedBarcode:
    """One code found in an image, normalised (`devices.barcodes.normalise`)."""

    code: str
    symbology: Symbology
    addon: str = ""
    raw: str = ""
    decoder: str = ""
    stage: str = ""
    box: Box = (0, 0, 0, 0)
    """x0, y0, x1, y1 in the input image's pixels."""


@dataclass(frozen=True)
class _Read:
    text: str
    symbology: str
    decoder: str
    box: Box


def to_gray(image: np.ndarray) -> np.ndarray:
    """BGR, BGRA or gray `uint8` → gray. Anything else is refused with `ValueError`."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or image.size == 0:
        raise ValueError(f"expected a uint8 image, got {image.dtype} {image.shape}")
    if image.ndim == 2:
        return image
    channels = image.shape[2]
    if channels == 1:
        return image[:, :, 0]
    if channels == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if channels == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"unsupported channel count {channels}")


def _zxing(gray: np.ndarray, scale: float = 1.0, *, addon: bool = False) -> list[_Read]:
    """`addon=True`: EAN-13/UPC-A with a 2/5-digit add-on only. zxing-cpp's `Read` mode often returns the main code
    alone when the add-on is faint, while `Require` still finds it, so the add-on gets its own pass."""
    reads: list[_Read] = []
    for result in zxingcpp.read_barcodes(
        gray,
        formats=ADDON_FORMATS if addon else ZXING_FORMATS,
        try_invert=False,
        ean_add_on_symbol=zxingcpp.EanAddOnSymbol.Require if addon else zxingcpp.EanAddOnSymbol.Read,
    ):
        pos = result.position
        xs = [pos.top_left.x, pos.top_right.x, pos.bottom_left.x, pos.bottom_right.x]
        ys = [pos.top_left.y, pos.top_right.y, pos.bottom_left.y, pos.bottom_right.y]
        box = (int(min(xs) / scale), int(min(ys) / scale), int(max(xs) / scale), int(max(ys) / scale))
        reads.append(_Read(result.text, str(result.format), "zxing", box))
    return reads


def _zbar(gray: np.ndarray) -> list[_Read]:
    scale = min(1.0, ZBAR_MAX_SIDE / max(gray.shape))
    image = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    reads = []
    for result in pyzbar.decode(image, symbols=ZBAR_SYMBOLS):
        rect = result.rect
        box = (
            int(rect.left / scale),
            int(rect.top / scale),
            int((rect.left + rect.width) / scale),
            int((rect.top + rect.height) / scale),
        )
        try:
            text = result.data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        reads.append(_Read(text, result.type, "zbar", box))
    return reads


def _upscaled(gray: np.ndarray) -> tuple[np.ndarray, float]:
    if max(gray.shape) >= UPSCALE_BELOW:
        return gray, 1.0
    return cv2.resize(gray, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC), 2.0


_SHARPEN = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32)


@dataclass(frozen=True)
class _Stage:
    name: str
    image: np.ndarray
    scale: float = 1.0
    decoder: str = "zxing"

    def run(self) -> list[_Read]:
        return _zbar(self.image) if self.decoder == "zbar" else _zxing(self.image, self.scale)

    def addons(self) -> list[_Read]:
        return _zxing(self.image, self.scale, addon=True) if self.decoder == "zxing" else []


def _stages(gray: np.ndarray) -> Iterator[_Stage]:
    """The cascade, cheapest and most trusted first; each image is built only when the stage before found nothing."""
    yield _Stage("gray", gray)
    big, scale = _upscaled(gray)
    if scale != 1.0:  # sharpening pays only on a small, soft code, i.e. after upscaling
        yield _Stage("upscale", big, scale)
        yield _Stage("sharpen", cv2.filter2D(big, -1, _SHARPEN), scale)
    yield _Stage("clahe", cv2.createCLAHE(clipLimit=8.0, tileGridSize=(8, 8)).apply(gray))
    yield _Stage("zbar", gray, decoder="zbar")


def _with_addons(found: list[DecodedBarcode], stage: _Stage) -> list[DecodedBarcode]:
    if not any(d.symbology is Symbology.EAN13 and not d.addon for d in found):
        return found
    extra = [d for d in (_normalised(r, stage.name) for r in stage.addons()) if d is not None and d.addon]
    return found + extra


SAME_SPOT_MARGIN = 0.25
"""Boxes are grown by this share of their longer side before testing overlap: zxing-cpp's box of a misread along
the bars' clipped ends can lie just beside the true read's box (a 3-pixel-wide strip 30 px away, in the set)."""


def _grown(box: Box) -> Box:
    m = int(SAME_SPOT_MARGIN * max(box[2] - box[0], box[3] - box[1]))
    return (box[0] - m, box[1] - m, box[2] + m, box[3] + m)


def _overlap(a: Box, b: Box) -> bool:
    a, b = _grown(a), _grown(b)
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _area(box: Box) -> int:
    return max(1, box[2] - box[0]) * max(1, box[3] - box[1])


def _normalised(read: _Read, stage: str) -> DecodedBarcode | None:
    try:
        code: NormalisedCode = normalise(read.text, symbology_from_name(read.symbology))
    except BarcodeError:
        return None
    if stage != "gray" and code.symbology not in CHECKED_SYMBOLOGIES:
        return None
    return DecodedBarcode(code.code, code.symbology, code.addon, read.text, read.decoder, stage, read.box)


def _merge(found: list[DecodedBarcode], gray: np.ndarray) -> list[DecodedBarcode]:
    """One result per symbol: the add-on read wins over the same code without it; conflicting codes on one spot
    are resolved by pyzbar's opinion, else by footprint."""
    by_code: dict[tuple[Symbology, str], DecodedBarcode] = {}
    for item in found:
        key = (item.symbology, item.code)
        kept = by_code.get(key)
        if kept is None or (item.addon and not kept.addon):
            by_code[key] = item
    results = list(by_code.values())
    conflicts = [
        (a, b) for i, a in enumerate(results) for b in results[i + 1 :] if a.code != b.code and _overlap(a.box, b.box)
    ]
    if not conflicts:
        return results
    confirmed = {r.text for r in _zbar(gray)}
    losers: set[int] = set()
    for a, b in conflicts:
        a_ok, b_ok = a.code in confirmed or a.raw in confirmed, b.code in confirmed or b.raw in confirmed
        if a_ok != b_ok:
            losers.add(id(b) if a_ok else id(a))
        else:
            losers.add(id(b) if _area(a.box) >= _area(b.box) else id(a))
    return [r for r in results if id(r) not in losers]


def decode_image(image: np.ndarray) -> list[DecodedBarcode]:
    """All codes found in `image` (BGR, BGRA or gray uint8), best stage only; [] when none. Pure: no state, no I/O.

    Raises `ValueError` for something that is not an 8-bit image."""
    gray = to_gray(image)
    if min(gray.shape) < 8:
        return []  # smaller than one EAN module row: nothing to read, and zbar would scan noise
    for stage in _stages(gray):
        found = [d for d in (_normalised(r, stage.name) for r in stage.run()) if d is not None]
        if found:
            return _merge(_with_addons(found, stage), gray)
    return []


def read_image(path: str) -> np.ndarray | None:
    """Load a still image (PNG, JPEG, WebP…) as BGR; None when OpenCV cannot read it."""
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0:
        return None
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # a truncated file is our None, not a log
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    finally:
        cv2.utils.logging.setLogLevel(level)
    return image if image is not None and image.size else None
