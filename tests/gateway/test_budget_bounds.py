"""A budget holds everything a call can generate, and odd or hostile inputs are refused early.

Through the real gateway and the openai SDK: every choice (``n``, ``best_of``) of every prompt
is held, token-id prompts are counted by their ids, ``max_tokens`` is checked and never
rewritten, and the per-model caps answer 400 naming the parameter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.catalog import parse_catalog
from gateway.http.local_server import BackgroundServer
from tests.conftest import (
    CHAT_MODEL,
    EMBEDDING_MODEL,
    HEALTH_CLEARED,
    GatewayFactory,
    RunningGateway,
)
from tests.gateway.test_quotas import (
    ADMIN,
    EXTERNAL,
    NOTE,
    PRICES,
    set_quota,
    start_on_backend,
)

TEMPLATE = 16  # the special-token room held per text prompt (billing.pricing.token_estimate)


def catalog(upstream_url: str, **chat_overrides: Any) -> Any:
    def deployment(name: str) -> dict[str, Any]:
        return {"name": name, "replicas": [f"{upstream_url}/v1"], "hosting": HEALTH_CLEARED}

    return parse_catalog(
        {
            "models": [
                {"name": CHAT_MODEL, "deployments": [deployment("sim")], **chat_overrides},
                {
                    "name": EMBEDDING_MODEL,
                    "endpoints": ["embeddings"],
                    "deployments": [deployment("sim-emb")],
                },
            ],
            "prices": PRICES,
        }
    )


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def budget_gateway(
    request: pytest.FixtureRequest,
    simulator: BackgroundServer,
    start_gateway: GatewayFactory,
    sqlite_url: str,
) -> RunningGateway:
    served = catalog(simulator.url, max_model_len=4096)  # the simulator's context length
    return start_on_backend(request.param, served, start_gateway, sqlite_url)


def user_figures(gw: RunningGateway) -> dict[str, Any]:
    """The user's row once settlements have landed (nothing reserved any more)."""
    for _ in range(100):
        [row] = httpx.get(f"{gw.url}/admin/quotas", headers=ADMIN).json()["data"]
        if row["reserved_tokens"] == 0:
            break
        time.sleep(0.02)
    return dict(row)


def token_budget(gw: RunningGateway, tokens: int) -> None:
    set_quota(gw, level="user", username="dr.test", budget_tokens=tokens, period="day")
    gw.wait_for_limit("user", "budget_tokens", tokens)


def refused_for_budget(call: Any) -> bool:
    try:
        call()
    except openai.RateLimitError as error:
        assert isinstance(error.body, dict) and error.body["code"] == "insufficient_quota"
        return True
    return False


PROMPT = "Liste trois examens."  # ASCII: its bound is its length plus the template room
CHAT_PROMPT_BOUND = len(PROMPT) + TEMPLATE * 2  # one message, plus the chat template's room


def test_every_chat_choice_is_held(budget_gateway: RunningGateway) -> None:
    gw = budget_gateway
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": PROMPT}]
    need = CHAT_PROMPT_BOUND + 8 * 10  # n=8 choices of up to 10 tokens each
    token_budget(gw, need - 1)
    client = gw.sdk()

    def ask() -> Any:
        return client.chat.completions.create(
            model=CHAT_MODEL, messages=messages, n=8, max_tokens=10, extra_body={"ignore_eos": True}
        )

    assert refused_for_budget(ask)
    assert user_figures(gw)["spent_tokens"] == 0
    token_budget(gw, need)
    answer = ask()
    assert len(answer.choices) == 8 and answer.usage is not None
    assert answer.usage.completion_tokens == 80
    assert 0 < user_figures(gw)["spent_tokens"] <= need


def test_every_prompt_and_best_of_of_a_completion_is_held(budget_gateway: RunningGateway) -> None:
    gw = budget_gateway
    prompts = [f"{PROMPT} {i:02d}" for i in range(64)]
    prompt_bound = sum(len(p) + TEMPLATE for p in prompts)
    need = prompt_bound + 64 * 3 * 2  # best_of=3 sequences of 2 tokens for each prompt
    token_budget(gw, need - 1)
    client = gw.sdk()

    def ask() -> Any:
        return client.completions.create(
            model=CHAT_MODEL, prompt=prompts, max_tokens=2, n=2, best_of=3
        )

    assert refused_for_budget(ask)
    token_budget(gw, need)
    # The simulator does not know best_of (recent vLLM neither): 64 prompts x n=2 answer.
    assert len(ask().choices) == 128
    assert 0 < user_figures(gw)["spent_tokens"] <= need


def test_nested_token_id_prompts_are_held_by_their_ids(budget_gateway: RunningGateway) -> None:
    gw = budget_gateway
    prompt = [[11] * 300, [12] * 300]
    need = 600 + 2 * 1  # every id, and one token for each prompt
    token_budget(gw, need - 1)
    client = gw.sdk()

    def ask() -> Any:
        return client.completions.create(model=CHAT_MODEL, prompt=prompt, max_tokens=1)

    assert refused_for_budget(ask)  # held 16 + 1 tokens before, then spent 602
    token_budget(gw, need)
    answer = ask()
    assert answer.usage is not None and answer.usage.prompt_tokens == 600
    assert user_figures(gw)["spent_tokens"] == answer.usage.total_tokens <= need


def refused_param(create: Callable[..., Any], **arguments: Any) -> str | None:
    """The ``param`` of the 400 ``invalid_request`` that ``create(**arguments)`` gets."""
    with pytest.raises(openai.BadRequestError) as caught:
        create(**arguments)
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == "invalid_request", body
    param = body["param"]
    return str(param) if param is not None else None


INVALID_LIMITS = [0, -3, "12", 1.5, True, 10**13, 4097]


def test_an_invalid_output_limit_is_refused_not_rewritten(budget_gateway: RunningGateway) -> None:
    gw = budget_gateway
    token_budget(gw, 10**6)
    client = gw.sdk()
    chat, completion = client.chat.completions.create, client.completions.create
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": PROMPT}]
    started = time.monotonic()
    for value in INVALID_LIMITS:
        for field in ("max_tokens", "max_completion_tokens"):
            wrong = {field: value}
            assert refused_param(chat, model=CHAT_MODEL, messages=messages, extra_body=wrong) == (
                field
            )
        wrong = {"max_tokens": value}
        assert refused_param(completion, model=CHAT_MODEL, prompt=PROMPT, extra_body=wrong) == (
            "max_tokens"
        )
    assert time.monotonic() - started < 5
    assert user_figures(gw)["spent_tokens"] == 0


def test_the_caps_refuse_naming_the_parameter(sqlite_gateway: RunningGateway) -> None:
    client = sqlite_gateway.sdk()
    chat, completion = client.chat.completions.create, client.completions.create
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": PROMPT}]
    assert refused_param(chat, model=CHAT_MODEL, messages=messages, n=128) == "n"
    assert refused_param(chat, model=CHAT_MODEL, messages=messages, n=2**31, max_tokens=1) == "n"
    assert refused_param(chat, model=CHAT_MODEL, messages=messages, n=0) == "n"
    assert refused_param(completion, model=CHAT_MODEL, prompt="x", best_of=17) == "best_of"
    assert refused_param(completion, model=CHAT_MODEL, prompt=["x"] * 257) == "prompt"
    many = ["x"] * 8000
    assert refused_param(client.embeddings.create, model=EMBEDDING_MODEL, input=many) == "input"
    assert len(chat(model=CHAT_MODEL, messages=messages, n=16, max_tokens=2).choices) == 16


def test_caps_are_configured_per_model(
    simulator: BackgroundServer, start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    caps = {"max_n": 2, "max_best_of": 3, "max_prompts": 4, "max_embedding_inputs": 5}
    gw = start_gateway(catalog(simulator.url, caps=caps, max_model_len=64), sqlite_url)
    client = gw.sdk()
    chat, completion = client.chat.completions.create, client.completions.create
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": PROMPT}]
    assert refused_param(chat, model=CHAT_MODEL, messages=messages, n=3) == "n"
    assert refused_param(chat, model=CHAT_MODEL, messages=messages, max_tokens=65) == "max_tokens"
    assert refused_param(completion, model=CHAT_MODEL, prompt="a", best_of=4) == "best_of"
    assert refused_param(completion, model=CHAT_MODEL, prompt=["a"] * 5) == "prompt"
    answer = completion(model=CHAT_MODEL, prompt=["a"] * 4, max_tokens=1, n=2)
    assert len(answer.choices) == 8


# --- A missing max_tokens is held for what the upstream will do, and never added ------------


@pytest.fixture
def recorder() -> Iterator[tuple[BackgroundServer, list[dict[str, Any]]]]:
    """An upstream that records the bodies it gets and answers with a fixed usage."""
    received: list[dict[str, Any]] = []

    async def answer(request: Request) -> Response:
        body = await request.json()
        received.append(body)
        usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
        if request.url.path.endswith("/chat/completions"):
            message = {"role": "assistant", "content": "ok"}
            choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": "stop"}
            kind = "chat.completion"
        else:
            choice = {"index": 0, "text": "ok", "finish_reason": "stop", "logprobs": None}
            kind = "text_completion"
        return JSONResponse(
            {"id": "x", "object": kind, "created": 1, "model": body["model"], "choices": [choice]}
            | {"usage": usage}
        )

    routes = [
        Route(p, answer, methods=["POST"]) for p in ("/v1/chat/completions", "/v1/completions")
    ]
    with BackgroundServer(Starlette(routes=routes)) as server:
        yield server, received


def test_a_missing_max_tokens_is_held_as_the_upstream_applies_it_and_never_added(
    recorder: tuple[BackgroundServer, list[dict[str, Any]]],
    start_gateway: GatewayFactory,
    sqlite_url: str,
) -> None:
    server, received = recorder
    gw = start_gateway(catalog(server.url, max_model_len=200), sqlite_url, quota_refresh_s=0.2)
    client = gw.sdk()
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": PROMPT}]
    # Chat without max_tokens may fill the context (200 tokens) for each of its 2 choices.
    chat_need = CHAT_PROMPT_BOUND + 2 * 200
    token_budget(gw, chat_need - 1)
    assert refused_for_budget(
        lambda: client.chat.completions.create(model=CHAT_MODEL, messages=messages, n=2)
    )
    token_budget(gw, chat_need)
    answer = client.chat.completions.with_raw_response.create(
        model=CHAT_MODEL, messages=messages, n=2
    )
    # Setting a budget rebuilds the counters from the ledger: wait for the chat's record.
    assert gw.records([answer.headers["x-request-id"]])
    # Completions without max_tokens generate at most 16 tokens (vLLM's default) per choice.
    completion_need = len(PROMPT) + TEMPLATE + 3 * 16
    token_budget(gw, 8 + completion_need - 1)  # 8 tokens were spent by the chat call
    assert refused_for_budget(
        lambda: client.completions.create(model=CHAT_MODEL, prompt=PROMPT, n=3)
    )
    token_budget(gw, 8 + completion_need)
    client.completions.create(model=CHAT_MODEL, prompt=PROMPT, n=3)
    assert len(received) == 2
    assert all("max_tokens" not in body for body in received)
    assert all("max_completion_tokens" not in body for body in received)


# --- Amounts and numbers given to the admin API ----------------------------------------------


def test_a_huge_budget_in_a_report_query_is_refused_quickly(
    sqlite_gateway: RunningGateway,
) -> None:
    for budget in ["1e999999999", "1e-999999999", "-1", "9" * 5000, "NaN", "1e7.5", "1e8"]:
        started = time.monotonic()
        url = f"{sqlite_gateway.url}/admin/reports/usage"
        response = httpx.get(url, headers=ADMIN, params={"budget": budget}, timeout=10)
        assert response.status_code == 400, (budget, response.text)
        assert response.json()["error"]["param"] == "budget"
        assert time.monotonic() - started < 1, budget


def test_a_report_budget_within_bounds_is_used(sqlite_gateway: RunningGateway) -> None:
    url = f"{sqlite_gateway.url}/admin/reports/usage?budget=1500.50"
    response = httpx.get(url, headers=ADMIN)
    assert response.status_code == 200
    assert response.json()["forecast"]["budget_eur"] == "1500.50"


OUT_OF_BOUNDS: list[dict[str, Any]] = [
    {"budget_eur": "1e999999999"},
    {"budget_eur": 1e308},
    {"budget_eur": "10000000.000001"},
    {"budget_eur": "0.0000001"},
    {"budget_tokens": 10**30},
    {"rpm": 10**30},
    {"tpm": 10**30},
    {"max_concurrent": 10**30},
    {"rolling_window_s": 10**30, "period": None},
    {"thresholds_pct": [10**30]},
]


def test_a_quota_out_of_bounds_is_refused_quickly(sqlite_gateway: RunningGateway) -> None:
    for spec in OUT_OF_BOUNDS:
        started = time.monotonic()
        response = httpx.put(
            f"{sqlite_gateway.url}/admin/quotas",
            headers=ADMIN,
            json={"level": "department", "department": "cardiologie", "period": "month", **spec},
        )
        assert response.status_code == 400, (spec, response.text)
        assert response.json()["error"]["type"] == "invalid_request_error"
        assert time.monotonic() - started < 1, spec
    assert httpx.get(f"{sqlite_gateway.url}/admin/quotas", headers=ADMIN).json()["data"] == []


# --- A stream without max_tokens holds, and is topped up, for all its choices ----------------


def test_an_open_ended_stream_of_several_choices_stops_at_its_budget(
    simulator: BackgroundServer, start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    served = catalog(simulator.url, max_model_len=4096)
    gw = start_gateway(
        served, sqlite_url, quota_refresh_s=0.2, default_max_tokens=8, quota_top_up_tokens=4
    )
    budget = CHAT_PROMPT_BOUND + 2 * 8 + 4 + 4  # the first hold (8 per choice), two top-ups
    token_budget(gw, budget)
    pieces = {0: 0, 1: 0}
    with pytest.raises(openai.APIError) as caught:
        stream = gw.sdk().chat.completions.create(
            model=CHAT_MODEL,
            messages=[{"role": "user", "content": PROMPT}],
            n=2,
            stream=True,
            extra_body={"sim_output_tokens": 60},
        )
        for chunk in stream:
            for choice in chunk.choices:
                pieces[choice.index] += 1 if choice.delta.content else 0
    assert "budget was exhausted" in caught.value.message
    assert sum(pieces.values()) == 2 * 8 + 4 + 4  # every token held was sent, none beyond
    assert 0 < user_figures(gw)["spent_tokens"] <= budget


def test_a_reroute_holds_what_the_other_model_may_generate(
    simulator: BackgroundServer, start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    on_premise = {"name": "sim", "replicas": [f"{simulator.url}/v1"], "hosting": HEALTH_CLEARED}
    external = {"name": "eu", "replicas": [f"{simulator.url}/v1"], "hosting": EXTERNAL}
    served = parse_catalog(
        {
            "models": [
                {"name": CHAT_MODEL, "deployments": [on_premise], "max_model_len": 4096},
                {
                    "name": "cloud-short",
                    "deployments": [external],
                    "max_model_len": 64,
                    "sovereign_alternative": CHAT_MODEL,
                },
            ]
        }
    )
    gw = start_gateway(served, sqlite_url, quota_refresh_s=0.2)
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": NOTE}]
    # Enough for a whole answer of the short-context model, not of the one it is rerouted to.
    token_budget(gw, 2 * len(NOTE.encode()) + 1000)

    def ask() -> Any:
        return gw.sdk().chat.completions.create(model="cloud-short", messages=messages)

    assert refused_for_budget(ask)
    assert user_figures(gw)["spent_tokens"] == 0
    token_budget(gw, 2 * len(NOTE.encode()) + 4096 + 100)
    assert ask().choices
