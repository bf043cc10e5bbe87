"""A bounded property-based fuzz of the OpenAI and admin APIs, as a hostile client would send.

Two promises are checked on every generated request: no input makes the gateway answer 5xx
(the simulated model server answers odd input with a 400, as vLLM does), and every OpenAI
request is in the ledger exactly once, with the status the client received. Runs on SQLite and
PostgreSQL (over-long and NUL-bearing strings broke PostgreSQL inserts).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.http.local_server import BackgroundServer
from hygie_simulator import create_simulator_app
from tests.conftest import (
    CHAT_MODEL,
    EMBEDDING_MODEL,
    GatewayFactory,
    RunningGateway,
    make_catalog,
    simulator_config,
)

FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ADMIN = {"Authorization": "Bearer admin-test-token"}
# A failing example's report may be long (deep or long bodies); it is wanted all the same.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


def as_json(body: Any) -> bytes:
    """JSON as a client may write it: integers beyond 64 bits included (orjson refuses them)."""
    return json.dumps(body, ensure_ascii=False).encode()


# Strings a hostile client sends: NUL and control characters, odd Unicode, very long ones.
odd_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12).map(lambda s: s + "\x00" + s),
    st.sampled_from(["", " ", "\u202f", "\u200b", "\uff29\uff30\uff30", "𝔪𝔬𝔡𝔢𝔩"]),
    st.tuples(st.sampled_from("aé\x00"), st.integers(min_value=200, max_value=6000)).map(
        lambda pair: pair[0] * pair[1]
    ),
)
leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    odd_text,
)
json_value = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(odd_text, inner, max_size=4)
    ),
    max_leaves=12,
)
small_count = st.one_of(
    st.integers(min_value=-2, max_value=4), st.integers(min_value=2**31, max_value=2**64), leaf
)
good_message = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["user", "system", "assistant", "tool", "nobody"]),
        "content": odd_text,
    }
)
messages = st.one_of(st.lists(good_message, min_size=1, max_size=3), json_value)
model = st.one_of(st.just(CHAT_MODEL), st.just(CHAT_MODEL), odd_text, leaf)
optional = {
    "max_tokens": small_count,
    "max_completion_tokens": small_count,
    "n": small_count,
    "best_of": small_count,
    "stream": st.one_of(st.booleans(), leaf),
    "stream_options": json_value,
    "temperature": leaf,
    "tools": json_value,
    "response_format": json_value,
    "metadata": json_value,
    "user": odd_text,
    "logit_bias": json_value,
    "stop": json_value,
}
chat_bodies = st.fixed_dictionaries(
    {"model": model, "messages": messages}, optional=optional
) | st.builds(lambda extra: {"model": CHAT_MODEL, **extra}, st.dictionaries(odd_text, json_value))
completion_bodies = st.fixed_dictionaries(
    {
        "model": model,
        "prompt": st.one_of(
            odd_text,
            st.lists(odd_text, min_size=1, max_size=5),
            st.lists(st.integers(min_value=-5, max_value=2**40), max_size=6),
            st.lists(st.lists(st.integers(min_value=0, max_value=50), max_size=4), max_size=4),
            json_value,
        ),
    },
    optional=optional,
)
embedding_bodies = st.fixed_dictionaries(
    {
        "model": st.one_of(st.just(EMBEDDING_MODEL), model),
        "input": st.one_of(odd_text, st.lists(odd_text, max_size=6), json_value),
    },
    optional={"encoding_format": leaf, "dimensions": small_count},
)
# Bodies that are not JSON objects, or are JSON a parser may choke on.
raw_bodies = st.one_of(
    st.binary(max_size=64),
    st.integers(min_value=1, max_value=1100).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(min_value=1, max_value=1100).map(
        lambda depth: (
            b'{"model":"'
            + CHAT_MODEL.encode()
            + b'","messages":[{"role":"user","content":"a"}],"metadata":'
            + b"[" * depth
            + b"]" * depth
            + b"}"
        )
    ),
    st.just(
        b'{"model":"' + CHAT_MODEL.encode() + b'","messages":[{"role":"user","content":"a"}],'
        b'"messages":[{"role":"user","content":"b"}]}'
    ),
)
endpoints = st.one_of(
    st.tuples(st.just("/v1/chat/completions"), chat_bodies.map(as_json)),
    st.tuples(st.just("/v1/completions"), completion_bodies.map(as_json)),
    st.tuples(st.just("/v1/embeddings"), embedding_bodies.map(as_json)),
    st.tuples(
        st.sampled_from(["/v1/chat/completions", "/v1/completions", "/v1/embeddings"]),
        raw_bodies,
    ),
)


@pytest.fixture(scope="module")
def quick_simulator() -> Iterator[BackgroundServer]:
    """A simulated vLLM without artificial delays, so that long answers cost no wall time."""
    config = simulator_config(time_to_first_token_ms=0, inter_token_ms=0)
    with BackgroundServer(create_simulator_app(config)) as server:
        yield server


@pytest.fixture
def fuzz_gateway(
    quick_simulator: BackgroundServer, start_gateway: GatewayFactory, database_url: str
) -> RunningGateway:
    return start_gateway(make_catalog(quick_simulator.url), database_url)


def _assert_openai_error(response: httpx.Response) -> None:
    """A refusal has OpenAI's error shape, whatever the input was."""
    error = response.json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str)


@pytest.mark.slow
def test_no_input_makes_the_openai_api_fail_and_each_request_is_recorded_once(
    fuzz_gateway: RunningGateway,
) -> None:
    sent: list[tuple[str, int]] = []
    headers = {"Authorization": f"Bearer {fuzz_gateway.key}", "content-type": "application/json"}
    before = fuzz_gateway.count()
    with httpx.Client(base_url=fuzz_gateway.url, headers=headers, timeout=30) as client:

        @FUZZ
        @given(request=endpoints)
        def one_request(request: tuple[str, bytes]) -> None:
            path, body = request
            response = client.post(path, content=body)
            content = response.read()
            assert response.status_code < 500, (path, body[:300], response.status_code, content)
            if response.status_code >= 400:
                _assert_openai_error(response)
            sent.append((response.headers["x-request-id"], response.status_code))

        one_request()

    records = fuzz_gateway.records([request_id for request_id, _ in sent], timeout_s=20)
    status_of = {record.request_id: record.status_code for record in records}
    assert fuzz_gateway.count() - before == len(sent)
    assert status_of == dict(sent)


admin_strings = st.one_of(
    odd_text, st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True), st.just("cardiologie")
)
admin_ids = st.one_of(
    odd_text.filter(bool), st.integers(min_value=-(2**70), max_value=2**70).map(str)
)
admin_requests = st.one_of(
    st.tuples(
        st.just("POST"),
        st.just("/admin/departments"),
        st.fixed_dictionaries(
            {"name": admin_strings},
            optional={"display_name": admin_strings, "default_data_class": leaf},
        ),
    ),
    st.tuples(
        st.just("POST"),
        st.just("/admin/users"),
        st.fixed_dictionaries(
            {"username": admin_strings, "department": admin_strings},
            optional={"display_name": admin_strings, "role": admin_strings},
        ),
    ),
    st.tuples(
        st.just("POST"),
        st.just("/admin/keys"),
        st.fixed_dictionaries(
            {"username": admin_strings}, optional={"name": admin_strings, "use_case": leaf}
        ),
    ),
    st.tuples(
        st.just("PUT"),
        st.just("/admin/quotas"),
        st.fixed_dictionaries(
            {"level": st.sampled_from(["department", "use_case", "user", "key", "org"])},
            optional={
                "department": admin_strings,
                "username": admin_strings,
                "key_id": admin_strings,
                "use_case": admin_strings,
                "budget_eur": st.one_of(leaf, st.sampled_from(["1e999999999", "-1", "1e-99999"])),
                "budget_tokens": small_count,
                "rpm": small_count,
                "period": leaf,
                "thresholds_pct": json_value,
            },
        ),
    ),
    st.tuples(
        st.just("DELETE"),
        st.builds(lambda tail: f"/admin/quotas/{quote(tail, safe='')}", admin_ids),
        st.none(),
    ),
    st.tuples(
        st.just("DELETE"),
        st.builds(lambda tail: f"/admin/keys/{quote(tail, safe='')}", admin_ids),
        st.none(),
    ),
    st.tuples(
        st.just("GET"),
        st.sampled_from(
            [
                "/admin/reports/usage",
                "/admin/reports/top",
                "/admin/reports/focus",
                "/admin/reports/chargeback",
                "/admin/ledger",
                "/admin/quotas",
                "/admin/keys",
            ]
        ),
        st.dictionaries(
            st.sampled_from(
                ["month", "start", "end", "department", "limit", "budget", "filename", "by"]
            ),
            st.one_of(admin_strings, st.sampled_from(["1e999999999", "2026-13", "-1", "0"])),
            max_size=3,
        ),
    ),
)


def test_no_input_makes_the_admin_api_fail(fuzz_gateway: RunningGateway) -> None:
    with httpx.Client(base_url=fuzz_gateway.url, headers=ADMIN, timeout=30) as client:

        @FUZZ
        @given(request=admin_requests)
        def one_request(request: tuple[str, str, Any]) -> None:
            method, path, payload = request
            if method == "GET":
                response = client.get(path, params=payload)
            else:
                content = None if payload is None else as_json(payload)
                response = client.request(method, path, content=content)
            assert response.status_code < 500, (method, path, payload, response.text[:500])

        one_request()
