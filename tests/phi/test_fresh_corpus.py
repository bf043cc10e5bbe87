"""The fresh corpus (tests/phi/fresh/): a second development set, written by a stranger's rules.

It was written before its author read the detector, with its own names, places and document
shapes (pasted tables, rotas, lowercase prompts, pharmacy and supplier notices full of the
hospital's own contact data). It is a development set: the rules of issue 15 were tuned on it
(its first names are in the detector's supplementary lexicon). The floors are the detector's
figures minus a small margin.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from policies.phi import PhiDetector
from tests.phi.evaluation import evaluate
from tests.phi.fresh.generator import CORPUS_PATH, CORPUS_SEED, generate

# 100 % / 0 % / 98.4 % now; 97.8 % / 37.1 % / 65.2 % when the corpus was written, before its
# author read the detector.
FLAG_RECALL_FLOOR = 0.995
FALSE_FLAG_CEILING = 0.02
FULL_COVERAGE_FLOOR = 0.97


def _committed() -> list[dict[str, object]]:
    lines = CORPUS_PATH.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_committed_corpus_is_what_the_generator_makes() -> None:
    assert _committed() == generate(CORPUS_SEED)


def test_corpus_has_the_required_shape() -> None:
    documents = _committed()
    clean = [d for d in documents if not d["spans"]]
    kinds = Counter(str(d["kind"]) for d in documents)
    assert len(documents) >= 300
    assert 0.35 <= len(clean) / len(documents) <= 0.45
    assert {"table", "nursing_handover", "prompt", "rota", "supplier_notice", "stock_table",
            "pharmacy_procedure", "leaflet", "english_note"} <= set(kinds)  # fmt: skip


def test_spans_are_in_bounds_ordered_and_trimmed() -> None:
    for document in _committed():
        text, previous_end = str(document["text"]), 0
        spans = document["spans"]
        assert isinstance(spans, list)
        for span in spans:
            start, end = int(span["start"]), int(span["end"])
            assert previous_end <= start < end <= len(text), document["id"]
            assert text[start:end] == text[start:end].strip()
            previous_end = end


def test_detector_stays_above_its_floors_on_the_fresh_corpus(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scores = evaluate(_committed(), PhiDetector())
    with capsys.disabled():
        print("\n" + scores.table("PHI detector on the fresh corpus (tests/phi/fresh)"))
    assert scores.flag_recall >= FLAG_RECALL_FLOOR, f"{scores.flag_recall:.2%}"
    assert scores.false_flag_rate <= FALSE_FLAG_CEILING, f"{scores.false_flag_rate:.2%}"
    assert scores.full_coverage >= FULL_COVERAGE_FLOOR, f"{scores.full_coverage:.2%}"
