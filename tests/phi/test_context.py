"""Contextual identifiers: names, dates, addresses, and the clinical look-alikes they must skip."""

from __future__ import annotations

import pytest

from policies.phi import detect


def found(text: str) -> list[tuple[str, str]]:
    return [(span.type, text[span.start : span.end]) for span in detect(text)]


def test_the_issue_example_prompt() -> None:
    text = "Résume ce CR pour Mme DUPONT Marie née le 12/03/1956, vue le 3 mars 2024."
    assert found(text) == [
        ("PERSON", "DUPONT Marie"),
        ("BIRTHDATE", "12/03/1956"),
        ("DATE", "3 mars 2024"),
    ]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("vu par le Dr Kermarrec ce jour", "Kermarrec"),
        ("Monsieur Jean-Pierre Ouédraogo, 54 ans", "Jean-Pierre Ouédraogo"),
        ("Mrs Jane Smith was admitted", "Jane Smith"),
        ("Mme Le Bihan est sortie", "Le Bihan"),
        ("adressée par Pr de Kerguelen", "de Kerguelen"),
        ("Patient : M. DA SILVA Pedro", "DA SILVA Pedro"),
        ("transmis à Camille TRAORÉ", "Camille TRAORÉ"),
        ("KERJEAN Ewen, 3 ans", "KERJEAN Ewen"),
    ],
)
def test_person_names(text: str, name: str) -> None:
    assert ("PERSON", name) in found(text)


def test_form_fields_name_people() -> None:
    assert found("Nom : ZERBIB\nPrénom : Soline\n") == [("PERSON", "ZERBIB"), ("PERSON", "Soline")]


def test_signature_line_after_closing_formula() -> None:
    assert found("Merci de me rappeler.\nCordialement,\nNour\n") == [("PERSON", "Nour")]


@pytest.mark.parametrize(
    "text",
    [
        "maladie de Parkinson, signe de Babinski, score de Glasgow à 15",
        "syndrome de Guillain-Barré, maladie de Crohn, maladie d'Alzheimer",
        "signe de Claude Bernard-Horner, maladie de Wilson, thyroïdite de Hashimoto",
        "No sign of Crohn's disease; Wilson's disease ruled out.",
        "Hôpital Européen Georges Pompidou, Institut Gustave Roussy, rue Victor Hugo",
        "HTA, DT2, IRM cérébrale normale, EVA 6/10, ECG : ACFA",
        "Doliprane 1000 mg, amoxicilline 1 g x 3/j, Kardegic 75 mg",
        "DOLIPRANE 1000 MG cp, KARDEGIC 75 MG sachet",
    ],
)
def test_eponyms_drugs_and_acronyms_are_not_people(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Hb 12,3 g/dL, créatinine 85 µmol/L, CRP 45 mg/L, plaquettes 250 G/L",
        "Diagnostic I21.4, C50.9 ; actes CCAM DZQM006, EBFA012",
        "CIP 3400930000001, lot 23B0456, batch AB123456",
        "recommandations HAS 2019, ESC 2023, KDIGO 2012",
        "NIHSS 4, MMSE 24/30, score CHA2DS2-VASc à 4, FEVG 45 %",
        "à 14h30, à 10:45, pendant 48 h, héparine 25000 UI/24 h",
        "TA 145/85 mmHg, T° 38,5 °C, vitamine D 100 000 UI",
    ],
)
def test_clinical_look_alikes_are_not_flagged(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("DDN : 1956-03-12", "BIRTHDATE", "1956-03-12"),
        ("born on March 3rd, 1956", "BIRTHDATE", "March 3rd, 1956"),
        ("date de naissance : 1er janvier 1950", "BIRTHDATE", "1er janvier 1950"),
        ("née DUPONT le 3 mai 1950", "BIRTHDATE", "3 mai 1950"),
        ("admitted on 03/15/2024", "DATE", "03/15/2024"),
        ("contrôle en mars 2024", "DATE", "mars 2024"),
        ("revu le 03.03.24", "DATE", "03.03.24"),
    ],
)
def test_dates(text: str, kind: str, value: str) -> None:
    assert (kind, value) in found(text)


def test_address_postcode_and_city() -> None:
    text = "demeurant 3 bis, avenue du Général de Gaulle, 69003 Lyon"
    assert found(text) == [
        ("ADDRESS", "3 bis, avenue du Général de Gaulle"),
        ("ZIP", "69003"),
        ("CITY", "Lyon"),
    ]


def test_street_named_after_a_date_is_an_address() -> None:
    assert found("habite 12 rue du 8 Mai 1945") == [("ADDRESS", "12 rue du 8 Mai 1945")]


def test_city_from_the_lexicon_needs_a_residence_context() -> None:
    assert found("domiciliée à Villeurbanne") == [("CITY", "Villeurbanne")]
    assert found("transféré à Villeurbanne pour coronarographie") == []


def test_five_digits_before_a_unit_are_not_a_postcode() -> None:
    assert found("Lovenox 40000 UI") == []


# Issue 15: care dates without a year, cities of residence not in the lexicon.
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Prochain pansement le 16/09, à domicile.", "16/09"),
        ("Transmissions IDE du 3/11 : patiente calme", "3/11"),
    ],
)
def test_care_dates_without_a_year_after_le_du_au(text: str, value: str) -> None:
    assert found(text) == [("DATE", value)]


def test_a_day_and_month_alone_is_a_score() -> None:
    assert found("EVA 6/10, MMSE 24/30 ce jour") == []


@pytest.mark.parametrize(
    ("text", "city"),
    [
        ("Patient vivant seul à domicile à Loudéac.", "Loudéac"),
        ("Retour à domicile prévu à Plougastel-Daoulas", "Plougastel-Daoulas"),
        ("Mme X, née le 12/03/1950 à Paimpol", "Paimpol"),
        ("Patient installé depuis peu à La Roche-sur-Yon", "La Roche-sur-Yon"),
    ],
)
def test_cities_of_residence_or_birth(text: str, city: str) -> None:
    assert ("CITY", city) in found(text)
