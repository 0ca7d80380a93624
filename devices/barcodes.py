"""Symbology normalisation shared by every scanner (serial, keyboard wedge, camera).

Decoders disagree on details that matter for a catalog lookup, so every scanned code goes through `normalise`:

- Codabar start/stop characters (`A1234567890A`): current zbar and zxing-cpp both return them, older versions and
  many hardware scanners strip them. Item barcodes are stored without them, so they are stripped here.
- UPC-E: zbar expands it to EAN-13, zxing-cpp does not. We expand to EAN-13 (via UPC-A with a leading 0), the form
  the catalog stores, so a UPC-E book code matches whichever decoder read it.
- UPC-A is EAN-13 with a leading 0 (GS1 General Specifications 2.1.3); stored as EAN-13.
- EAN-13 add-on (2 or 5 digits, often a price): the book is identified by the 13-digit main code and the add-on is
  reported separately. Scanners deliver it appended (`978073520044951299`) or separated by a space.

Check digits are verified for the symbologies that carry one (EAN/UPC); a code that fails is a misread, never a
lookup, so `normalise` raises `BarcodeError` rather than passing it on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from devices.errors import DeviceError


class BarcodeError(DeviceError):
    """A scanned code that cannot be right: bad check digit, wrong length, characters the symbology cannot carry."""

    key = "device.barcode_invalid"


class Symbology(StrEnum):
    EAN13 = "ean13"
    EAN8 = "ean8"
    UPCA = "upca"
    UPCE = "upce"
    CODE128 = "code128"
    CODE39 = "code39"
    CODE32 = "code32"
    PZN = "pzn"
    CODE93 = "code93"
    CODABAR = "codabar"
    ITF = "itf"
    QR = "qr"
    UNKNOWN = ""


_ALIASES = {
    # pyzbar `type` names
    "EAN13": Symbology.EAN13,
    "ISBN13": Symbology.EAN13,
    "EAN8": Symbology.EAN8,
    "UPCA": Symbology.UPCA,
    "UPCE": Symbology.UPCE,
    "CODE128": Symbology.CODE128,
    "CODE39": Symbology.CODE39,
    "CODE93": Symbology.CODE93,
    "CODABAR": Symbology.CODABAR,
    "I25": Symbology.ITF,
    "QRCODE": Symbology.QR,
    # zxing-cpp `str(BarcodeFormat)` names
    "EAN-13": Symbology.EAN13,
    "EAN-8": Symbology.EAN8,
    "UPC-A": Symbology.UPCA,
    "UPC-E": Symbology.UPCE,
    "CODE 128": Symbology.CODE128,
    "CODE 39": Symbology.CODE39,
    "CODE 39 STANDARD": Symbology.CODE39,
    "CODE 39 EXTENDED": Symbology.CODE39,
    "CODE 32": Symbology.CODE32,
    "PHARMAZENTRALNUMMER": Symbology.PZN,
    "CODE 93": Symbology.CODE93,
    "ITF": Symbology.ITF,
    "QR CODE": Symbology.QR,
}

CODABAR_GUARDS = frozenset("ABCDTNE*")
"""Codabar start/stop characters: A-D, and the T N * E alternatives some printers use."""


def symbology_from_name(name: str) -> Symbology:
    """Map a decoder's symbology name (`EAN13`, `EAN-13`, `Code 128`, `ean13`) to ours; unknown → UNKNOWN."""
    key = name.strip().upper()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return Symbology(name.strip().lower())
    except ValueError:
        return Symbology.UNKNOWN


def gtin_check_digit(body: str) -> int:
    """GS1 mod-10 check digit of `body` (all digits but the check): weights 3,1,3,… from the right."""
    if not body.isdigit() or not body.isascii():
        raise BarcodeError(f"not digits: {body!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_gtin(code: str) -> bool:
    """EAN-8, UPC-A (12), EAN-13 and GTIN-14 with a correct check digit."""
    if len(code) not in (8, 12, 13, 14) or not code.isascii() or not code.isdigit():
        return False
    return gtin_check_digit(code[:-1]) == int(code[-1])


def upce_to_upca(upce: str) -> str:
    """Expand a UPC-E code (8 digits: number system 0/1, six data digits, check; or the 6 data digits alone) to
    UPC-A, by the zero-suppression rules keyed on the last data digit."""
    if not upce.isascii() or not upce.isdigit() or len(upce) not in (6, 7, 8):
        raise BarcodeError(f"UPC-E needs 6, 7 or 8 digits, got {upce!r}")
    if len(upce) == 6:
        system, data, check = "0", upce, ""
    else:
        system, data, check = upce[0], upce[1:7], upce[7:]
    if system not in "01":
        raise BarcodeError(f"UPC-E number system must be 0 or 1, got {system}")
    last = data[5]
    if last in "012":
        body = f"{system}{data[0:2]}{last}0000{data[2:5]}"
    elif last == "3":
        body = f"{system}{data[0:3]}00000{data[3:5]}"
    elif last == "4":
        body = f"{system}{data[0:4]}00000{data[4]}"
    else:
        body = f"{system}{data[0:5]}0000{last}"
    computed = str(gtin_check_digit(body))
    if check and check != computed:
        raise BarcodeError(f"UPC-E check digit {check} should be {computed}")
    return body + computed


def strip_codabar(text: str) -> str:
    """`A1234567890A` → `1234567890`; text without guards is returned unchanged."""
    if len(text) >= 2 and text[0].upper() in CODABAR_GUARDS and text[-1].upper() in CODABAR_GUARDS:
        return text[1:-1]
    return text


def split_ean_addon(text: str) -> tuple[str, str]:
    """`978073520044951299` or `9780735200449 51299` → (`9780735200449`, `51299`); no add-on → (text, "")."""
    compact = text.replace(" ", "")
    if compact.isdigit() and compact.isascii() and len(compact) in (15, 18):
        return compact[:13], compact[13:]
    return text, ""


CODE32_ALPHABET = "0123456789BCDFGHJKLMNPQRSTUVWXYZ"


def code32_text(code39: str) -> str:
    """The Italian pharmacy (Code 32) reading of a 6-character Code 39: base-32 → `A` + 9 digits (8 + mod-10 check).
    Not applied by `normalise`: library Code 39 labels would be rewritten (see `devices.camera.decode`)."""
    if len(code39) != 6 or any(c not in CODE32_ALPHABET for c in code39):
        raise BarcodeError(f"not a Code 32 symbol: {code39!r}")
    value = 0
    for char in code39:
        value = value * 32 + CODE32_ALPHABET.index(char)
    if value >= 10**9:
        raise BarcodeError(f"not a Code 32 symbol: {code39!r}")
    return f"A{value:09d}"


AIM_SYMBOLOGIES = {
    "E": Symbology.EAN13,
    "C": Symbology.CODE128,
    "A": Symbology.CODE39,
    "F": Symbology.CODABAR,
    "G": Symbology.CODE93,
    "I": Symbology.ITF,
    "Q": Symbology.QR,
}
"""AIM symbology identifier letters (ISO/IEC 15424) that serial scanners can be set to prefix (`]E0…`)."""


def split_aim(text: str) -> tuple[Symbology, str]:
    """`]E09780140013993` → (EAN13, `9780140013993`); `]E4…` is EAN-8; text without an identifier → (UNKNOWN, text).

    Line scanners do not say which symbology they read unless configured to send the AIM identifier; without it,
    `normalise` can only pass the text on (stripping Codabar guards from a Code 39 label such as `A1234B` would
    corrupt it), so installers should enable the prefix where the scanner offers it."""
    if len(text) >= 3 and text[0] == "]" and text[1] in AIM_SYMBOLOGIES and text[2].isalnum():
        symbology = AIM_SYMBOLOGIES[text[1]]
        if text[1] == "E" and text[2] == "4":
            symbology = Symbology.EAN8
        return symbology, text[3:]
    return Symbology.UNKNOWN, text


def normalise_scan(text: str) -> NormalisedCode:
    """What a line or wedge scanner delivered (optionally AIM-prefixed), normalised like a camera read."""
    symbology, body = split_aim(text.strip("\r\n"))
    if symbology is Symbology.EAN13 and len(body) == 12:
        symbology = Symbology.UPCA  # some scanners send UPC-A under ]E0 without the leading 0
    return normalise(body, symbology)


@dataclass(frozen=True)
class NormalisedCode:
    code: str
    symbology: Symbology
    addon: str = ""


def normalise(text: str, symbology: Symbology | str = Symbology.UNKNOWN) -> NormalisedCode:
    """The form a catalog looks up: see the module docstring. Raises `BarcodeError` for an impossible EAN/UPC."""
    sym = symbology if isinstance(symbology, Symbology) else symbology_from_name(symbology)
    text = text.strip("\r\n")
    if sym in (Symbology.EAN13, Symbology.UPCA, Symbology.EAN8, Symbology.UPCE):
        main, addon = split_ean_addon(text)
        if addon and len(addon) not in (2, 5):
            raise BarcodeError(f"EAN add-on must have 2 or 5 digits: {addon!r}")
        if sym is Symbology.UPCE:
            main = upce_to_upca(main)
            sym = Symbology.UPCA
        if sym is Symbology.UPCA:
            if len(main) != 12:
                raise BarcodeError(f"UPC-A needs 12 digits, got {len(main)}")
            main, sym = "0" + main, Symbology.EAN13
        expected = 8 if sym is Symbology.EAN8 else 13
        if len(main) != expected or not is_valid_gtin(main):
            raise BarcodeError(f"{sym.value} check digit or length wrong: {main!r}")
        return NormalisedCode(main, sym, addon)
    if sym is Symbology.CODABAR:
        stripped = strip_codabar(text)
        if not stripped:
            raise BarcodeError("empty Codabar code")
        return NormalisedCode(stripped, sym)
    if not text:
        raise BarcodeError("empty code")
    return NormalisedCode(text, sym)
