"""The detector's output contract, its configuration, ``summarise`` and ``scan_jsonl``."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from policies.phi import (
    ALL_KINDS,
    DetectorConfig,
    PhiDetector,
    default_detector,
    detect,
    scan_jsonl,
    summarise,
)
from policies.spans import Span

SAMPLE = (
    "Mme DUPONT Marie née le 12/03/1956, NIR 2 56 03 75 112 345 10, tél 06 12 34 56 78, "
    "marie.dupont@gmail.com, vue le 3 mars 2024 et le 4 mars 2024."
)


def test_spans_are_sorted_disjoint_and_typed() -> None:
    spans = detect(SAMPLE)
    assert spans == sorted(spans)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    assert {span.type for span in spans} <= ALL_KINDS
    assert summarise(spans) == {
        "BIRTHDATE": 1, "DATE": 2, "EMAIL": 1, "NIR": 1, "PERSON": 1, "PHONE": 1,
    }  # fmt: skip


def test_adjacent_spans_of_one_type_are_merged() -> None:
    # A first name and an upper-case surname found separately come back as one span.
    text = "Personne à prévenir : Lyna KERJEAN"
    assert detect(text) == [Span(22, 34, "PERSON")]


def test_enabled_types_limit_the_output() -> None:
    detector = PhiDetector(DetectorConfig(enabled_types=frozenset({"PHONE", "EMAIL"})))
    assert {span.type for span in detector.detect(SAMPLE)} == {"PHONE", "EMAIL"}


def test_config_rejects_bad_patterns_and_unknown_types() -> None:
    with pytest.raises(ValidationError):
        DetectorConfig(ipp_patterns=("(unclosed",))
    with pytest.raises(ValidationError):
        DetectorConfig(enabled_types=frozenset({"SSN"}))
    with pytest.raises(ValidationError):
        DetectorConfig.model_validate({"unknown_field": 1})


def test_default_detector_is_built_once() -> None:
    assert default_detector() is default_detector()


def test_scan_jsonl_contract() -> None:
    lines = [
        json.dumps({"id": "a", "text": "Appeler Mme ÉLODIE au 06 12 34 56 78"}),
        "",
        "not json",
        json.dumps({"id": 7, "text": 12}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "b", "text": "Hb 12,3 g/dL"}),
    ]
    out = [json.loads(line) for line in scan_jsonl(lines, PhiDetector())]
    assert out[0]["id"] == "a"
    phone = next(span for span in out[0]["spans"] if span["type"] == "PHONE")
    text = "Appeler Mme ÉLODIE au 06 12 34 56 78"
    assert text[phone["start"] : phone["end"]] == "06 12 34 56 78"
    assert out[1] == {"id": None, "error": out[1]["error"]} and "JSON" in out[1]["error"]
    assert out[2]["id"] == 7 and "text" in out[2]["error"]
    assert out[3]["id"] is None and "error" in out[3]
    assert out[4] == {"id": "b", "spans": []}
    assert len(out) == 5


def test_offsets_are_code_points_not_bytes() -> None:
    text = "😀 Ça va ? Tél 06 12 34 56 78"
    (line,) = scan_jsonl([json.dumps({"id": 1, "text": text})], PhiDetector())
    (span,) = json.loads(line)["spans"]
    assert text[span["start"] : span["end"]] == "06 12 34 56 78"


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_any_text_gives_well_formed_spans(text: str) -> None:
    spans = detect(text)
    assert all(0 <= s.start < s.end <= len(text) for s in spans)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


def test_policies_phi_imports_no_web_or_database_layer() -> None:
    code = (
        "import sys, policies.phi; "
        "bad = [m for m in ('fastapi', 'starlette', 'sqlalchemy', 'redis', 'httpx', 'aiohttp') "
        "if m in sys.modules]; print(bad)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
