"""The held-out corpus (tests/phi/heldout/): reproducible, well-formed, a floor for the detector.

The corpus was written independently of the detector and of its own corpus generator, so its
scores estimate how the detector does on text it was not tuned on. The floors below are the
detector's figures when the corpus was made, minus a small margin: they catch regressions, they
are not targets. Raise them when the detector improves; never tune the detector on this corpus'
individual misses (only the aggregate table is printed).
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from policies.phi import PhiDetector
from tests.phi.evaluation import evaluate
from tests.phi.heldout.document import TYPES, Document
from tests.phi.heldout.generator import CORPUS_PATH, CORPUS_SEED, generate
from tests.phi.heldout.identifiers import iban_is_valid, luhn_is_valid, nir_is_valid, nir_key

# 93.8 % / 17.3 % / 74.1 % on the committed corpus (issue 15, after the fresh-corpus rules).
FLAG_RECALL_FLOOR = 0.93
FALSE_FLAG_CEILING = 0.18
FULL_COVERAGE_FLOOR = 0.73


def _committed() -> list[dict[str, object]]:
    lines = CORPUS_PATH.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _spans(document: dict[str, object]) -> list[dict[str, int | str]]:
    spans = document["spans"]
    assert isinstance(spans, list)
    return spans


def test_committed_corpus_is_what_the_generator_makes() -> None:
    assert _committed() == generate(CORPUS_SEED)


def test_another_seed_gives_other_documents() -> None:
    assert [d["text"] for d in generate(CORPUS_SEED + 1)[:20]] != [
        d["text"] for d in generate(CORPUS_SEED)[:20]
    ]


def test_corpus_has_the_required_shape() -> None:
    documents = _committed()
    clean = [d for d in documents if not d["spans"]]
    kinds = Counter(str(d["kind"]) for d in documents)
    assert len(documents) >= 450
    assert 0.35 <= len(clean) / len(documents) <= 0.45
    assert len({d["id"] for d in documents}) == len(documents)
    assert {"prompt", "table", "nursing_note", "discharge_letter", "liaison_letter", "long_record",
            "english_note", "email", "prescription", "operative_report", "protocol", "pharmacy",
            "lab_result", "memo", "patient_leaflet", "english_policy"} <= set(kinds)  # fmt: skip
    assert max(len(str(d["text"])) for d in documents) >= 4000
    types = Counter(str(s["type"]) for d in documents for s in _spans(d))
    assert set(types) == TYPES


def test_spans_are_in_bounds_ordered_and_disjoint() -> None:
    for document in _committed():
        text = str(document["text"])
        end_of_previous = 0
        for span in _spans(document):
            start, end = int(span["start"]), int(span["end"])
            assert span["type"] in TYPES
            assert end_of_previous <= start < end <= len(text), document["id"]
            assert text[start:end] == text[start:end].strip()
            end_of_previous = end


def _values(kind: str) -> list[str]:
    return [
        str(d["text"])[int(s["start"]) : int(s["end"])]
        for d in _committed()
        for s in _spans(d)
        if s["type"] == kind
    ]


def test_labelled_identifiers_have_valid_checksums() -> None:
    nirs, ibans, rpps = _values("NIR"), _values("IBAN"), _values("RPPS")
    assert nirs and ibans and rpps
    assert all(nir_is_valid(value) for value in nirs)
    assert any("2A" in value or "2B" in value for value in nirs)
    assert all(iban_is_valid(value) for value in ibans)
    assert all(re.fullmatch(r"\d{11}", value) and luhn_is_valid(value) for value in rpps)


def test_labelled_contacts_and_numbers_are_well_formed() -> None:
    assert all(re.fullmatch(r"[a-z0-9._-]+@[a-z0-9.-]+\.[a-z]+", v) for v in _values("EMAIL"))
    assert all(re.fullmatch(r"\d{5}", v) for v in _values("ZIP"))
    assert all(re.fullmatch(r"\d{10}", v) for v in _values("IPP") + _values("NDA"))
    for phone in _values("PHONE"):
        digits = re.sub(r"\D", "", phone)
        assert re.fullmatch(r"0[1-9]\d{8}|33[1-9]\d{8}|0033[1-9]\d{8}", digits), phone


def test_the_checks_agree_with_published_examples() -> None:
    # INSEE's own example NIR, the usual French sample IBAN, and the textbook Luhn number.
    assert nir_key("2550814168025") == 38
    assert nir_is_valid("2 55 08 14 168 025 38") and not nir_is_valid("2 55 08 14 168 025 39")
    assert iban_is_valid("FR14 2004 1010 0505 0001 3M02 606")
    assert not iban_is_valid("FR14 2004 1010 0505 0001 3M02 607")
    assert luhn_is_valid("79927398713") and not luhn_is_valid("79927398710")


def test_document_records_the_offsets_of_what_it_inserted() -> None:
    record = (
        Document("example")
        .add("Mme ", ("PERSON", "Lefort"), ", née le ", ("BIRTHDATE", "3/4/1950"))
        .line(" à ", ("CITY", "Oyonnax"))
        .finish("x1")
    )
    assert record["text"] == "Mme Lefort, née le 3/4/1950 à Oyonnax\n"
    assert record["spans"] == [
        {"start": 4, "end": 10, "type": "PERSON"},
        {"start": 19, "end": 27, "type": "BIRTHDATE"},
        {"start": 30, "end": 37, "type": "CITY"},
    ]
    with pytest.raises(AssertionError):
        Document("example").add(("PERSON", " Lefort"))


def test_detector_stays_above_its_floors_on_the_held_out_corpus(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scores = evaluate(_committed(), PhiDetector())
    with capsys.disabled():
        print("\n" + scores.table("PHI detector on the held-out corpus (tests/phi/heldout)"))
    # Only aggregates in the messages: the individual misses must not steer the detector.
    assert scores.flag_recall >= FLAG_RECALL_FLOOR, f"{scores.flag_recall:.2%}"
    assert scores.false_flag_rate <= FALSE_FLAG_CEILING, f"{scores.false_flag_rate:.2%}"
    assert scores.full_coverage >= FULL_COVERAGE_FLOOR, f"{scores.full_coverage:.2%}"
