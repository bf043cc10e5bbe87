"""The bound a quota holds for a call: every output of every prompt, and every prompt token."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.pricing.token_estimate import max_prompt_tokens, prompt_count
from gateway.catalog import parse_catalog
from gateway.errors import InvalidRequest
from gateway.http.openai_request import OpenAICall
from gateway.steps.call_bounds import bounds_of
from hygie_simulator import count_prompt_tokens

MODEL = parse_catalog(
    {
        "models": [
            {
                "name": "m",
                "max_model_len": 4096,
                "deployments": [{"name": "d", "replicas": ["http://127.0.0.1:1/v1"]}],
            }
        ]
    }
).models[0]


def call(endpoint: str, **body: Any) -> OpenAICall:
    return OpenAICall(endpoint, "m", bool(body.get("stream")), False, {"model": "m", **body}, None)


texts = st.text(max_size=40)
token_ids = st.lists(st.integers(min_value=0, max_value=50_000), min_size=1, max_size=40)
prompts = st.one_of(
    texts.filter(bool),
    st.lists(texts.filter(bool), min_size=1, max_size=8),
    token_ids,
    st.lists(token_ids, min_size=1, max_size=8),
)


@settings(max_examples=150, deadline=None)
@given(prompt=prompts)
def test_the_prompt_bound_is_never_below_what_the_model_server_counts(prompt: Any) -> None:
    for endpoint, field in (("completions", "prompt"), ("embeddings", "input")):
        body = {field: prompt}
        assert max_prompt_tokens(endpoint, body) >= count_prompt_tokens(body)


@settings(max_examples=150, deadline=None)
@given(
    prompt=prompts,
    n=st.integers(min_value=1, max_value=16),
    best_of=st.one_of(st.none(), st.integers(min_value=1, max_value=16)),
    max_tokens=st.one_of(st.none(), st.integers(min_value=1, max_value=4096)),
)
def test_a_completion_holds_every_output_of_every_prompt(
    prompt: Any, n: int, best_of: int | None, max_tokens: int | None
) -> None:
    bounds = bounds_of(
        call("completions", prompt=prompt, n=n, best_of=best_of, max_tokens=max_tokens),
        MODEL,
        default_max_model_len=32768,
    )
    per_output = 16 if max_tokens is None else max_tokens  # vLLM's completions default
    outputs = prompt_count(prompt) * max(n, best_of or n)
    assert bounds.output_tokens == outputs * per_output
    assert not bounds.open_ended


def test_prompts_are_counted_by_item_and_token_ids_as_one_prompt() -> None:
    assert prompt_count("a") == 1
    assert prompt_count(["a", "b", "c"]) == 3
    assert prompt_count([1, 2, 3]) == 1
    assert prompt_count([[1, 2, 3], [4, 5]]) == 2
    assert max_prompt_tokens("completions", {"prompt": [[1, 2, 3], [4, 5]]}) == 5


def test_chat_without_max_tokens_may_fill_the_context_for_each_choice() -> None:
    messages = [{"role": "user", "content": "x"}]
    bounds = bounds_of(call("chat", messages=messages, n=3), MODEL, default_max_model_len=1)
    assert (bounds.output_tokens, bounds.open_ended) == (3 * 4096, True)
    assert bounds.first_hold(streamed=True, stream_hold=100) == 300
    assert bounds.first_hold(streamed=False, stream_hold=100) == 3 * 4096
    given_limit = call("chat", messages=messages, max_completion_tokens=7, max_tokens=9)
    assert bounds_of(given_limit, MODEL, default_max_model_len=1).output_tokens == 7


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": 4097}, "max_tokens"),
        ({"max_tokens": False}, "max_tokens"),
        ({"max_completion_tokens": "8"}, "max_completion_tokens"),
        ({"n": 17}, "n"),
        ({"n": 2.0}, "n"),
        ({"best_of": 17}, "best_of"),
    ],
)
def test_values_out_of_range_name_their_parameter(body: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        bounds_of(call("chat", messages=[], **body), MODEL, default_max_model_len=1)
    assert caught.value.param == param


def test_an_embeddings_call_may_have_up_to_its_cap_of_inputs() -> None:
    inputs = call("embeddings", input=["x"] * 2048)
    assert bounds_of(inputs, MODEL, default_max_model_len=1).output_tokens == 0  # nothing generated
    with pytest.raises(InvalidRequest) as caught:
        bounds_of(call("embeddings", input=["x"] * 2049), MODEL, default_max_model_len=1)
    assert caught.value.param == "input"
