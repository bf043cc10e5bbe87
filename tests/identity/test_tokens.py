"""Bearer tokens of a real OpenID provider on /v1/*, /v1/me and the admin API."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from gateway.http.local_server import BackgroundServer
from tests.conftest import CHAT_MODEL, GatewayFactory, RunningGateway, make_catalog
from tests.identity import forge
from tests.identity.conftest import identity_settings
from tests.identity.oidc.oidc_provider import RunningProvider, client_credentials, login

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Bonjour"}]
ADMIN = {"authorization": "Bearer admin-test-token"}


@pytest.fixture
def sso_gateway(
    oidc: RunningProvider,
    simulator: BackgroundServer,
    start_gateway: GatewayFactory,
    database_url: str,
) -> RunningGateway:
    """A gateway trusting the test provider (SQLite and PostgreSQL)."""
    return start_gateway(
        make_catalog(simulator.url), database_url, identity=identity_settings(oidc.issuer)
    )


def alice_token(oidc: RunningProvider) -> str:
    return str(login(oidc.issuer, "hygie-cli", "alice", "alice-password")["access_token"])


def chat(gw: RunningGateway, credential: str) -> Any:
    return gw.sdk(credential).chat.completions.with_raw_response.create(
        model=CHAT_MODEL, messages=MESSAGES, max_tokens=8
    )


def me(gw: RunningGateway, credential: str) -> dict[str, Any]:
    response = httpx.get(f"{gw.url}/v1/me", headers={"authorization": f"Bearer {credential}"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def issue_key_for(gw: RunningGateway, username: str) -> str:
    response = httpx.post(
        f"{gw.url}/admin/keys",
        headers=ADMIN,
        json={"username": username, "name": "same person", "use_case": "tests"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


def test_a_clinician_token_is_served_and_attributed_like_her_key(
    oidc: RunningProvider, sso_gateway: RunningGateway
) -> None:
    gw = sso_gateway
    token = alice_token(oidc)
    by_token = chat(gw, token)
    assert by_token.http_response.status_code == 200
    # Alice now exists (just in time): a key issued to her is the equivalent credential.
    key = issue_key_for(gw, "alice")
    by_key = chat(gw, key)
    token_answer, key_answer = by_token.parse(), by_key.parse()
    assert token_answer.choices[0].message.content == key_answer.choices[0].message.content
    token_record, key_record = gw.records(
        [by_token.headers["x-request-id"], by_key.headers["x-request-id"]]
    )
    assert token_record.user_id == key_record.user_id is not None
    assert token_record.department_id == key_record.department_id is not None
    assert token_record.key_id is None and key_record.key_id is not None
    identity, keyed = me(gw, token), me(gw, key)
    assert identity["user"] == keyed["user"] == "alice"
    assert identity["department"] == keyed["department"] == "cardiologie"
    assert (identity["credential"], keyed["credential"]) == ("token", "key")


def test_a_user_quota_binds_the_token_as_it_binds_the_key(
    oidc: RunningProvider, sso_gateway: RunningGateway
) -> None:
    gw = sso_gateway
    token = alice_token(oidc)
    chat(gw, token)  # alice is created on first sight
    response = httpx.put(
        f"{gw.url}/admin/quotas",
        headers=ADMIN,
        json={"level": "user", "username": "alice", "rpm": 2},
    )
    assert response.status_code == 200, response.text
    key = issue_key_for(gw, "alice")
    chat(gw, token)
    chat(gw, key)
    # Two requests in this minute, one by token and one by key: the shared limit is reached.
    for credential in (token, key):
        with pytest.raises(openai.RateLimitError):
            chat(gw, credential)
    [limit] = me(gw, token)["limits"]
    assert limit == me(gw, key)["limits"][0]


def test_claims_set_department_and_role_and_keep_the_user_in_step(
    oidc: RunningProvider, oidc_keys: Path, sso_gateway: RunningGateway
) -> None:
    gw = sso_gateway
    bob = login(oidc.issuer, "hygie-cli", "bob", "bob-password")["access_token"]
    assert me(gw, bob)["department"] == "urgences"
    assert me(gw, bob)["role"] == "department_admin"
    # The department admin reads their department through the admin API with the same token.
    users = httpx.get(f"{gw.url}/admin/users", headers={"authorization": f"Bearer {bob}"})
    assert users.status_code == 200, users.text
    # Bob moved to another department: his next token says so, and the directory follows.
    moved = forge.signed(
        oidc_keys,
        forge.claims(
            oidc.issuer,
            sub="bob-subject",
            preferred_username="bob",
            department="reanimation",
            roles=[],
        ),
    )
    identity = me(gw, moved)
    assert (identity["department"], identity["role"]) == ("reanimation", "member")


def test_a_service_account_token_is_attributed_to_its_department(
    oidc: RunningProvider, sso_gateway: RunningGateway
) -> None:
    token = client_credentials(oidc.issuer, "batch-coding", "batch-coding-secret")["access_token"]
    identity = me(sso_gateway, token)
    assert identity["department"] == "dim"


def _bad_tokens(oidc: RunningProvider, keys: Path) -> dict[str, str]:
    good = forge.claims(oidc.issuer)
    kid, _ = forge.provider_key(keys)
    return {
        "expired": forge.signed(keys, {**good, "iat": 1, "exp": 1000}),
        "wrong audience": forge.signed(keys, {**good, "aud": "another-service"}),
        "id token audience": forge.signed(keys, {**good, "aud": "hygie-cli"}),
        "wrong issuer": forge.signed(keys, {**good, "iss": "https://sso.example.org"}),
        "issuer with a trailing slash": forge.signed(keys, {**good, "iss": oidc.issuer + "/"}),
        "alg none": forge.unsigned(good, kid),
        "tampered": forge.tampered(forge.signed(keys, good)),
        "hs256 with the public key": forge.hs256_with_public_key(keys, good),
        "unknown kid": forge.with_unknown_key(good),
        "client not allowed": forge.signed(keys, {**good, "client_id": "rogue-app"}),
        "no subject": forge.signed(keys, {k: v for k, v in good.items() if k != "sub"}),
        "no expiry": forge.signed(keys, {k: v for k, v in good.items() if k != "exp"}),
        "garbage": "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl",
        "odd unicode": "é.ü.\u202e",
    }


# What the refusal says, so that each token is refused by the check meant for it.
WHY = {
    "expired": "expired",
    "wrong audience": "audience",
    "id token audience": "audience",
    "wrong issuer": "issuer",
    "issuer with a trailing slash": "issuer",
    "alg none": "algorithm 'none'",
    "tampered": "signature",
    "hs256 with the public key": "algorithm 'HS256'",
    "unknown kid": "signing key is unknown",
    "client not allowed": "client",
    "no subject": "claims",
    "no expiry": "claims",
    "garbage": "malformed",
    "odd unicode": "Incorrect API key",
}


def test_every_bad_token_is_refused_with_openai_s_401(
    oidc: RunningProvider, oidc_keys: Path, sso_gateway: RunningGateway
) -> None:
    gw = sso_gateway
    for name, token in _bad_tokens(oidc, oidc_keys).items():
        bearer = f"Bearer {token}".encode()  # UTF-8 on the wire for the odd-Unicode one
        response = httpx.post(
            f"{gw.url}/v1/chat/completions",
            headers={b"authorization": bearer},
            json={"model": CHAT_MODEL, "messages": MESSAGES},
        )
        assert response.status_code == 401, (name, response.text)
        error = response.json()["error"]
        assert WHY[name] in error["message"], (name, error["message"])
        assert error["code"] == "invalid_api_key" and error["type"] == "invalid_request_error"
        assert response.headers["www-authenticate"] == "Bearer"
        admin = httpx.get(f"{gw.url}/admin/users", headers={b"authorization": bearer})
        assert admin.status_code == 401, (name, admin.text)
    with pytest.raises(openai.AuthenticationError):
        chat(gw, _bad_tokens(oidc, oidc_keys)["expired"])


def test_concurrent_first_requests_of_new_users_create_each_user_once(
    oidc: RunningProvider, oidc_keys: Path, sso_gateway: RunningGateway
) -> None:
    gw = sso_gateway
    tokens = [
        forge.signed(
            oidc_keys,
            forge.claims(
                oidc.issuer,
                sub=f"subject-{i % 3}",
                preferred_username=f"interne.{i % 3}",
                department="pediatrie",
                jti=f"jti-{i}",
            ),
        )
        for i in range(24)
    ]

    async def run() -> list[int]:
        async def one(token: str) -> int:
            async with openai.AsyncOpenAI(
                base_url=gw.base_url, api_key=token, max_retries=0
            ) as client:
                await client.chat.completions.create(
                    model=CHAT_MODEL, messages=MESSAGES, max_tokens=4
                )
                return 200

        return list(await asyncio.gather(*(one(t) for t in tokens)))

    assert asyncio.run(run()) == [200] * 24
    users = httpx.get(f"{gw.url}/admin/users", headers=ADMIN).json()["data"]
    interns = [u["username"] for u in users if u["username"].startswith("interne.")]
    assert sorted(interns) == ["interne.0", "interne.1", "interne.2"]
