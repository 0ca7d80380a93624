from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.barcodes import (
    BarcodeError,
    NormalisedCode,
    Symbology,
    code32_text,
    gtin_check_digit,
    is_valid_gtin,
    normalise,
    normalise_scan,
    split_ean_addon,
    strip_codabar,
    symbology_from_name,
    upce_to_upca,
)


def test_ean13_check_digit() -> None:
    assert gtin_check_digit("978014001399") == 3  # ISBN 978-0-14-001399-3
    assert is_valid_gtin("9780140013993")
    assert not is_valid_gtin("9780140013994")
    assert is_valid_gtin("96385074")  # EAN-8


@pytest.mark.parametrize(
    ("upce", "upca"),
    [
        ("01234565", "012345000065"),
        ("04252614", "042100005264"),
        ("01234133", "012300000413"),
        ("425261", "042100005264"),
    ],
)
def test_upce_expansion_follows_the_zero_suppression_rules(upce: str, upca: str) -> None:
    assert upce_to_upca(upce) == upca


def test_upce_with_a_wrong_check_digit_is_refused() -> None:
    with pytest.raises(BarcodeError):
        upce_to_upca("01234566")


def test_upce_becomes_ean13_as_zbar_reports_it() -> None:
    assert normalise("01234565", "UPC-E").code == "0012345000065"
    assert normalise("01234565", "UPC-E").symbology is Symbology.EAN13


def test_code32_reading_of_a_code39_symbol() -> None:
    assert code32_text("3PRM8N") == "A123456788"
    with pytest.raises(BarcodeError):
        code32_text("ABCDEF")  # vowels are not in the Code 32 alphabet


def test_codabar_guards_are_stripped() -> None:
    assert normalise("A1234567890A", "CODABAR").code == "1234567890"
    assert normalise("31117013206375", Symbology.CODABAR).code == "31117013206375"
    assert strip_codabar("A294/586B") == "294/586"


def test_ean_addon_is_split_off() -> None:
    assert split_ean_addon("978073520044951299") == ("9780735200449", "51299")
    assert split_ean_addon("9780735200449 12") == ("9780735200449", "12")
    code = normalise("978073520044951299", "EAN-13")
    assert (code.code, code.addon) == ("9780735200449", "51299")


def test_a_misread_ean_is_refused() -> None:
    with pytest.raises(BarcodeError):
        normalise("9780735200448", "EAN13")


def test_symbology_names_of_both_decoders_map_to_one() -> None:
    assert symbology_from_name("EAN13") is symbology_from_name("EAN-13") is Symbology.EAN13
    assert symbology_from_name("Code 128") is symbology_from_name("CODE128") is Symbology.CODE128
    assert symbology_from_name("weird") is Symbology.UNKNOWN


@given(st.text(max_size=30), st.sampled_from(list(Symbology)))
def test_normalise_raises_only_barcode_error(text: str, symbology: Symbology) -> None:
    try:
        result = normalise(text, symbology)
    except BarcodeError:
        return
    if result.symbology in (Symbology.EAN13, Symbology.EAN8):
        assert is_valid_gtin(result.code)


@given(st.from_regex(r"\A[0-9]{12}\Z"))
def test_every_ean13_body_with_its_check_digit_is_valid(body: str) -> None:
    code = body + str(gtin_check_digit(body))
    assert normalise(code, "EAN13").code == code


@pytest.mark.parametrize(
    ("scanned", "code", "symbology", "addon"),
    [
        ("]E09780140013993", "9780140013993", Symbology.EAN13, ""),
        ("]E3978073520044951299\r\n", "9780735200449", Symbology.EAN13, "51299"),
        ("]E496385074", "96385074", Symbology.EAN8, ""),
        ("]F0A31117013206375B", "31117013206375", Symbology.CODABAR, ""),
        ("]C0TS0001234", "TS0001234", Symbology.CODE128, ""),
        ("A1234B", "A1234B", Symbology.UNKNOWN, ""),  # no identifier: a Code 39 label must not lose its A…B
    ],
)
def test_line_scanner_text_with_aim_identifiers(scanned: str, code: str, symbology: Symbology, addon: str) -> None:
    assert normalise_scan(scanned) == NormalisedCode(code, symbology, addon)


@given(st.text(max_size=30))
def test_normalise_scan_raises_only_barcode_error(text: str) -> None:
    with contextlib.suppress(BarcodeError):
        normalise_scan(text)
