from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from policies.classify import (
    Classification,
    ClassificationRules,
    ClassSource,
    InvalidDataClassHeader,
    InvalidSpan,
    classify,
    parse_declared_class,
)
from policies.data_class import DataClass
from policies.request_texts import iter_texts
from policies.spans import Span
from tests.policies.regex_test_detector import RegexTestDetector


def chat(*contents: str | list[Any]) -> list[Any]:
    body = {"model": "m", "messages": [{"role": "user", "content": c} for c in contents]}
    return iter_texts("chat", body)


def run(
    *contents: str | list[Any],
    declared: DataClass | None = None,
    default: DataClass | None = None,
    rules: ClassificationRules | None = None,
) -> Classification:
    return classify(
        chat(*contents),
        RegexTestDetector(),
        rules or ClassificationRules(),
        declared=declared,
        default=default,
    )


class ExplodingDetector:
    def detect(self, text: str) -> list[Span]:
        raise RuntimeError("model not loaded")


class OutOfRangeDetector:
    def detect(self, text: str) -> list[Span]:
        return [Span(0, len(text) + 5, "PERSON")]


class NewTypeDetector:
    def detect(self, text: str) -> list[Span]:
        return [Span(0, 1, "BADGE")]


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("health", DataClass.HEALTH), (" Personal ", DataClass.PERSONAL)],
)
def test_declared_class_header_is_parsed(header: str | None, expected: DataClass | None) -> None:
    assert parse_declared_class(header) is expected


@pytest.mark.parametrize("header", ["secret", "", "3"])
def test_an_invalid_header_is_a_400_error(header: str) -> None:
    with pytest.raises(InvalidDataClassHeader) as caught:
        parse_declared_class(header)

    assert caught.value.status_code == 400
    assert caught.value.code == "invalid_data_class"
    assert "public, internal, personal, health" in str(caught.value)


def test_nothing_declared_nor_found_is_the_policy_minimum() -> None:
    result = run("Quelle est la posologie du paracétamol ?")

    assert result.data_class is DataClass.PUBLIC
    assert result.sources == {ClassSource.MINIMUM}
    assert result.entity_counts == {}


def test_a_raised_minimum_applies_to_every_request() -> None:
    result = run("Bonjour", rules=ClassificationRules(minimum=DataClass.INTERNAL))

    assert result.data_class is DataClass.INTERNAL


def test_a_patient_identifier_makes_the_request_health_data() -> None:
    result = run("Mme Dupont, NIR 1850575123456, revue le 3 mars", "IPP 1234567 et Mme Dupont")

    assert result.data_class is DataClass.HEALTH
    assert result.sources == {ClassSource.DETECTED}
    assert result.entity_counts == {"IPP": 1, "NIR": 1, "PERSON": 2}


def test_an_email_alone_is_personal_data() -> None:
    result = run("Écrire à jean.martin@example.org")

    assert result.data_class is DataClass.PERSONAL
    assert result.entity_counts == {"EMAIL": 1}


def test_the_strictest_input_wins_and_ties_are_all_reported() -> None:
    result = run("Mme Dupont", declared=DataClass.PERSONAL, default=DataClass.HEALTH)

    assert result.data_class is DataClass.HEALTH
    assert result.sources == {ClassSource.DEFAULT, ClassSource.DETECTED}
    assert result.contributions[ClassSource.DECLARED] is DataClass.PERSONAL


def test_a_declaration_can_raise_but_not_lower_the_class() -> None:
    assert run("Mme Dupont", declared=DataClass.PUBLIC).data_class is DataClass.HEALTH
    assert run("Bonjour", declared=DataClass.HEALTH).data_class is DataClass.HEALTH


def test_the_entity_mapping_comes_from_the_policy() -> None:
    rules = ClassificationRules(entities={"PERSON": DataClass.PERSONAL})

    assert run("Mme Dupont", rules=rules).data_class is DataClass.PERSONAL
    # A type missing from the mapping takes ``unknown_entity`` (health by default).
    assert run("jean@example.org", rules=rules).data_class is DataClass.HEALTH


def test_an_unknown_entity_type_takes_the_unknown_entity_class() -> None:
    rules = ClassificationRules(unknown_entity=DataClass.PERSONAL)

    result = classify(chat("x"), NewTypeDetector(), rules)

    assert result.data_class is DataClass.PERSONAL
    assert result.entity_counts == {"BADGE": 1}


def test_unscannable_input_takes_its_own_class() -> None:
    image = [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}]

    result = run("Bonjour", image)

    assert result.data_class is DataClass.HEALTH
    assert result.sources == {ClassSource.UNSCANNABLE}
    assert result.unscannable_count == 1


def test_class_without_detection_keeps_declared_default_and_unscannable() -> None:
    detected_only = run("Mme Dupont", default=DataClass.INTERNAL)
    declared = run("Mme Dupont", declared=DataClass.HEALTH)

    assert detected_only.class_without_detection is DataClass.INTERNAL
    assert declared.class_without_detection is DataClass.HEALTH


def test_spans_are_kept_per_text_but_never_shown() -> None:
    result = run("Bonjour", "Mme Dupont")

    assert [len(s.spans) for s in result.scanned] == [0, 1]
    assert result.scanned[1].spans == (Span(4, 10, "PERSON"),)
    assert "Dupont" not in repr(result)
    assert "Dupont" not in repr(result.scanned)


def test_a_failing_detector_fails_the_classification() -> None:
    with pytest.raises(RuntimeError, match="model not loaded"):
        classify(chat("x"), ExplodingDetector(), ClassificationRules())


def test_a_span_outside_its_text_is_a_detector_bug() -> None:
    with pytest.raises(InvalidSpan, match=r"messages\[0\]\.content"):
        classify(chat("abc"), OutOfRangeDetector(), ClassificationRules())


def test_classification_rules_refuse_numbers_and_lower_case_types() -> None:
    with pytest.raises(ValidationError, match="expected a data class name"):
        ClassificationRules.model_validate({"minimum": 3})
    with pytest.raises(ValidationError, match="upper case"):
        ClassificationRules.model_validate({"entities": {"nir": "health"}})
    with pytest.raises(ValidationError, match="unknown data class"):
        ClassificationRules.model_validate({"unknown_entity": "secret"})
