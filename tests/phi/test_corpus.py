"""Quality targets of the PHI detector on the labelled synthetic corpus.

Targets (issue "data sovereignty", part 3): on identifier-bearing documents, at least one span
is reported in >= 99.5 % of them and every gold span is covered (>= half of its characters
inside detected spans, see tests/phi/evaluation.py) in >= 90 % of them; at most 10 % of
identifier-free documents get any span. They are checked on the committed corpus and on a
held-out seed the detector was not tuned on.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from policies.phi import PhiDetector
from tests.phi.evaluation import Scores, evaluate
from tests.phi.make_corpus import CORPUS_PATH, CORPUS_SEED, HELD_OUT_SEED, generate


def _committed() -> list[dict[str, object]]:
    lines = CORPUS_PATH.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_committed_corpus_is_what_the_generator_makes() -> None:
    assert _committed() == generate(CORPUS_SEED)


def test_corpus_has_the_required_shape() -> None:
    documents = _committed()
    kinds = Counter(str(d["kind"]) for d in documents)
    clean = [d for d in documents if not d["spans"]]
    assert len(documents) >= 300
    assert len(clean) / len(documents) >= 0.30
    assert {"prompt", "discharge_letter", "prescription", "operative_report", "admission_form",
            "email", "long_record", "english_note"} <= set(kinds)  # fmt: skip
    assert max(len(str(d["text"])) for d in documents) >= 5000
    for document in documents:
        text = str(document["text"])
        spans = document["spans"]
        assert isinstance(spans, list)
        for span in spans:
            assert 0 <= span["start"] < span["end"] <= len(text)
            assert text[span["start"] : span["end"]].strip() == text[span["start"] : span["end"]]


# The detector's figures on both seeds (99.7 % / 0 % / 98.5 % and 99.7 % / 0 % / 98.5 %) less a
# small margin: tighter than the targets (99.5 %, 10 %, 90 %), so that a regression shows.
FLAG_RECALL_FLOOR = 0.995
FALSE_FLAG_CEILING = 0.02
FULL_COVERAGE_FLOOR = 0.975


def _check_targets(scores: Scores) -> None:
    assert scores.flag_recall >= FLAG_RECALL_FLOOR, scores.misses
    assert scores.false_flag_rate <= FALSE_FLAG_CEILING, scores.false_flags
    assert scores.full_coverage >= FULL_COVERAGE_FLOOR, scores.misses


@pytest.mark.parametrize(
    "name", ["committed", "held-out"], ids=[f"seed{CORPUS_SEED}", f"seed{HELD_OUT_SEED}"]
)
def test_targets_are_met(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    documents = _committed() if name == "committed" else generate(HELD_OUT_SEED)
    scores = evaluate(documents, PhiDetector())
    with capsys.disabled():
        print("\n" + scores.table(f"PHI detector on the {name} corpus"))
    _check_targets(scores)
