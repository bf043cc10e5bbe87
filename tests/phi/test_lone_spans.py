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
