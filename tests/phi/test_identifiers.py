"""Structured identifiers: checksums, formats and keyword contexts."""

from __future__ import annotations

import pytest

from policies.phi import DetectorConfig, PhiDetector, detect
from policies.phi.iban import is_valid_iban
from policies.phi.luhn import luhn_valid
from policies.phi.nir import is_valid_nir, nir_key
from policies.phi.phones import national_digits
from policies.phi.rpps import is_valid_rpps


def found(text: str, detector: PhiDetector | None = None) -> list[tuple[str, str]]:
    spans = detector.detect(text) if detector is not None else detect(text)
    return [(span.type, text[span.start : span.end]) for span in spans]


def make_nir(first13: str) -> str:
    return f"{first13}{nir_key(first13):02d}"


def test_nir_key_is_97_minus_mod_97() -> None:
    assert nir_key("1560375112345") == 97 - 1560375112345 % 97


def test_valid_nir_is_found_compact_and_spaced() -> None:
    nir = make_nir("2560375112345")
    spaced = f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"
    assert found(f"NIR : {nir}.") == [("NIR", nir)]
    assert found(f"n° SS {spaced}") == [("NIR", spaced)]


def test_nir_with_wrong_key_is_not_flagged() -> None:
    nir = make_nir("1850578006084")
    wrong = nir[:13] + f"{(int(nir[13:]) % 97) + 1:02d}"
    assert not is_valid_nir(wrong)
    assert found(f"Référence : {wrong}") == []


@pytest.mark.parametrize(("department", "substitute"), [("2A", "19"), ("2B", "18")])
def test_corsican_nir_uses_the_standard_substitution(department: str, substitute: str) -> None:
    first13 = f"18005{department}004123"
    key = 97 - int(f"18005{substitute}004123") % 97
    assert nir_key(first13) == key
    nir = f"{first13}{key:02d}"
    assert is_valid_nir(nir)
    assert found(f"INS : {nir}") == [("NIR", nir)]
    assert found(f"INS : {first13}{(key % 97) + 1:02d}") == []


def test_nir_with_impossible_month_is_rejected() -> None:
    assert not is_valid_nir(make_nir("1561575112345"))


IBANS = ["FR7630006000011234567890189", "DE89370400440532013000", "GB82WEST12345698765432",
         "BE68539007547034", "CH9300762011623852957"]  # fmt: skip


@pytest.mark.parametrize("iban", IBANS)
def test_valid_ibans_of_any_country_with_or_without_spaces(iban: str) -> None:
    spaced = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    assert is_valid_iban(iban) and is_valid_iban(spaced)
    assert found(f"IBAN : {iban}") == [("IBAN", iban)]
    assert found(f"RIB {spaced} merci") == [("IBAN", spaced)]


def test_iban_followed_by_a_bic_stops_at_its_registered_length() -> None:
    text = "IBAN FR76 3000 6000 0112 3456 7890 189 BIC BNPAFRPP"
    assert found(text) == [("IBAN", "FR76 3000 6000 0112 3456 7890 189")]


def test_iban_with_wrong_check_digits_is_not_flagged() -> None:
    assert not is_valid_iban("FR7730006000011234567890189")
    assert found("IBAN : FR77 3000 6000 0112 3456 7890 189") == []


def test_rpps_needs_luhn() -> None:
    valid = next(f"1000345678{d}" for d in "0123456789" if luhn_valid(f"1000345678{d}"))
    invalid = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    assert is_valid_rpps(valid) and not is_valid_rpps(invalid)
    assert found(f"N° RPPS : {valid}") == [("RPPS", valid)]
    assert found(f"RPPS {invalid}") == []


def test_eleven_luhn_digits_without_rpps_context_are_not_rpps() -> None:
    number = next(f"5512345678{d}" for d in "0123456789" if luhn_valid(f"5512345678{d}"))
    assert found(f"lot {number}") == []
    assert found(f"Réf. {number}") == []


def test_ipp_and_nda_default_patterns_need_their_keyword() -> None:
    assert found("IPP : 123456789, NDA 2024123456") == [("IPP", "123456789"), ("NDA", "2024123456")]
    assert found("N° de séjour : 2023000123") == [("NDA", "2023000123")]
    assert found("dosage 123456789 ng/L") == []


def test_ipp_patterns_are_configurable_per_hospital() -> None:
    config = DetectorConfig(ipp_patterns=(r"\bPAT-(?P<id>\d{7})\b",), nda_patterns=())
    detector = PhiDetector(config)
    assert found("dossier PAT-1234567", detector) == [("IPP", "1234567")]
    assert found("IPP : 123456789", detector) == []


@pytest.mark.parametrize(
    "number",
    ["06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78", "0612345678", "01 40 00 00 00",
     "+33 6 12 34 56 78", "+33612345678", "0033 6 12 34 56 78", "+33 (0)6 12 34 56 78"],
)  # fmt: skip
def test_french_phone_formats(number: str) -> None:
    assert found(f"Tél domicile : {number}.") == [("PHONE", number)]


def test_a_fixed_line_in_a_text_about_no_one_is_a_service_line() -> None:
    assert found("Standard : 01 40 00 00 00. Horaires 8h-18h.") == []
    assert found("Patiente injoignable, tél perso : 01 40 00 00 00.") == [
        ("PHONE", "01 40 00 00 00")
    ]
    assert found("Appeler le 06 12 34 56 78.") == [("PHONE", "06 12 34 56 78")]


def test_phone_national_digits_normalise_every_form() -> None:
    forms = ["06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "+33 (0)6 12 34 56 78"]
    assert {national_digits(form) for form in forms} == {"0612345678"}


def test_dates_and_mixed_separators_are_not_phones() -> None:
    assert ("PHONE", "03.03.2024 10") not in found("le 03.03.2024 10h")
    assert found("06 12 34 56 78 90 12") == []


def test_personal_email_is_found() -> None:
    assert found("écrire à marie.dupont@gmail.com.") == [("EMAIL", "marie.dupont@gmail.com")]


# Issue 15.
@pytest.mark.parametrize("layout", ["{a}-{b}-{c}-{d}-{e}-{f}-{k}", "{a} {b} {c} {d} {e} {f} / {k}",
                                    "{a} {b} {c} {d} {e} {f} clé {k}"])  # fmt: skip
def test_nir_with_dashes_or_a_separated_key(layout: str) -> None:
    nir = make_nir("1560375112345")
    parts = {"a": nir[0], "b": nir[1:3], "c": nir[3:5], "d": nir[5:7], "e": nir[7:10],
             "f": nir[10:13], "k": nir[13:]}  # fmt: skip
    text = "NIR : " + layout.format(**parts)
    assert found(text) == [("NIR", text[6:])]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("Venue n° 2024123456, entrée par les urgences", "NDA", "2024123456"),
        ("Séjour n°2023654321", "NDA", "2023654321"),
        ("NIP : 12345678", "IPP", "12345678"),
        ("Identifiant : 123 456 789", "IPP", "123 456 789"),
        ("Patient n° 7654321", "IPP", "7654321"),
        ("N° d'hospitalisation : 2024-001234", "NDA", "2024-001234"),
        ("Dossier n° 2024123456", "NDA", "2024123456"),
        ("IPP12345678 vu ce jour", "IPP", "12345678"),
    ],
)
def test_hospital_numbers_after_more_keywords(text: str, kind: str, value: str) -> None:
    assert found(text) == [(kind, value)]


def test_the_default_shape_needs_no_keyword() -> None:
    assert found("Réf. 8012345678 à reporter sur les bons") == [("IPP", "8012345678")]
    assert found("étiquettes 8012345678") == [("IPP", "8012345678")]
    # Glued to a word, a decimal or a longer number it is something else.
    assert found("code X8012345678, 18012345678, 8012345678.5") == []


def test_configured_shapes_replace_the_default() -> None:
    detector = PhiDetector(DetectorConfig(ipp_shapes=(r"PA\d{6}",), nda_shapes=(r"9\d{8}",)))
    text = "dossier PA123456, séjour 912345678, ancien 8012345678"
    assert found(text, detector) == [("IPP", "PA123456"), ("NDA", "912345678")]


def test_shapes_are_validated() -> None:
    with pytest.raises(ValueError, match="invalid regular expression"):
        DetectorConfig(ipp_shapes=("80[",))
