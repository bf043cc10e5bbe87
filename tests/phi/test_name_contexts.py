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
