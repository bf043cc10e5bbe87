"""Dates and postal data in a text about no one are not reported (issue 15)."""

from __future__ import annotations

from policies.phi import detect
from policies.phi.lone_spans import drop_lone_spans
from policies.spans import Span


def test_a_date_in_a_text_about_no_one_is_dropped() -> None:
    assert detect("Recommandations de la société savante parues le 12 mars 2024.") == []
    assert detect("Réunion de service le 03/04/2024 à 14h, salle du conseil.") == []


def test_a_date_in_a_text_about_a_patient_is_kept() -> None:
    text = "Patiente revue le 03/04/2024, contrôle dans un mois."
    assert [(s.type, text[s.start : s.end]) for s in detect(text)] == [("DATE", "03/04/2024")]


def test_other_identifiers_keep_the_dates_beside_them() -> None:
    spans = [Span(0, 10, "DATE"), Span(20, 30, "PHONE")]
    assert drop_lone_spans("le 03/04/2024 appeler 06 12 34 56 78", spans) == spans
    assert drop_lone_spans("le 03/04/2024 à 9h", [Span(3, 13, "DATE")]) == []


def found(text: str) -> list[tuple[str, str]]:
    return [(s.type, text[s.start : s.end]) for s in detect(text)]


def test_fixed_lines_in_a_text_about_no_one_are_services() -> None:
    rota = "JOUR;POSTE;TÉLÉPHONE\nlundi;senior;02 98 11 22 33\nmardi;interne;02 98 11 22 34\n"
    assert found(rota) == []
    assert found("En cas de problème, appelez le 04 72 11 22 33 (24h/24).") == []
    # A mobile may be anyone's own: it stays.
    assert found("Rappeler le 06 12 34 56 78.") == [("PHONE", "06 12 34 56 78")]


def test_a_role_after_a_title_names_no_one() -> None:
    text = "Mme la Cadre valide le planning le 03/04/2024. M. le Directeur signe."
    assert found(text) == []
    assert found("Mme Durand revue le 03/04/2024.") == [
        ("PERSON", "Durand"),
        ("DATE", "03/04/2024"),
    ]


def test_a_text_about_an_unnamed_patient_keeps_only_its_residence() -> None:
    sent = (
        "Le patient est adressé au laboratoire, 3 rue des Lilas, 29000 Quimper. Tél 02 98 11 22 33."
    )
    assert found(sent) == []
    home = "Le patient vit seul à son domicile, 3 rue des Lilas, 29000 Quimper."
    assert [kind for kind, _ in found(home)] == ["ADDRESS", "ZIP", "CITY"]
    card = "Coordonnées du patient\nTél : 02 98 11 22 33\n"
    assert found(card) == [("PHONE", "02 98 11 22 33")]


def test_words_inside_other_words_are_not_relatives() -> None:
    # "Ampère" holds "père": the supplier's letterhead stays a text about no one.
    assert found("Medisteril SAS\n8 rue Ampère\n44800 Saint-Herblain\nCourrier du 14/09/2023") == []
