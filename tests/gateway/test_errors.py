"""Bad input gets an OpenAI-style error with the right status, and is still recorded once."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.conftest import CHAT_MODEL, RunningGateway


def post(
    gw: RunningGateway, path: str, content: bytes, *, key: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key or gw.key}", "Content-Type": "application/json"}
    return httpx.post(f"{gw.base_url}{path}", content=content, headers=headers, timeout=10)


def assert_openai_error(
    response: httpx.Response, status: int, code: str | None
) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["x-request-id"].startswith("req_")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code
    assert isinstance(error, dict)
    assert isinstance(error["message"], str) and error["message"]
    return error


def test_bad_key_is_401_and_recorded(sqlite_gateway: RunningGateway) -> None:
    body = b'{"model": "llama-3-8b", "messages": [{"role": "user", "content": "x"}]}'
    response = post(sqlite_gateway, "/chat/completions", body, key="hyg_sk_not-a-key")
    assert_openai_error(response, 401, "invalid_api_key")
    [record] = sqlite_gateway.records([response.headers["x-request-id"]])
    assert record.status_code == 401 and record.error_class == "invalid_api_key"
    assert record.key_id is None and record.prompt_tokens == 0


def test_missing_key_with_openai_sdk(sqlite_gateway: RunningGateway) -> None:
    client = sqlite_gateway.sdk(api_key="wrong")
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


def test_bad_json_is_400(sqlite_gateway: RunningGateway) -> None:
    response = post(sqlite_gateway, "/chat/completions", b'{"model": "llama-3-8b", "messages":')
    error = assert_openai_error(response, 400, "invalid_request")
    assert error["type"] == "invalid_request_error"
    [record] = sqlite_gateway.records([response.headers["x-request-id"]])
    assert record.status_code == 400 and record.attempts == 0


def test_missing_messages_is_400_naming_the_param(sqlite_gateway: RunningGateway) -> None:
    response = post(sqlite_gateway, "/chat/completions", b'{"model": "llama-3-8b"}')
    assert assert_openai_error(response, 400, "invalid_request")["param"] == "messages"


def test_unknown_model_is_404(sqlite_gateway: RunningGateway) -> None:
    body = b'{"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}'
    response = post(sqlite_gateway, "/chat/completions", body)
    assert assert_openai_error(response, 404, "model_not_found")["param"] == "model"
    [record] = sqlite_gateway.records([response.headers["x-request-id"]])
    assert record.model == "gpt-9" and record.error_class == "model_not_found"


def test_model_used_on_the_wrong_endpoint_is_404(sqlite_gateway: RunningGateway) -> None:
    body = b'{"model": "bge-m3", "messages": [{"role": "user", "content": "x"}]}'
    assert_openai_error(post(sqlite_gateway, "/chat/completions", body), 404, "model_not_found")


def test_oversized_body_is_413(simulator, start_gateway, sqlite_url) -> None:
    from tests.conftest import make_catalog

    gw = start_gateway(make_catalog(simulator.url), sqlite_url, max_body_bytes=2048)
    content = (
        '{"model": "llama-3-8b", "messages": [{"role": "user", "content": "' + "a" * 5000 + '"}]}'
    )
    response = post(gw, "/chat/completions", content.encode())
    assert_openai_error(response, 413, "request_too_large")
    [record] = gw.records([response.headers["x-request-id"]])
    assert record.status_code == 413
    # The policy dry run reads its body under the same limit.
    assert_openai_error(post(gw, "/policy/explain", content.encode()), 413, "request_too_large")


def test_unknown_route_is_openai_404(sqlite_gateway: RunningGateway) -> None:
    response = httpx.get(f"{sqlite_gateway.base_url}/nope", timeout=5)
    assert_openai_error(response, 404, "not_found")


def test_health_endpoints(sqlite_gateway: RunningGateway) -> None:
    assert httpx.get(f"{sqlite_gateway.url}/healthz").status_code == 200
    ready = httpx.get(f"{sqlite_gateway.url}/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.headers["x-request-id"]


def test_stream_of_unknown_model_is_plain_404(sqlite_gateway: RunningGateway) -> None:
    client = sqlite_gateway.sdk()
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model="nope", messages=[{"role": "user", "content": "x"}], stream=True
        )


def test_chat_model_from_config_is_listed_only_once(sqlite_gateway: RunningGateway) -> None:
    client = sqlite_gateway.sdk()
    ids = [m.id for m in client.models.list().data]
    assert ids.count(CHAT_MODEL) == 1
