"""A chat front-end (a simulated Open WebUI) acting for its users with one service key."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import openai
import pytest
from cryptography.fernet import Fernet
from openai.types.chat import ChatCompletionMessageParam

from gateway.http.local_server import BackgroundServer
from tests.conftest import CHAT_MODEL, GatewayFactory, RunningGateway, make_catalog
from tests.identity.conftest import identity_settings
from tests.identity.oidc.oidc_provider import RunningProvider, login

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Bonjour"}]
ADMIN = {"authorization": "Bearer admin-test-token"}
WEBUI_SECRET = "open-webui-shared-secret-" + "x" * 24


@pytest.fixture
def front_gateway(
    oidc: RunningProvider,
    simulator: BackgroundServer,
    start_gateway: GatewayFactory,
    database_url: str,
) -> RunningGateway:
    identity = {
        **identity_settings(oidc.issuer),
        "front_end_secret_key": Fernet.generate_key().decode(),
        "front_end_username_claim": "preferred_username",
    }
    return start_gateway(make_catalog(simulator.url), database_url, identity=identity)


def service_key(gw: RunningGateway, **front_end: Any) -> tuple[str, str]:
    """A key of the Open WebUI service account (department dsn), marked as a front-end."""
    httpx.post(f"{gw.url}/admin/departments", headers=ADMIN, json={"name": "dsn"})
    httpx.post(
        f"{gw.url}/admin/users", headers=ADMIN, json={"username": "open-webui", "department": "dsn"}
    )
    created = httpx.post(
        f"{gw.url}/admin/keys", headers=ADMIN, json={"username": "open-webui", "use_case": "tests"}
    )
    assert created.status_code == 201, created.text
    key_id, key = created.json()["id"], created.json()["key"]
    if front_end:
        marked = httpx.put(f"{gw.url}/admin/keys/{key_id}/front-end", headers=ADMIN, json=front_end)
        assert marked.status_code == 200, marked.text
    return key_id, key


def webui_jwt(username: str, *, secret: str = WEBUI_SECRET, ttl_s: int = 300) -> str:
    now = int(time.time())
    claims = {"preferred_username": username, "email": f"{username}@chu.example", "iat": now}
    return jwt.encode({**claims, "exp": now + ttl_s}, secret, algorithm="HS256")


def chat(gw: RunningGateway, key: str, headers: dict[str, str]) -> Any:
    client = gw.sdk(key, default_headers=headers)
    return client.chat.completions.with_raw_response.create(
        model=CHAT_MODEL, messages=MESSAGES, max_tokens=4, user="a-tag-not-an-identity"
    )


def me(gw: RunningGateway, key: str, headers: dict[str, str]) -> dict[str, Any]:
    response = httpx.get(f"{gw.url}/v1/me", headers={"authorization": f"Bearer {key}", **headers})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_the_signed_open_webui_header_attributes_the_request_to_the_user(
    oidc: RunningProvider, front_gateway: RunningGateway
) -> None:
    gw = front_gateway
    alice = login(oidc.issuer, "hygie-cli", "alice", "alice-password")["access_token"]
    alice_by_token = me(gw, alice, {})  # alice signs in once: she exists, in cardiologie
    key_id, key = service_key(gw, mode="signed", secret=WEBUI_SECRET, required=True)
    signed = {"X-OpenWebUI-User-Jwt": webui_jwt("alice")}
    raw = chat(gw, key, signed)
    [record] = gw.records([raw.headers["x-request-id"]])
    assert (record.key_id, record.front_end_key_id, record.end_user_verified) == (
        key_id,
        key_id,
        True,
    )
    identity = me(gw, key, signed)
    assert identity["user"] == "alice" and identity["department"] == "cardiologie"
    assert identity["front_end_key_id"] == key_id and identity["end_user_verified"] is True
    assert alice_by_token["department"] == "cardiologie"


def test_a_front_end_that_must_sign_is_refused_without_a_valid_user_token(
    front_gateway: RunningGateway,
) -> None:
    gw = front_gateway
    _, key = service_key(gw, mode="signed", secret=WEBUI_SECRET, required=True)
    bad = {
        "missing": {},
        "wrong secret": {"X-OpenWebUI-User-Jwt": webui_jwt("alice", secret="y" * 40)},
        "expired": {"X-OpenWebUI-User-Jwt": webui_jwt("alice", ttl_s=-3600)},
        "garbage": {"X-OpenWebUI-User-Jwt": "not.a.jwt"},
        "plain headers only": {"X-OpenWebUI-User-Email": "alice@chu.example"},
    }
    for name, headers in bad.items():
        with pytest.raises(openai.AuthenticationError) as refused:
            chat(gw, key, headers)
        assert refused.value.status_code == 401, name


def test_end_user_headers_from_an_ordinary_key_are_ignored(
    oidc: RunningProvider, front_gateway: RunningGateway
) -> None:
    gw = front_gateway
    alice = login(oidc.issuer, "hygie-cli", "alice", "alice-password")["access_token"]
    spoofed = {
        "X-OpenWebUI-User-Jwt": webui_jwt("alice"),
        "X-OpenWebUI-User-Email": "alice@chu.example",
        "X-OpenWebUI-User-Name": "alice",
        "X-Hygie-User-Token": alice,
    }
    raw = chat(gw, gw.key, spoofed)  # the seeded key of dr.test, not a front-end
    [record] = gw.records([raw.headers["x-request-id"]])
    assert record.key_id == gw.key_id
    assert record.front_end_key_id is None and record.end_user_verified is None
    assert me(gw, gw.key, spoofed)["user"] == "dr.test"


def test_a_forwarded_identity_token_is_preferred_and_verified(
    oidc: RunningProvider, front_gateway: RunningGateway
) -> None:
    gw = front_gateway
    key_id, key = service_key(gw, mode="token", required=True)
    bob = login(oidc.issuer, "hygie-cli", "bob", "bob-password")["access_token"]
    raw = chat(gw, key, {"X-Hygie-User-Token": bob, "X-OpenWebUI-User-Name": "alice"})
    [record] = gw.records([raw.headers["x-request-id"]])
    assert record.front_end_key_id == key_id and record.end_user_verified is True
    identity = me(gw, key, {"X-Hygie-User-Token": bob})
    assert (identity["user"], identity["department"]) == ("bob", "urgences")
    with pytest.raises(openai.AuthenticationError):
        chat(gw, key, {"X-Hygie-User-Token": "eyJhbGciOi.eyJzdWIiOi.c2ln"})


def test_plain_headers_are_accepted_only_when_allowed_and_marked_unverified(
    front_gateway: RunningGateway,
) -> None:
    gw = front_gateway
    key_id, key = service_key(gw, mode="headers")
    raw = chat(gw, key, {"X-OpenWebUI-User-Email": "chantal@chu.example"})
    [record] = gw.records([raw.headers["x-request-id"]])
    assert record.front_end_key_id == key_id and record.end_user_verified is False
    identity = me(gw, key, {"X-OpenWebUI-User-Email": "chantal@chu.example"})
    # A user first named by a front-end joins the front-end's department, with no role.
    assert (identity["user"], identity["department"], identity["role"]) == (
        "chantal@chu.example",
        "dsn",
        "member",
    )
    # Without a name, the front-end's own account is charged.
    assert me(gw, key, {})["user"] == "open-webui"


def test_the_end_user_s_quota_applies_through_the_front_end(
    front_gateway: RunningGateway,
) -> None:
    gw = front_gateway
    _, key = service_key(gw, mode="signed", secret=WEBUI_SECRET, required=True)
    as_claire = {"X-OpenWebUI-User-Jwt": webui_jwt("claire")}
    chat(gw, key, as_claire)
    limited = httpx.put(
        f"{gw.url}/admin/quotas",
        headers=ADMIN,
        json={"level": "user", "username": "claire", "rpm": 1},
    )
    assert limited.status_code == 200, limited.text
    chat(gw, key, as_claire)
    with pytest.raises(openai.RateLimitError):
        chat(gw, key, as_claire)
    chat(gw, key, {"X-OpenWebUI-User-Jwt": webui_jwt("denis")})  # another user is not limited


def test_only_an_administrator_may_trust_a_front_end(front_gateway: RunningGateway) -> None:
    gw = front_gateway
    key_id, _ = service_key(gw)
    denied = httpx.put(
        f"{gw.url}/admin/keys/{key_id}/front-end",
        headers={"authorization": f"Bearer {gw.key}"},
        json={"mode": "headers"},
    )
    assert denied.status_code in (401, 403)
    weak = httpx.put(
        f"{gw.url}/admin/keys/{key_id}/front-end",
        headers=ADMIN,
        json={"mode": "signed", "secret": "short"},
    )
    assert weak.status_code == 400


def test_hostile_end_user_headers_are_refused_or_ignored(front_gateway: RunningGateway) -> None:
    gw = front_gateway
    _, key = service_key(gw, mode="headers")
    auth = {"authorization": f"Bearer {key}"}
    body = {"model": CHAT_MODEL, "messages": MESSAGES, "max_tokens": 4}
    for name, value in {
        "bidi override": "alice\u202e@chu.example".encode(),
        "too long a name": b"a" * 200,
    }.items():
        response = httpx.post(
            f"{gw.url}/v1/chat/completions",
            headers=[*_encoded(auth), (b"X-OpenWebUI-User-Email", value)],
            json=body,
        )
        assert response.status_code == 401, (name, response.text)
        assert response.json()["error"]["code"] == "invalid_api_key"
    # A control character never reaches the gateway: the HTTP parser refuses the request.
    control = httpx.post(
        f"{gw.url}/v1/chat/completions",
        headers=[*_encoded(auth), (b"X-OpenWebUI-User-Email", b"alice\x01@chu.example")],
        json=body,
    )
    assert control.status_code == 400
    # A header beyond 16 KiB is not read at all: the front-end's own account is charged.
    huge = httpx.get(f"{gw.url}/v1/me", headers={**auth, "X-OpenWebUI-User-Email": "a" * 17_000})
    assert huge.status_code == 200 and huge.json()["user"] == "open-webui"


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """Headers as raw bytes, to send beside values that are not valid text."""
    return [(name.encode(), value.encode()) for name, value in headers.items()]
