"""Names the capitalised-token rules cannot see: lower case, initials, relatives (issue 15)."""

from __future__ import annotations

import pytest

from policies.phi import detect


def persons(text: str) -> list[str]:
    return [text[span.start : span.end] for span in detect(text) if span.type == "PERSON"]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("résume le dossier de mme martin", ["martin"]),
        ("courrier pour m. dubois pierre, vu par dr lefebvre", ["dubois pierre", "lefebvre"]),
        ("la conclusion de dumont edouard stp", ["dumont edouard"]),
        ("reformule l'observation de nathalie girard", ["nathalie girard"]),
    ],
)
def test_lower_case_names(text: str, names: list[str]) -> None:
    assert persons(text) == names


def test_lower_case_words_that_are_not_names_are_left_alone() -> None:
    assert persons("mme est sortie, dr de garde prévenu ; plan de soins pour le patient") == []


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Avis du Dr A. Barbier ce jour.", ["A. Barbier"]),
        ("Objet : N. Maillet\nCher confrère,", ["N. Maillet"]),
        ("Bien confraternellement,\nPr J. KERJEAN\n", ["J. KERJEAN"]),
    ],
)
def test_an_initial_and_a_surname(text: str, names: list[str]) -> None:
    assert persons(text) == names


def test_units_and_sentence_ends_are_not_initials() -> None:
    assert persons("créatinine 85 µmol/L. Codage PMSI I21.4") == []
    assert persons("Traitement A. Puis reprise du traitement B.") == []


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Appel de son époux Richard à 14h, informé.", ["Richard"]),
        ("Sa fille Maïwenn passera demain.", ["Maïwenn"]),
        ("Visite de sa belle-fille Soizic KERMARREC.", ["Soizic KERMARREC"]),
    ],
)
def test_relatives_named_in_nursing_notes(text: str, names: list[str]) -> None:
    assert persons(text) == names


@pytest.mark.parametrize(
    "text",
    ["Validé par Mme la Cadre de santé.", "Signé M. le Directeur des soins",
     "Diffusion : M. le Président de la CME"],
)  # fmt: skip
def test_a_title_followed_by_a_role_is_not_a_name(text: str) -> None:
    assert persons(text) == []


def test_a_lexicon_surname_before_a_lexicon_first_name() -> None:
    assert persons("Compte rendu de Dupont Marie, vue ce jour.") == ["Dupont Marie"]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Ch. 112 : mme Lhermitte, 62 ans", ["Lhermitte"]),
        ("un courrier pour sylvie marchetti stp", ["sylvie marchetti"]),
        ("le dossier de baudouin yannick stp", ["baudouin yannick"]),
        ("son fils gaëtan a appelé", ["gaëtan"]),
        ("Fille (Amandine Vidalenc) passera demain", ["Amandine Vidalenc"]),
        ("Next of kin: Odile (daughter)", ["Odile"]),
        ("Patient Tanguy Labbé, MRN 1", ["Tanguy Labbé"]),
        ("le patient Dupont va mieux", ["Dupont"]),
    ],
)
def test_names_in_typed_notes_and_relatives_fields(text: str, names: list[str]) -> None:
    assert persons(text) == names


@pytest.mark.parametrize(
    "text",
    [
        "Mme la Cadre de santé valide",
        "vu par m. le directeur",
        "Fils : Non",
        "Mère (Cf dossier)",
        "1. Taux de BMR en gériatrie chez les patients",
        "Medisteril SAS, service client",
        "Patient Information Leaflet",
        "pour marie stp",
    ],
)
def test_roles_answers_and_organisations_are_no_names(text: str) -> None:
    assert persons(text) == []
