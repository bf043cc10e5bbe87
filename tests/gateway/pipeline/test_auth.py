"""Authentication in the request path: who may reach an upstream, and what is recorded."""

from __future__ import annotations

import openai
import pytest

from tests.gateway.pipeline.harness import ADMIN, InProcessGateway

pytestmark = pytest.mark.anyio

ODD = "Bearer é\u202e🩺"  # a right-to-left override and an emoji, sent as UTF-8 bytes


def upstream_calls(gw: InProcessGateway) -> int:
    return sum(len(fake.sent) for fake in gw.fakes.values())


async def test_a_valid_key_reaches_the_upstream_and_is_recorded_as_its_owner(
    gw: InProcessGateway,
) -> None:
    response = await gw.chat()
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "ok"
    [record] = await gw.records(response.headers["x-request-id"])
    assert record.key_id == gw.key_id and record.status_code == 200
    assert (record.prompt_tokens, record.completion_tokens) == (7, 2)
    assert upstream_calls(gw) == 1


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer sk-hygie-not-a-key",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        "Bearer é\u202e🩺".encode(),
    ],
    ids=["missing", "unknown", "basic", "empty", "odd-unicode"],
)
async def test_a_bad_key_is_401_in_openai_shape_and_nothing_leaves(
    gw: InProcessGateway, authorization: str | bytes | None
) -> None:
    value = authorization.encode() if isinstance(authorization, str) else authorization
    headers = [] if value is None else [(b"Authorization", value)]
    body = {"model": "llama-3-8b", "messages": [{"role": "user", "content": "x"}]}
    response = await gw.client.post("/v1/chat/completions", json=body, headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "invalid_api_key" and error["type"]
    assert "sk-hygie-not-a-key" not in response.text
    assert upstream_calls(gw) == 0


async def test_a_revoked_key_stops_at_once(fresh_gw: InProcessGateway) -> None:
    gw = fresh_gw
    assert (await gw.chat()).status_code == 200
    revoked = await gw.client.delete(f"/admin/keys/{gw.key_id}", headers=ADMIN)
    assert revoked.status_code == 200, revoked.text
    response = await gw.chat()
    assert response.status_code == 401
    assert upstream_calls(gw) == 1


async def test_the_openai_sdk_sees_an_authentication_error(gw: InProcessGateway) -> None:
    with pytest.raises(openai.AuthenticationError):
        await gw.sdk(api_key="sk-wrong").chat.completions.create(
            model="llama-3-8b", messages=[{"role": "user", "content": "x"}]
        )
    answer = await gw.sdk().chat.completions.create(
        model="llama-3-8b", messages=[{"role": "user", "content": "x"}], max_tokens=3
    )
    assert answer.choices[0].message.content == "ok" and answer.usage is not None
