"""The simulated vLLM server, over real HTTP on a real port, against captures of vLLM 0.32.0."""

from __future__ import annotations

import asyncio
import base64
import math
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest
import uvicorn

from hygie_simulator import (
    ServedModel,
    SimulatorConfig,
    count_prompt_tokens,
    create_simulator_app,
)
from hygie_simulator.server import uvicorn_config
from tests.polling import wait_until

CAPTURES = Path(__file__).parent / "fixtures" / "vllm_captures"

TINY = ServedModel(name="tiny-llama", kind="chat", max_model_len=1024)
MINILM = ServedModel(name="minilm", kind="embedding", max_model_len=256, embedding_dim=384)


# --- helpers ---------------------------------------------------------------------------------


@contextmanager
def running_simulator(config: SimulatorConfig) -> Iterator[str]:
    """A simulator served by uvicorn in a background thread on a free port; yields its URL."""
    app = create_simulator_app(config)
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", 0))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started, message="the simulator started")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def fast_config(**overrides: Any) -> SimulatorConfig:
    values: dict[str, Any] = {
        "models": (TINY,),
        "time_to_first_token_ms": 0,
        "inter_token_ms": 0,
        "default_output_tokens": 1000,
    }
    values.update(overrides)
    return SimulatorConfig(**values)


@pytest.fixture(scope="module")
def tiny_url() -> Iterator[str]:
    """Like the captured server: one chat model `tiny-llama`, max_model_len 1024."""
    with running_simulator(fast_config()) as url:
        yield url


@pytest.fixture(scope="module")
def minilm_url() -> Iterator[str]:
    """Like the captured embedding server: `minilm`, max_model_len 256, 384 dimensions."""
    with running_simulator(fast_config(models=(MINILM,))) as url:
        yield url


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def capture_text(name: str) -> str:
    return (CAPTURES / name).read_text()


def capture_json(name: str) -> Any:
    return orjson.loads((CAPTURES / name).read_bytes())


def capture_content_type(name: str) -> str:
    for line in capture_text(f"{name}.headers").splitlines():
        if line.lower().startswith("content-type:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no content-type in {name}.headers")


def shape(value: Any, token_keyed: bool = False) -> Any:
    """The structure of a JSON value: keys in order, value types, first element of lists.
    Objects keyed by token (completions' `top_logprobs`) keep only their value types."""
    if isinstance(value, dict):
        if token_keyed:
            return ["mapping", sorted({shape(item) for item in value.values()})]
        return [(key, shape(item, key == "top_logprobs")) for key, item in value.items()]
    if isinstance(value, list):
        return ["list", shape(value[0], token_keyed)] if value else ["list"]
    return type(value).__name__


def sse_events(raw: bytes) -> list[str]:
    """The events of an SSE body, checking vLLM's framing (`data: ...` + blank line)."""
    assert raw.endswith(b"\n\n")
    events = []
    for block in raw[:-2].split(b"\n\n"):
        assert block.startswith(b"data: "), block
        events.append(block[len(b"data: ") :].decode())
    return events


def sse_json(raw: bytes) -> list[dict[str, Any]]:
    events = sse_events(raw)
    assert events[-1] == "[DONE]"
    return [orjson.loads(event) for event in events[:-1]]


def capture_sse(name: str) -> list[dict[str, Any]]:
    return sse_json((CAPTURES / f"{name}.body").read_bytes())


_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][\w:]*)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")


def metric_samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        assert match, line
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', match["labels"] or ""))
        samples[(match["name"], labels)] = float(match["value"])
    return samples


def metric(samples: dict[Any, float], name: str, model: str, **extra: str) -> float:
    labels = frozenset({("engine", "0"), ("model_name", model), *extra.items()})
    return samples[(name, labels)]


def chat_body(content: str = "Hello", **extra: Any) -> dict[str, Any]:
    return {"model": "tiny-llama", "messages": [{"role": "user", "content": content}], **extra}


# --- shapes, compared with the captures ------------------------------------------------------


CAPTURED_CHAT = {
    "model": "tiny-llama",
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Hello, who are you?"},
    ],
    "max_tokens": 16,
    "temperature": 0.7,
    "seed": 1,
}


def test_chat_body_has_the_captured_shape(tiny_url: str, client: httpx.Client) -> None:
    response = client.post(f"{tiny_url}/v1/chat/completions", json=CAPTURED_CHAT)
    assert response.status_code == 200
    assert response.headers["content-type"] == capture_content_type("chat")
    assert response.headers["vary"] == "Origin"
    body = response.json()
    assert shape(body) == shape(capture_json("chat.body"))
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{16}", body["id"])
    assert re.fullmatch(r"vllm-0\.32\.0-[0-9a-f]{8}", body["system_fingerprint"])
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 16
    assert body["usage"]["prompt_tokens"] == count_prompt_tokens(CAPTURED_CHAT)


def test_chat_with_two_choices_has_the_captured_shape(tiny_url: str, client: httpx.Client) -> None:
    request = chat_body("Hi", max_tokens=4, n=2, seed=1)
    body = client.post(f"{tiny_url}/v1/chat/completions", json=request).json()
    captured = capture_json("chat_n2.body")
    assert shape(body) == shape(captured)
    assert [c["index"] for c in body["choices"]] == [0, 1]
    assert body["choices"][0]["message"]["content"] != body["choices"][1]["message"]["content"]
    assert body["usage"]["completion_tokens"] == 8 == captured["usage"]["completion_tokens"]


@pytest.mark.parametrize(
    ("capture", "stream_options"),
    [
        ("chat_stream", None),
        ("chat_stream_usage", {"include_usage": True}),
        ("chat_stream_usage_cont", {"include_usage": True, "continuous_usage_stats": True}),
    ],
)
def test_chat_stream_has_the_captured_events(
    tiny_url: str, client: httpx.Client, capture: str, stream_options: dict[str, bool] | None
) -> None:
    request = chat_body(max_tokens=5, stream=True, seed=1)
    if stream_options is not None:
        request["stream_options"] = stream_options
    response = client.post(f"{tiny_url}/v1/chat/completions", json=request)
    assert response.headers["content-type"] == capture_content_type(capture)
    assert "content-length" not in response.headers
    ours, theirs = sse_json(response.content), capture_sse(capture)
    assert [shape(chunk) for chunk in ours] == [shape(chunk) for chunk in theirs]
    assert ours[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert len({chunk["id"] for chunk in ours}) == 1


def test_completions_with_logprobs_have_the_captured_shape(
    tiny_url: str, client: httpx.Client
) -> None:
    request = {
        "model": "tiny-llama",
        "prompt": "Once upon a time",
        "max_tokens": 8,
        "temperature": 0,
        "logprobs": 2,
    }
    body = client.post(f"{tiny_url}/v1/completions", json=request).json()
    assert shape(body) == shape(capture_json("completions.body"))
    assert re.fullmatch(r"cmpl-[0-9a-f]{16}", body["id"])
    choice = body["choices"][0]
    logprobs = choice["logprobs"]
    assert len(logprobs["tokens"]) == body["usage"]["completion_tokens"] == 8
    assert "".join(logprobs["tokens"]) == choice["text"]
    offsets = [sum(len(t) for t in logprobs["tokens"][:i]) for i in range(8)]
    assert logprobs["text_offset"] == offsets
    assert all(len(top) == 2 for top in logprobs["top_logprobs"])


def test_completions_stream_has_the_captured_events(tiny_url: str, client: httpx.Client) -> None:
    request = {
        "model": "tiny-llama",
        "prompt": "Once upon a time",
        "max_tokens": 4,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    response = client.post(f"{tiny_url}/v1/completions", json=request)
    assert response.headers["content-type"] == capture_content_type("completions_stream")
    ours = sse_json(response.content)
    assert [shape(c) for c in ours] == [shape(c) for c in capture_sse("completions_stream")]


@pytest.mark.parametrize(
    "stream_options", [None, {}, {"continuous_usage_stats": True}, {"include_usage": False}]
)
def test_streams_carry_no_usage_unless_include_usage_is_asked(
    tiny_url: str, client: httpx.Client, stream_options: dict[str, bool] | None
) -> None:
    # vLLM's StreamOptions.include_usage defaults to False: continuous stats alone give nothing.
    request = chat_body(max_tokens=3, stream=True)
    if stream_options is not None:
        request["stream_options"] = stream_options
    response = client.post(f"{tiny_url}/v1/chat/completions", json=request)
    chunks = sse_json(response.content)
    assert chunks and all("usage" not in chunk for chunk in chunks)
    assert all(chunk["choices"] for chunk in chunks)


@pytest.mark.parametrize("path", ["chat/completions", "completions"])
def test_stream_options_without_a_stream_are_refused_as_vllm_does(
    tiny_url: str, client: httpx.Client, path: str
) -> None:
    # The body vLLM 0.32 answered (checked against the team's CPU server); `{}` is accepted.
    field = (
        {"messages": [chat_body("Hi")["messages"][0]]}
        if path.startswith("chat")
        else {"prompt": "Hi"}
    )
    request: dict[str, Any] = {"model": "tiny-llama", "max_tokens": 2, **field}
    refused = client.post(
        f"{tiny_url}/v1/{path}", json={**request, "stream_options": {"include_usage": True}}
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "error": {
            "message": "Stream options can only be defined when `stream=True`. "
            "(parameter=stream_options)",
            "type": "BadRequestError",
            "param": "stream_options",
            "code": 400,
        }
    }
    accepted = client.post(f"{tiny_url}/v1/{path}", json={**request, "stream_options": {}})
    assert accepted.status_code == 200


def test_completions_continuous_usage_has_vllms_completions_form(
    tiny_url: str, client: httpx.Client
) -> None:
    # vLLM's completions chunks carry {prompt, total, completion}: no completion_tokens_details,
    # as its final usage chunk (captured); each chunk counts its own prompt only.
    request = {
        "model": "tiny-llama",
        "prompt": ["Once upon a time", "Hello"],
        "max_tokens": 2,
        "stream": True,
        "stream_options": {"include_usage": True, "continuous_usage_stats": True},
    }
    chunks = sse_json(client.post(f"{tiny_url}/v1/completions", json=request).content)
    *content, final = chunks
    captured_final = capture_sse("completions_stream")[-1]["usage"]
    assert list(final["usage"]) == list(captured_final)
    assert all(list(chunk["usage"]) == list(captured_final) for chunk in content)
    prompts = {c["choices"][0]["index"]: c["usage"]["prompt_tokens"] for c in content}
    assert sum(prompts.values()) == final["usage"]["prompt_tokens"] and prompts[0] != prompts[1]


def test_embeddings_have_the_captured_shape(minilm_url: str, client: httpx.Client) -> None:
    texts = ["The cat sits on the mat.", "The cat sits on a rug.", "Stock prices fell sharply."]
    response = client.post(f"{minilm_url}/v1/embeddings", json={"model": "minilm", "input": texts})
    assert response.headers["content-type"] == capture_content_type("emb")
    body = response.json()
    assert shape(body) == shape(capture_json("emb.body"))
    assert re.fullmatch(r"embd-[0-9a-f]{16}", body["id"])
    vectors = [item["embedding"] for item in body["data"]]
    assert all(len(v) == 384 for v in vectors)
    assert all(math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-5) for v in vectors)

    def cosine(a: list[float], b: list[float]) -> float:
        return math.fsum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])
    assert body["usage"]["prompt_tokens"] == count_prompt_tokens({"input": texts})


def test_base64_embeddings_match_the_float_ones(minilm_url: str, client: httpx.Client) -> None:
    url = f"{minilm_url}/v1/embeddings"
    encoded = client.post(
        url, json={"model": "minilm", "input": "hello", "encoding_format": "base64"}
    )
    body = encoded.json()
    assert shape(body) == shape(capture_json("emb_b64.body"))
    raw = base64.b64decode(body["data"][0]["embedding"])
    decoded = list(struct.unpack(f"<{len(raw) // 4}f", raw))
    floats = client.post(url, json={"model": "minilm", "input": "hello"}).json()
    assert decoded == floats["data"][0]["embedding"]
    assert body["usage"] == capture_json("emb_b64.body")["usage"]  # [CLS] hello [SEP]


def test_models_version_health_and_tokenize(tiny_url: str, client: httpx.Client) -> None:
    models = client.get(f"{tiny_url}/v1/models")
    assert shape(models.json()) == shape(capture_json("models.body"))
    assert models.json()["data"][0]["max_model_len"] == 1024
    version = client.get(f"{tiny_url}/version")
    assert version.content == (CAPTURES / "version.body").read_bytes()
    health = client.get(f"{tiny_url}/health")
    assert (health.status_code, health.content) == (200, b"")
    assert "content-type" not in health.headers
    tokenized = client.post(
        f"{tiny_url}/tokenize", json={"model": "tiny-llama", "prompt": "Hello world"}
    ).json()
    assert shape(tokenized) == shape(capture_json("tokenize.body"))
    assert (
        tokenized["count"]
        == len(tokenized["tokens"])
        == count_prompt_tokens({"prompt": "Hello world"})
    )


# --- errors, compared byte for byte with the captures ----------------------------------------


@pytest.mark.parametrize(
    ("capture", "path", "content"),
    [
        ("err_max_tokens", "/v1/chat/completions", orjson.dumps(chat_body(max_tokens=5000))),
        (
            "err_stream_too_long",
            "/v1/chat/completions",
            orjson.dumps(chat_body(max_tokens=5000, stream=True)),
        ),
        (
            "err_prompt_too_long",
            "/v1/completions",
            orjson.dumps({"model": "tiny-llama", "prompt": "hello world " * 700, "max_tokens": 4}),
        ),
        (
            "err_unknown_model",
            "/v1/chat/completions",
            orjson.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}),
        ),
        ("err_bad_json", "/v1/chat/completions", b'{"model":"tiny-llama","messages":'),
        ("err_missing_messages", "/v1/chat/completions", b'{"model":"tiny-llama"}'),
        (
            "err_bad_temperature",
            "/v1/chat/completions",
            orjson.dumps(chat_body("x", temperature=-1)),
        ),
    ],
)
def test_errors_match_the_captures(
    tiny_url: str, client: httpx.Client, capture: str, path: str, content: bytes
) -> None:
    response = client.post(
        f"{tiny_url}{path}", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == int(capture_text(f"{capture}.status"))
    assert response.headers["content-type"] == capture_content_type(capture)
    assert response.content == (CAPTURES / f"{capture}.body").read_bytes()


def test_unknown_path_and_wrong_kind_are_not_found(
    tiny_url: str, minilm_url: str, client: httpx.Client
) -> None:
    response = client.get(f"{tiny_url}/v1/nope")
    assert response.status_code == 404
    assert response.content == (CAPTURES / "err_404.body").read_bytes()
    on_embedding_model = client.post(
        f"{minilm_url}/v1/chat/completions",
        json={"model": "minilm", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert on_embedding_model.status_code == 404
    assert on_embedding_model.content == (CAPTURES / "emb_err_chat.body").read_bytes()


def test_embedding_input_too_long_matches_the_capture(
    minilm_url: str, client: httpx.Client
) -> None:
    response = client.post(
        f"{minilm_url}/v1/embeddings", json={"model": "minilm", "input": "word " * 400}
    )
    assert response.status_code == 400
    assert response.content == (CAPTURES / "emb_err_long.body").read_bytes()


def test_prompt_plus_max_tokens_over_the_context_is_clamped(
    tiny_url: str, client: httpx.Client
) -> None:
    request = {"model": "tiny-llama", "prompt": "hello world " * 450, "max_tokens": 200}
    body = client.post(f"{tiny_url}/v1/completions", json=request).json()
    captured = capture_json("prompt_plus_max_clamped.body")
    assert shape(body) == shape(captured)
    assert body["usage"] == captured["usage"]  # 902 + 122 = 1024
    assert body["choices"][0]["finish_reason"] == "length"


def test_api_key_protects_v1_only() -> None:
    with running_simulator(fast_config(api_key="s3cret")) as url, httpx.Client() as client:
        denied = client.get(f"{url}/v1/models")
        assert denied.status_code == 401
        assert denied.content == (CAPTURES / "err_401.body").read_bytes()
        allowed = client.get(f"{url}/v1/models", headers={"Authorization": "Bearer s3cret"})
        assert allowed.status_code == 200
        assert client.get(f"{url}/health").status_code == 200


# --- accounting --------------------------------------------------------------------------------


def test_streamed_usage_matches_the_chunks_and_the_tokenizer(
    tiny_url: str, client: httpx.Client
) -> None:
    request = chat_body(
        "Summarise the discharge letter, please.",
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=40,
    )
    chunks = sse_json(client.post(f"{tiny_url}/v1/chat/completions", json=request).content)
    content_chunks = [c for c in chunks[1:] if c["choices"]]
    usage = chunks[-1]["usage"]
    assert chunks[-1]["choices"] == []
    assert usage["completion_tokens"] == len(content_chunks) == 40
    tokenized = client.post(f"{tiny_url}/tokenize", json={"messages": request["messages"]}).json()
    assert usage["prompt_tokens"] == tokenized["count"] == count_prompt_tokens(request)


def test_natural_end_is_an_empty_stop_token() -> None:
    config = fast_config(default_output_tokens=6)
    with running_simulator(config) as url, httpx.Client() as client:
        request = chat_body(stream=True, stream_options={"include_usage": True})
        chunks = sse_json(client.post(f"{url}/v1/chat/completions", json=request).content)
        last_token = chunks[-2]["choices"][0]
        assert (last_token["finish_reason"], last_token["delta"]["content"]) == ("stop", "")
        assert chunks[-1]["usage"]["completion_tokens"] == len(chunks) - 2 == 6


def test_metrics_counters_add_up_to_the_reported_usage(client: httpx.Client) -> None:
    config = fast_config(models=(TINY, MINILM))
    with running_simulator(config) as url:
        before = metric_samples(client.get(f"{url}/metrics").text)
        chat = client.post(f"{url}/v1/chat/completions", json=chat_body(max_tokens=7)).json()
        streamed = sse_json(
            client.post(
                f"{url}/v1/completions",
                json={
                    "model": "tiny-llama",
                    "prompt": "Once upon a time",
                    "max_tokens": 5,
                    "stream": True,
                    "stream_options": {"include_usage": True},
                },
            ).content
        )
        embedded = client.post(f"{url}/v1/embeddings", json={"model": "minilm", "input": "a b c"})
        metrics = client.get(f"{url}/metrics")
        after = metric_samples(metrics.text)

    assert metrics.headers["content-type"] == capture_content_type("metrics")
    usages = [chat["usage"], streamed[-1]["usage"]]

    def delta(name: str, model: str = "tiny-llama", **extra: str) -> float:
        return metric(after, name, model, **extra) - metric(before, name, model, **extra)

    assert delta("vllm:prompt_tokens_total") == sum(u["prompt_tokens"] for u in usages)
    assert delta("vllm:generation_tokens_total") == sum(u["completion_tokens"] for u in usages)
    assert delta("vllm:request_success_total", finished_reason="length") == 2
    assert delta("vllm:time_to_first_token_seconds_count") == 2
    assert delta("vllm:prompt_tokens_total", "minilm") == embedded.json()["usage"]["prompt_tokens"]
    assert metric(after, "vllm:num_requests_running", "tiny-llama") == 0


def test_metrics_expose_the_captured_vllm_families(tiny_url: str, client: httpx.Client) -> None:
    text = client.get(f"{tiny_url}/metrics").text
    ours = set(re.findall(r"^# TYPE (vllm:\S+) (\S+)$", text, flags=re.M))
    captured = {tuple(line.split()) for line in capture_text("metrics_vllm_names.txt").splitlines()}
    assert captured <= ours
    assert 'vllm:num_requests_running{engine="0",model_name="tiny-llama"}' in text
    assert (
        'vllm:request_success_total{engine="0",finished_reason="stop",model_name="tiny-llama"}'
        in text
    )
    assert (
        'vllm:time_to_first_token_seconds_bucket{engine="0",le="0.001",model_name="tiny-llama"}'
        in text
    )


def test_two_choices_count_the_prompt_twice_in_metrics_like_vllm(client: httpx.Client) -> None:
    with running_simulator(fast_config()) as url:
        body = client.post(f"{url}/v1/chat/completions", json=chat_body(max_tokens=3, n=2)).json()
        samples = metric_samples(client.get(f"{url}/metrics").text)
    assert (
        metric(samples, "vllm:prompt_tokens_total", "tiny-llama")
        == 2 * body["usage"]["prompt_tokens"]
    )
    assert metric(samples, "vllm:generation_tokens_total", "tiny-llama") == 6
    assert (
        metric(samples, "vllm:request_success_total", "tiny-llama", finished_reason="length") == 2
    )


def test_streamed_choices_are_indexed(tiny_url: str, client: httpx.Client) -> None:
    request = chat_body(max_tokens=3, n=2, stream=True, stream_options={"include_usage": True})
    chunks = sse_json(client.post(f"{tiny_url}/v1/chat/completions", json=request).content)
    choices = [c["choices"][0] for c in chunks if c["choices"]]
    assert [c["index"] for c in choices if "role" in c["delta"]] == [0, 1]
    tokens = [c["index"] for c in choices if "role" not in c["delta"]]
    assert (tokens.count(0), tokens.count(1)) == (3, 3)
    assert chunks[-1]["usage"]["completion_tokens"] == 6


# --- sampling parameters ---------------------------------------------------------------------


def test_outputs_are_deterministic_per_seed_and_request(client: httpx.Client) -> None:
    def content(url: str, text: str) -> str:
        body = client.post(f"{url}/v1/chat/completions", json=chat_body(text, max_tokens=12))
        return str(body.json()["choices"][0]["message"]["content"])

    with (
        running_simulator(fast_config(seed=1)) as first,
        running_simulator(fast_config(seed=1)) as second,
        running_simulator(fast_config(seed=2)) as other,
    ):
        assert content(first, "Bonjour") == content(second, "Bonjour") == content(first, "Bonjour")
        assert content(first, "Bonjour") != content(other, "Bonjour")
        assert content(first, "Bonjour") != content(first, "Bonsoir")


def test_stop_strings_cut_the_text(tiny_url: str, client: httpx.Client) -> None:
    url = f"{tiny_url}/v1/chat/completions"
    full = client.post(url, json=chat_body(max_tokens=30)).json()["choices"][0]["message"][
        "content"
    ]
    stop = full[10:13]
    cut = client.post(url, json=chat_body(max_tokens=30, stop=[stop])).json()
    choice = cut["choices"][0]
    assert choice["message"]["content"] == full[: full.index(stop)]
    assert (choice["finish_reason"], choice["stop_reason"]) == ("stop", stop)
    assert cut["usage"]["completion_tokens"] < 30


def test_ignore_eos_and_max_completion_tokens() -> None:
    with running_simulator(fast_config(default_output_tokens=4)) as url, httpx.Client() as client:
        chat = f"{url}/v1/chat/completions"
        natural = client.post(chat, json=chat_body(max_tokens=50)).json()
        assert natural["usage"]["completion_tokens"] == 4
        assert natural["choices"][0]["finish_reason"] == "stop"
        forced = client.post(chat, json=chat_body(max_tokens=50, ignore_eos=True)).json()
        assert forced["usage"]["completion_tokens"] == 50
        assert forced["choices"][0]["finish_reason"] == "length"
        capped = client.post(chat, json=chat_body(max_completion_tokens=3, max_tokens=40)).json()
        assert capped["usage"]["completion_tokens"] == 3
        sized = client.post(chat, json=chat_body(sim_output_tokens=9, unknown_field=1)).json()
        assert sized["usage"]["completion_tokens"] == 9


# --- load, queueing and disconnects ----------------------------------------------------------


def test_requests_beyond_max_num_seqs_wait_in_the_queue() -> None:
    config = fast_config(max_num_seqs=1, time_to_first_token_ms=250, kv_cache_tokens=1000)

    async def scenario(url: str) -> tuple[dict[Any, float], float]:
        async with httpx.AsyncClient(timeout=10) as client:
            started = time.monotonic()
            calls = [
                asyncio.ensure_future(
                    client.post(f"{url}/v1/chat/completions", json=chat_body(max_tokens=2))
                )
                for _ in range(3)
            ]
            await asyncio.sleep(0.12)
            samples = metric_samples((await client.get(f"{url}/metrics")).text)
            responses = await asyncio.gather(*calls)
            assert all(r.status_code == 200 for r in responses)
            return samples, time.monotonic() - started

    with running_simulator(config) as url:
        samples, elapsed = asyncio.run(scenario(url))
    assert metric(samples, "vllm:num_requests_running", "tiny-llama") == 1
    assert metric(samples, "vllm:num_requests_waiting", "tiny-llama") == 2
    prompt = count_prompt_tokens(chat_body())
    assert metric(samples, "vllm:kv_cache_usage_perc", "tiny-llama") == pytest.approx(prompt / 1000)
    assert elapsed >= 0.7  # three times the time to first token, one after the other


def test_client_disconnect_mid_stream_aborts_the_request(client: httpx.Client) -> None:
    with running_simulator(fast_config(inter_token_ms=40)) as url:
        request = chat_body(max_tokens=200, stream=True)
        received = 0
        with client.stream("POST", f"{url}/v1/chat/completions", json=request) as response:
            for line in response.iter_lines():
                if '"content":"' in line and '"role"' not in line:
                    received += 1
                if received == 3:
                    break

        def stats() -> dict[str, Any]:
            return dict(client.get(f"{url}/sim/stats").json())

        wait_until(lambda: stats()["aborted"] == 1, timeout_s=5)
        samples = metric_samples(client.get(f"{url}/metrics").text)
    assert metric(samples, "vllm:num_requests_running", "tiny-llama") == 0
    generated = metric(samples, "vllm:generation_tokens_total", "tiny-llama")
    assert 3 <= generated <= 4  # what was sent; the next token may have been on the wire
    for reason in ("stop", "length", "abort"):
        assert (
            metric(samples, "vllm:request_success_total", "tiny-llama", finished_reason=reason) == 0
        )


def test_client_leaving_a_queued_or_slow_request_frees_it(client: httpx.Client) -> None:
    with running_simulator(fast_config()) as url:
        with pytest.raises(httpx.ReadTimeout):
            client.post(
                f"{url}/v1/chat/completions",
                json=chat_body(max_tokens=3, sim_ttft_ms=3000),
                timeout=0.3,
            )
        wait_until(lambda: client.get(f"{url}/sim/stats").json()["aborted"] == 1, timeout_s=5)
        stats = client.get(f"{url}/sim/stats").json()
    assert stats["models"]["tiny-llama"]["running"] == 0
    assert stats["generation_tokens"] == 0


# --- faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "err_type"),
    [("http_500", 500, "InternalServerError"), ("http_503", 503, "ServiceUnavailableError")],
)
def test_http_error_faults(
    tiny_url: str, client: httpx.Client, fault: str, status: int, err_type: str
) -> None:
    response = client.post(f"{tiny_url}/v1/chat/completions", json=chat_body(sim_fault=fault))
    assert response.status_code == status
    error = response.json()["error"]
    assert list(response.json()) == list(capture_json("err_unknown_model.body")) == ["error"]
    assert list(error) == ["message", "type", "param", "code"]
    assert (error["type"], error["param"], error["code"]) == (err_type, None, status)


def test_slow_fault_delays_the_first_token(tiny_url: str, client: httpx.Client) -> None:
    request = chat_body(max_tokens=2, stream=True, sim_fault="slow", sim_delay_ms=300)
    started = time.monotonic()
    with client.stream("POST", f"{tiny_url}/v1/chat/completions", json=request) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        first_event = next(line for line in lines if line.startswith("data: "))
        waited = time.monotonic() - started
        rest = list(lines)
    assert '"role":"assistant"' in first_event
    assert waited >= 0.29
    assert "data: [DONE]" in rest


def test_disconnect_mid_stream_cuts_the_connection(tiny_url: str, client: httpx.Client) -> None:
    request = chat_body(
        max_tokens=20,
        stream=True,
        stream_options={"include_usage": True},
        sim_fault="disconnect_mid_stream",
    )
    lines: list[str] = []
    url = f"{tiny_url}/v1/chat/completions"
    with (
        pytest.raises(httpx.RemoteProtocolError),
        client.stream("POST", url, json=request) as response,
    ):
        lines.extend(line for line in response.iter_lines() if line)
    assert len(lines) == 3  # disconnect_after_chunks
    assert all(orjson.loads(line[len("data: ") :])["choices"] for line in lines)


def test_disconnect_fault_on_a_plain_answer_cuts_the_body(
    tiny_url: str, client: httpx.Client
) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(
            f"{tiny_url}/v1/chat/completions",
            json=chat_body(max_tokens=5, sim_fault="disconnect_mid_stream"),
        )


def test_malformed_chunk_then_the_stream_goes_on(tiny_url: str, client: httpx.Client) -> None:
    request = chat_body(
        max_tokens=6,
        stream=True,
        stream_options={"include_usage": True},
        sim_fault="malformed_chunk",
    )
    events = sse_events(client.post(f"{tiny_url}/v1/chat/completions", json=request).content)
    assert events[2] == "{not json"
    assert events[-1] == "[DONE]"
    chunks = [orjson.loads(e) for e in events[:-1] if e != "{not json"]
    assert chunks[-1]["usage"]["completion_tokens"] == 6 == len(chunks) - 2
    plain = client.post(
        f"{tiny_url}/v1/chat/completions", json=chat_body(max_tokens=2, sim_fault="malformed_chunk")
    )
    assert (plain.status_code, plain.content) == (200, b"{not json")


@pytest.mark.parametrize("stream", [False, True])
def test_drop_connection_answers_nothing(tiny_url: str, client: httpx.Client, stream: bool) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        client.post(
            f"{tiny_url}/v1/chat/completions",
            json=chat_body(stream=stream, sim_fault="drop_connection"),
        )


def test_configured_fault_rates_are_drawn_deterministically(client: httpx.Client) -> None:
    config = fast_config(faults={"http_503": 0.5}, seed=7)

    def statuses(url: str) -> list[int]:
        return [
            client.post(f"{url}/v1/completions", json={"prompt": "x", "max_tokens": 1}).status_code
            for _ in range(12)
        ]

    with running_simulator(config) as first, running_simulator(config) as second:
        drawn = statuses(first)
        assert drawn == statuses(second)
        assert set(drawn) == {200, 503}
        assert client.get(f"{first}/sim/stats").json()["faults"]["http_503"] == drawn.count(503)


# --- runtime control -------------------------------------------------------------------------


def test_sim_config_patches_the_live_server(client: httpx.Client) -> None:
    with running_simulator(fast_config()) as url:
        patched = client.post(f"{url}/sim/config", json={"faults": {"http_500": 1.0}})
        assert patched.json()["faults"]["http_500"] == 1.0
        assert patched.json()["models"][0]["name"] == "tiny-llama"
        failing = client.post(f"{url}/v1/chat/completions", json=chat_body())
        assert failing.status_code == 500
        client.post(
            f"{url}/sim/config", json={"faults": {"http_500": 0.0}, "time_to_first_token_ms": 200}
        )
        started = time.monotonic()
        assert (
            client.post(f"{url}/v1/chat/completions", json=chat_body(max_tokens=1)).status_code
            == 200
        )
        assert time.monotonic() - started >= 0.19
        invalid = client.post(f"{url}/sim/config", json={"speed_factor": -1})
        assert invalid.status_code == 400
        assert client.get(f"{url}/sim/config").json()["time_to_first_token_ms"] == 200
        stats = client.get(f"{url}/sim/stats").json()
    assert stats["requests"]["/v1/chat/completions"] == 2
    assert stats["errors"] == {"500": 1, "400": 1}
    assert stats["completed"] == 1


# --- the official SDK ------------------------------------------------------------------------


def test_openai_sdk_works_against_the_simulator() -> None:
    with running_simulator(fast_config(models=(TINY, MINILM))) as url:
        sdk = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        chat = sdk.chat.completions.create(
            model="tiny-llama", messages=[{"role": "user", "content": "Hello"}], max_tokens=5
        )
        assert chat.usage is not None and chat.usage.completion_tokens == 5
        assert chat.choices[0].message.role == "assistant"

        stream = sdk.chat.completions.create(
            model="tiny-llama",
            messages=[{"role": "user", "content": "Hello"}],
            max_tokens=5,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5
        assert text

        completion = sdk.completions.create(model="tiny-llama", prompt="Once", max_tokens=3)
        assert completion.usage is not None and completion.usage.completion_tokens == 3

        embedding = sdk.embeddings.create(model="minilm", input=["a", "b"])
        assert [len(item.embedding) for item in embedding.data] == [384, 384]

        assert [m.id for m in sdk.models.list()] == ["tiny-llama", "minilm"]
        sdk.close()


def test_count_prompt_tokens_matches_every_endpoint(
    tiny_url: str, minilm_url: str, client: httpx.Client
) -> None:
    chat = {
        "model": "tiny-llama",
        "messages": [
            {"role": "system", "content": "Réponds en français."},
            {"role": "user", "content": [{"type": "text", "text": "Résume: patient de 54 ans."}]},
        ],
        "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {}}}],
        "max_tokens": 1,
    }
    batch = {"model": "tiny-llama", "prompt": ["Once upon", "a time in 2026"], "max_tokens": 1}
    embeds = {"model": "minilm", "input": ["alpha beta", "gamma"]}
    for url, path, body in (
        (tiny_url, "/v1/chat/completions", chat),
        (tiny_url, "/v1/completions", batch),
        (minilm_url, "/v1/embeddings", embeds),
    ):
        usage = client.post(f"{url}{path}", json=body).json()["usage"]
        assert usage["prompt_tokens"] == count_prompt_tokens(body), path
