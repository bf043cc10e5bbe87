from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.classify import Classification, ClassificationRules, classify
from policies.pseudonymise import (
    PseudonymisationError,
    PseudonymisedRequest,
    Pseudonyms,
    StreamRestorer,
    pseudonymise,
)
from policies.request_texts import iter_texts
from policies.spans import Span
from tests.policies.regex_test_detector import RegexTestDetector


def classify_body(endpoint: str, body: dict[str, Any], detector: Any = None) -> Classification:
    return classify(
        iter_texts(endpoint, body), detector or RegexTestDetector(), ClassificationRules()
    )


def run(body: dict[str, Any], endpoint: str = "chat") -> PseudonymisedRequest:
    return pseudonymise(body, classify_body(endpoint, body))


def chat(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"model": "gpt", "messages": list(messages)}


def test_identifiers_are_replaced_consistently_across_the_whole_request() -> None:
    body = chat(
        {"role": "system", "content": "Dossier de Mme Dupont (NIR 1850575123456)."},
        {
            "role": "user",
            "content": [{"type": "text", "text": "Mme DUPONT ? Non : Mme Martin et Mme Dupont."}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "IPP 1234567 = Mme Dupont"},
    )
    original = copy.deepcopy(body)

    result = run(body)

    messages = result.body["messages"]
    assert messages[0]["content"] == "Dossier de Mme [PERSON_1] (NIR [NIR_1])."
    # "DUPONT" is the detected "Dupont" in another case: it goes too.
    assert (
        messages[1]["content"][0]["text"]
        == "Mme [PERSON_1] ? Non : Mme [PERSON_2] et Mme [PERSON_1]."
    )
    assert messages[2]["content"] == "IPP [IPP_1] = Mme [PERSON_1]"
    assert body == original  # the caller's body is never modified
    assert result.replaced == {"IPP": 1, "NIR": 1, "PERSON": 5}
    assert result.pseudonyms.entity_counts == {"PERSON": 2, "NIR": 1, "IPP": 1}


def test_the_same_value_in_another_case_or_spacing_gets_the_same_placeholder() -> None:
    class ExactDetector:
        def detect(self, text: str) -> list[Span]:
            start = (
                text.find("Jean  DUPONT") if "Jean  DUPONT" in text else text.find("jean dupont")
            )
            return [Span(start, start + (12 if "Jean  DUPONT" in text else 11), "PERSON")]

    body = chat(
        {"role": "user", "content": "Jean  DUPONT"}, {"role": "user", "content": "jean dupont"}
    )

    result = pseudonymise(body, classify_body("chat", body, ExactDetector()))

    assert [m["content"] for m in result.body["messages"]] == ["[PERSON_1]", "[PERSON_1]"]
    assert result.pseudonyms.restore("[PERSON_1]") == "Jean  DUPONT"


def test_the_response_is_restored() -> None:
    result = run(chat({"role": "user", "content": "Mme Dupont, NIR 1850575123456"}))

    restored = result.pseudonyms.restore("Synthèse pour [PERSON_1] ([NIR_1]); [PERSON_9] inconnu.")

    assert restored == "Synthèse pour Dupont (1850575123456); [PERSON_9] inconnu."


def test_name_fields_get_a_placeholder_without_brackets() -> None:
    body = chat({"role": "user", "name": "Mme Dupont", "content": "Mme Dupont"})

    result = run(body)

    # Whole: half a name would still identify.
    assert result.body["messages"][0]["name"] == "PERSON_1"
    assert result.body["messages"][0]["content"] == "Mme [PERSON_1]"


def test_tool_arguments_stay_valid_json_and_are_restored_json_escaped() -> None:
    arguments = json.dumps({"patient": "Mme Hervé", "note": 'dit "Mme Hervé"'})
    assert "\\u00e9" in arguments  # json.dumps escapes non-ASCII by default
    body = chat(
        {"role": "user", "content": "Mme Hervé"},
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": arguments}}
            ],
        },
    )

    class AccentDetector:
        def detect(self, text: str) -> list[Span]:
            # The raw JSON text holds "Herv\u00e9": a span cutting the escape must be widened.
            spans = []
            for needle in ("Hervé", "Herv\\u00e9"):
                start = text.find(needle)
                while start != -1:
                    end = start + (len("Herv\\u") if "\\" in needle else len(needle))
                    spans.append(Span(start, end, "PERSON"))
                    start = text.find(needle, start + 1)
            return spans

    result = pseudonymise(body, classify_body("chat", body, AccentDetector()))

    new_arguments = result.body["messages"][1]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(new_arguments) == {
        "patient": "Mme [PERSON_1]",
        "note": 'dit "Mme [PERSON_1]"',
    }
    assert result.body["messages"][0]["content"] == "Mme [PERSON_1]"
    assert (
        result.pseudonyms.restore('{"who": "[PERSON_1]"}', json_escape=True) == '{"who": "Hervé"}'
    )


def test_a_rewrite_that_would_break_json_arguments_is_refused() -> None:
    class QuoteDetector:
        def detect(self, text: str) -> list[Span]:
            start = text.find('x"')
            return [Span(start, start + 2, "PERSON")] if start != -1 else []

    arguments = '{"a": "x"}'
    body = chat({"role": "assistant", "function_call": {"name": "f", "arguments": arguments}})

    with pytest.raises(PseudonymisationError, match="break tool-call arguments"):
        pseudonymise(body, classify_body("chat", body, QuoteDetector()))


def test_placeholders_never_collide_with_tokens_already_in_the_request() -> None:
    body = chat(
        {"role": "user", "content": "Texte déjà pseudonymisé: [PERSON_1], PERSON_2. Mme Dupont"}
    )

    result = run(body)

    assert result.body["messages"][0]["content"].endswith("Mme [PERSON_3]")
    # The pre-existing placeholder is not ours: the response keeps it as is.
    assert result.pseudonyms.restore("[PERSON_1] [PERSON_3]") == "[PERSON_1] Dupont"


def test_overlapping_spans_are_replaced_once() -> None:
    class OverlapDetector:
        def detect(self, text: str) -> list[Span]:
            return [Span(0, 8, "PERSON"), Span(4, 12, "CITY"), Span(13, 15, "ZIP")]

    body = {"model": "e", "input": "Jean Dupont Lyon"}

    result = pseudonymise(body, classify_body("embeddings", body, OverlapDetector()))

    assert result.body["input"] == "[PERSON_1]L[ZIP_1]n"
    assert result.pseudonyms.restore(result.body["input"]) == "Jean Dupont Lyon"


def test_completion_prompts_and_embedding_inputs_are_pseudonymised() -> None:
    completions = run({"model": "m", "prompt": ["Mme Dupont", "rien"]}, "completions")
    embeddings = run({"model": "e", "input": "NIR 1850575123456"}, "embeddings")

    assert completions.body["prompt"] == ["Mme [PERSON_1]", "rien"]
    assert embeddings.body["input"] == "NIR [NIR_1]"


def test_unscannable_input_cannot_be_pseudonymised() -> None:
    body = {"model": "m", "prompt": [[1, 2, 3], "Mme Dupont"]}

    with pytest.raises(PseudonymisationError, match="cannot be scanned"):
        run(body, "completions")


def test_a_body_changed_after_classification_is_refused() -> None:
    body = chat({"role": "user", "content": "Mme Dupont"})
    classification = classify_body("chat", body)
    body["messages"][0]["content"] = "Mme Dupont et Mme Martin"

    with pytest.raises(
        PseudonymisationError, match=r"changed since it was classified \(messages\[0\]"
    ):
        pseudonymise(body, classification)


def test_the_table_is_never_shown_nor_serialisable() -> None:
    result = run(chat({"role": "user", "content": "Mme Dupont 1850575123456"}))
    restorer = result.pseudonyms.stream_restorer()
    restorer.feed("[PERS")

    for shown in (repr(result), repr(result.pseudonyms), repr(restorer), str(result.pseudonyms)):
        assert "Dupont" not in shown
        assert "1850575123456" not in shown
    assert repr(result.pseudonyms) == "Pseudonyms(2 placeholders, originals redacted)"
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(result.pseudonyms)


def make_pseudonyms() -> Pseudonyms:
    return Pseudonyms({"[PERSON_1]": "Dupont", "[PERSON_12]": "Martin", "[NIR_1]": "1850575123456"})


def test_a_placeholder_split_across_chunks_is_held_back_then_restored() -> None:
    restorer = make_pseudonyms().stream_restorer()

    assert restorer.feed("Bonjour [PER") == "Bonjour "
    assert restorer.feed("SON_1] a") == "Dupont a"
    assert restorer.feed(" [PERSON_1") == " "
    assert restorer.feed("2]") == "Martin"
    assert restorer.feed(" [note] [x") == " [note] [x"
    assert restorer.feed(" fin [NI") == " fin "
    assert restorer.flush() == "[NI"


def test_a_json_stream_restorer_escapes_the_originals() -> None:
    restorer = Pseudonyms({"[PERSON_1]": 'Jean "JD"'}).stream_restorer(json_escape=True)

    assert restorer.feed('{"n": "[PERSON') + restorer.feed('_1]"}') + restorer.flush() == (
        '{"n": "Jean \\"JD\\""}'
    )


_fragments = st.sampled_from(
    [
        "[PERSON_1]",
        "[PERSON_12]",
        "[NIR_1]",
        "[PERSON_2]",
        "[",
        "]",
        "PERSON_1",
        " ",
        "a",
        "[[",
        "_1]",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(st.one_of(_fragments, st.text(max_size=4)), max_size=20).map("".join),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=12),
)
def test_restoring_a_stream_equals_restoring_the_whole_whatever_the_chunking(
    text: str, cuts: list[int]
) -> None:
    pseudonyms = make_pseudonyms()
    positions = sorted({min(c, len(text)) for c in cuts})
    chunks = [text[a:b] for a, b in zip([0, *positions], [*positions, len(text)], strict=True)]
    restorer: StreamRestorer = pseudonyms.stream_restorer()

    streamed = "".join(restorer.feed(chunk) for chunk in chunks) + restorer.flush()

    assert streamed == pseudonyms.restore(text)
    assert restorer.flush() == ""


@settings(max_examples=100, deadline=None)
@given(chunk_size=st.integers(min_value=1, max_value=7))
def test_at_most_a_placeholder_is_held_back(chunk_size: int) -> None:
    restorer = make_pseudonyms().stream_restorer()
    text = "Mme [PERSON_12] et [NIR_1] puis [PERSON_1]." * 3
    held = 0
    emitted = ""
    for start in range(0, len(text), chunk_size):
        chunk = text[start : start + chunk_size]
        emitted += restorer.feed(chunk)
        held = max(held, restorer.held_back_chars)
    emitted += restorer.flush()

    assert emitted == "Mme Martin et 1850575123456 puis Dupont." * 3
    assert 0 < held < len("[PERSON_12]")
