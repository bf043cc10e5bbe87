"""The hospital's own data is not patient data: built-in heuristics and the configured allowlist."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.phi import DetectorConfig, InstitutionalAllowlist, PhiDetector, detect
from policies.phi.institutional import _Masks
from policies.phi.luhn import luhn_valid

LETTERHEAD = (
    "CHU de Bordeaux\n"
    "Service de Cardiologie\n"
    "Place Amélie Raba-Léon, 33000 Bordeaux\n"
    "12 rue Victor Hugo \u2013 33000 BORDEAUX CEDEX\n"
    "Standard : 05 56 79 56 79 \u2013 Fax : 05.56.79.60.00\n"
    "secretariat.cardio@chu-bordeaux.fr\n"
    "FINESS : 330781196\n"
)


def found(text: str, detector: PhiDetector | None = None) -> list[tuple[str, str]]:
    spans = detector.detect(text) if detector is not None else detect(text)
    return [(span.type, text[span.start : span.end]) for span in spans]


def test_letterhead_is_not_patient_data() -> None:
    assert found(LETTERHEAD) == []


def test_patient_data_after_the_letterhead_is_still_found() -> None:
    text = LETTERHEAD + "\nMme ZERBIB Awa, demeurant 4 impasse des Acacias 33400 Talence\n"
    assert found(text) == [
        ("PERSON", "ZERBIB Awa"),
        ("ADDRESS", "4 impasse des Acacias"),
        ("ZIP", "33400"),
        ("CITY", "Talence"),
    ]


def test_switchboard_and_secretariat_numbers_are_institutional() -> None:
    assert found("Pour tout renseignement, secrétariat : 01 42 16 00 00.") == []
    assert found("Tél. patient : 06 12 34 56 78") == [("PHONE", "06 12 34 56 78")]


def test_generic_service_mailboxes_are_institutional() -> None:
    assert found("écrire à accueil@clinique-du-parc.fr ou rdv-neuro@chu-lyon.fr") == []
    assert found("répondre à paul.martin@wanadoo.fr") == [("EMAIL", "paul.martin@wanadoo.fr")]


def test_siret_is_masked_only_when_luhn_valid() -> None:
    siret = next(f"3301234500001{d}" for d in "0123456789" if luhn_valid(f"3301234500001{d}"))
    assert found(f"Établissement {siret}") == []


def test_allowlist_strings_patterns_phones_and_domains() -> None:
    allowlist = InstitutionalAllowlist(
        strings=("2 place de l'Hôpital, 67000 Strasbourg",),
        patterns=(r"Permanence\s*:\s*[\d ]+",),
        phone_numbers=("+33 3 88 11 67 68",),
        email_domains=("chru-strasbourg.fr",),
        email_local_patterns=(r"equipe\..+",),
    )
    detector = PhiDetector(DetectorConfig(institutional=allowlist))
    text = (
        "Adresse : 2 place de l'Hôpital, 67000 Strasbourg. Permanence : 03 88 12 34 56. "
        "Appeler le 03 88 11 67 68 ou dr.klein@chru-strasbourg.fr, equipe.mobile@gmail.com. "
        "Patiente : 06 11 22 33 44."
    )
    assert found(text, detector) == [("PHONE", "06 11 22 33 44")]
    assert ("PHONE", "03 88 11 67 68") in found(text)


def test_heuristics_can_be_turned_off() -> None:
    detector = PhiDetector(DetectorConfig(institutional_heuristics=False))
    assert ("PHONE", "05 56 79 56 79") in found(LETTERHEAD, detector)


_INTERVALS = st.lists(
    st.tuples(st.integers(0, 200), st.integers(1, 30)).map(lambda p: (p[0], p[0] + p[1])),
    max_size=25,
)


@given(masks=_INTERVALS, span=st.tuples(st.integers(0, 220), st.integers(1, 30)))
def test_masks_find_the_same_overlaps_as_testing_each_mask(
    masks: list[tuple[int, int]], span: tuple[int, int]
) -> None:
    start, end = span[0], span[0] + span[1]
    expected = any(m_start < end and start < m_end for m_start, m_end in masks)
    merged = _Masks(masks)
    assert bool(merged) == bool(masks)
    assert merged.overlaps(start, end) == expected


# Issue 15: the hospital's own data recognised from the words around it, with no allowlist.
@pytest.mark.parametrize(
    "text",
    [
        "Contact pharmacie : 04 72 11 22 33.",
        "Interne de garde joignable 24h/24 au 06 12 34 56 78.",
        "Pharmacien d'astreinte : 07 11 22 33 44 (nuits et week-ends).",
        "Prévenir le cadre (bip 4521) ou le poste 1234, fax 04 72 11 22 34.",
        "Lot n° 0612345678, péremption 03/27.",
        "Numéro de lot 06 81 22 33 44 à reporter sur la fiche.",
    ],
)
def test_service_lines_and_lots_in_running_text_are_not_phones(text: str) -> None:
    assert found(text) == []


def test_a_patients_number_beside_a_service_word_is_still_found() -> None:
    text = "Portable du patient : 06 12 34 56 78 (service de cardiologie)."
    assert ("PHONE", "06 12 34 56 78") in found(text)


def test_service_mailboxes_at_institutional_domains() -> None:
    assert found("Commandes à pui@chu-rennes.fr ou pharmacie.sterile@chu-nantes.fr.") == []
    assert found("Écrire à bloc.ortho@ch-lorient.fr avant 14h.") == []
    assert found("Copie à paul.martin@chu-rennes.fr") == [("EMAIL", "paul.martin@chu-rennes.fr")]


def test_delivery_and_organisation_addresses_are_institutional() -> None:
    assert (
        found("Les prélèvements sont à déposer au laboratoire, 12 rue Pasteur, 35000 Rennes.") == []
    )
    assert found("Adresse de livraison des échantillons : 5 avenue Foch, 29200 Brest.") == []
    assert found("Réponse à envoyer : BP 1234, 29609 Brest Cedex.") == []
    patient = "Mme ZERBIB Awa, demeurant 4 impasse des Acacias 33400 Talence"
    assert ("ADDRESS", "4 impasse des Acacias") in found(patient)


@pytest.mark.parametrize(
    "text",
    [
        "Protocole validé le 12/03/2023 par la direction des soins ; patients concernés : tous.",
        "Version 3 du 01/02/2024, date d'application : 15/02/2024 pour tout patient.",
        "Mise à jour du 05/06/2022 ; prochaine révision le 05/06/2025. Patient : tout venant.",
        "Selon la loi du 4 mars 2002 relative aux droits des patients.",
    ],
)
def test_dates_of_documents_and_laws_are_not_dates_of_care(text: str) -> None:
    assert found(text) == []


def test_dates_of_care_are_kept() -> None:
    assert found("Patient admis le 12/03/2024, version courte du compte rendu.") == [
        ("DATE", "12/03/2024")
    ]
