from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.key_context import PROTOCOL_VALUES
from policies.request_texts import Endpoint, TextKind, TextRef, UnsupportedEndpoint, iter_texts


def make_chat_body() -> dict[str, Any]:
    return {
        "model": "mistral-large",
        "messages": [
            {"role": "system", "content": "You are a clinical assistant."},
            {"role": "developer", "content": "Answer in French."},
            {
                "role": "user",
                "name": "dr_martin",
                "content": [
                    {"type": "text", "text": "Résume le dossier de Mme Dupont."},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": '{"ipp": "IPP 1234567"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "NIR 1850575123456"},
            {"role": "assistant", "function_call": {"name": "legacy", "arguments": "{}"}},
        ],
        "tools": [{"type": "function", "function": {"name": "lookup", "description": "Find"}}],
        "metadata": {"ticket": "Mme Durand"},
        "user": "u-42",
        "temperature": 0.2,
        "stream": True,
    }


def by_location(refs: list[TextRef]) -> dict[str, TextRef]:
    return {ref.location: ref for ref in refs}


def test_chat_returns_every_text_of_every_message_with_its_kind_and_role() -> None:
    refs = by_location(iter_texts("/v1/chat/completions", make_chat_body()))

    expected = {
        "messages[0].content": (TextKind.CONTENT, "system", "You are a clinical assistant."),
        "messages[1].content": (TextKind.CONTENT, "developer", "Answer in French."),
        "messages[2].name": (TextKind.NAME, "user", "dr_martin"),
        "messages[2].content[0].text": (
            TextKind.CONTENT,
            "user",
            "Résume le dossier de Mme Dupont.",
        ),
        "messages[3].tool_calls[0].function.name": (TextKind.NAME, "assistant", "lookup"),
        "messages[3].tool_calls[0].function.arguments": (
            TextKind.TOOL_ARGUMENTS,
            "assistant",
            '{"ipp": "IPP 1234567"}',
        ),
        "messages[3].tool_calls[0].id": (TextKind.CONTENT, "assistant", "call_1"),
        "messages[4].tool_call_id": (TextKind.CONTENT, "tool", "call_1"),
        "messages[4].content": (TextKind.CONTENT, "tool", "NIR 1850575123456"),
        "messages[5].function_call.name": (TextKind.NAME, "assistant", "legacy"),
        "messages[5].function_call.arguments": (TextKind.TOOL_ARGUMENTS, "assistant", "{}"),
        "tools[0].function.name": (TextKind.NAME, None, "lookup"),
        "tools[0].function.description": (TextKind.OTHER, None, "Find"),
        "metadata.ticket": (TextKind.OTHER, None, "Mme Durand"),
        "user": (TextKind.OTHER, None, "u-42"),
    }
    scannable = {loc: ref for loc, ref in refs.items() if ref.scannable}
    assert {loc: (r.kind, r.role, r.text) for loc, r in scannable.items()} == expected


def test_non_text_content_parts_are_opaque_and_protocol_vocabulary_is_skipped() -> None:
    refs = iter_texts("chat/completions", make_chat_body())

    opaque = [ref for ref in refs if not ref.scannable]
    assert [(ref.location, ref.opaque_reason, ref.role) for ref in opaque] == [
        ("messages[2].content[1]", "image_url content part", "user")
    ]
    texts = {ref.text for ref in refs}
    assert not texts & {"mistral-large", "system", "function", "tool", "messages", "role"}
    assert "call_1" in texts  # ids are scanned: a client may put anything there


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("Bonjour", [("prompt", "Bonjour", None)]),
        (["a", "b"], [("prompt[0]", "a", None), ("prompt[1]", "b", None)]),
        ([1, 2, 3], [("prompt", "", "token ids")]),
        ([[1, 2], [3]], [("prompt[0]", "", "token ids"), ("prompt[1]", "", "token ids")]),
    ],
)
def test_completion_prompts_as_text_list_or_token_ids(
    prompt: object, expected: list[tuple[str, str, str | None]]
) -> None:
    refs = iter_texts("completions", {"model": "m", "prompt": prompt, "max_tokens": 5})

    assert [(r.location, r.text, r.opaque_reason) for r in refs] == expected
    assert all(r.kind is TextKind.PROMPT for r in refs)


def test_completion_suffix_is_a_prompt_text() -> None:
    refs = iter_texts("completions", {"model": "m", "prompt": "a", "suffix": "z"})

    assert [(r.location, r.kind) for r in refs] == [
        ("prompt", TextKind.PROMPT),
        ("suffix", TextKind.PROMPT),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("un texte", [("input", "un texte", None)]),
        (["x", "y"], [("input[0]", "x", None), ("input[1]", "y", None)]),
        ([5, 6], [("input", "", "token ids")]),
    ],
)
def test_embedding_inputs(value: object, expected: list[tuple[str, str, str | None]]) -> None:
    refs = iter_texts("/v1/embeddings", {"model": "e5", "input": value})

    assert [(r.location, r.text, r.opaque_reason) for r in refs] == expected
    assert all(r.kind is TextKind.INPUT for r in refs)


def test_write_replaces_the_text_at_its_path_and_read_sees_it() -> None:
    body = make_chat_body()
    refs = by_location(iter_texts("chat", body))

    ref = refs["messages[2].content[0].text"]
    ref.write(body, "Résume le dossier de Mme [PERSON_1].")

    assert body["messages"][2]["content"][0]["text"] == "Résume le dossier de Mme [PERSON_1]."
    assert ref.read(body) == "Résume le dossier de Mme [PERSON_1]."


def test_writing_into_opaque_input_is_refused() -> None:
    body = {"model": "m", "prompt": [1, 2]}
    (ref,) = iter_texts("completions", body)

    with pytest.raises(ValueError, match="opaque"):
        ref.write(body, "x")


def test_repr_shows_the_place_never_the_text() -> None:
    (ref,) = iter_texts("embeddings", {"input": "Mme Dupont 1850575123456"})

    assert "Dupont" not in repr(ref)
    assert repr(ref) == "TextRef(input, input, 24 chars)"


def test_endpoint_names_are_normalised_and_unknown_ones_refused() -> None:
    assert Endpoint.parse("/v1/chat/completions") is Endpoint.CHAT
    assert Endpoint.parse("chat") is Endpoint.CHAT
    assert Endpoint.parse("v1/embeddings") is Endpoint.EMBEDDINGS
    with pytest.raises(UnsupportedEndpoint):
        iter_texts("/v1/audio/transcriptions", {"file": "x"})


def test_the_body_is_not_modified() -> None:
    body = make_chat_body()
    before = copy.deepcopy(body)

    iter_texts("chat", body)

    assert body == before


_STRUCTURAL = {"role", "type"}
_VOCABULARY = PROTOCOL_VALUES
_PROTOCOL_KEYS = {"content", "text", "name", "role", "id", "metadata", "stop", "user", "messages"}
_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(["user", "text", "DUPONT", ""]),
    st.text(max_size=8),
)
_json = st.recursive(
    _json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(
            st.sampled_from(["content", "text", "name", "role", "x", "id", "ipp", "Mme Durand"]),
            children,
        ),
    ),
    max_leaves=12,
)


def _without_payload(part: object) -> object:
    if not isinstance(part, dict):
        return None
    return {
        k: _without_payload(v) if isinstance(v, dict) else v
        for k, v in part.items()
        if isinstance(v, dict) or k not in {"url", "data", "file_data", "image_url", "input_audio"}
    }


def _leaves(value: object, key: str | None = None, hinted: bool = False) -> list[str]:
    """What the walk must find: strings but protocol words under role/type, long numbers (four
    digits are enough under "ipp"), keys but the protocol's."""
    if isinstance(value, str):
        return [] if (key in _STRUCTURAL and value in _VOCABULARY) or not value else [value]
    if isinstance(value, int) and not isinstance(value, bool):
        digits = sum(c.isdigit() for c in str(value))
        return [str(value)] if digits >= 6 or (hinted and digits >= 4) else []
    if isinstance(value, dict):
        keys = [k for k in value if k not in _PROTOCOL_KEYS]
        return keys + [s for k, v in value.items() for s in _leaves(v, k, k == "ipp")]
    if isinstance(value, list):
        # Only a string *directly* under a structural key is vocabulary; a hint reaches items.
        return [s for v in value for s in _leaves(v, None, hinted)]
    return []


@settings(max_examples=150, deadline=None)
@given(
    messages=st.lists(
        st.fixed_dictionaries(
            {"role": st.sampled_from(["user", "system"])},
            optional={"content": st.one_of(st.text(max_size=8), st.lists(_json, max_size=3))},
        ),
        max_size=4,
    ),
    extra=st.dictionaries(st.sampled_from(["metadata", "stop", "user"]), _json, max_size=2),
)
def test_every_string_key_and_long_number_is_found_once_and_can_be_rewritten(
    messages: list[dict[str, Any]], extra: dict[str, Any]
) -> None:
    body: dict[str, Any] = {"model": "m", "messages": messages, **extra}
    refs = iter_texts("chat", body)
    scannable = [ref for ref in refs if ref.scannable]

    # Opaque parts are the non-text content parts; their payloads are (rightly) not scanned,
    # their other fields are.
    readable_body = copy.deepcopy(body)
    for ref in refs:
        if not ref.scannable:
            node: Any = readable_body
            for element in ref.path[:-1]:
                node = node[element]
            node[ref.path[-1]] = _without_payload(node[ref.path[-1]])
    expected = _leaves({k: v for k, v in readable_body.items() if k != "model"})
    assert sorted(ref.text for ref in scannable) == sorted(expected)
    assert all(ref.read(body) == ref.text for ref in scannable)

    values = [ref for ref in scannable if ref.kind is not TextKind.KEY]
    keys = [ref for ref in scannable if ref.kind is TextKind.KEY]
    for ref in values:
        ref.write(body, "REPLACED")
    # Keys last, the deepest first, each to a name of its own.
    for number, ref in enumerate(sorted(keys, key=lambda r: -len(r.path))):
        ref.write(body, f"KEY_{number}")
    rewritten = _leaves({k: v for k, v in body.items() if k != "model"})
    assert rewritten.count("REPLACED") == len(values)
    assert sorted(t for t in rewritten if t.startswith("KEY_")) == sorted(
        f"KEY_{n}" for n in range(len(keys))
    )
