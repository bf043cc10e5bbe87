"""``hygie login`` end to end: device grant and code + PKCE against the real provider, a
personal key minted, used with the openai SDK, listed and revoked by its owner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from gateway.cli.login import browser_login, mint_key
from gateway.http.local_server import BackgroundServer
from tests.conftest import CHAT_MODEL, GatewayFactory, RunningGateway, make_catalog
from tests.identity.conftest import identity_settings
from tests.identity.oidc.oidc_provider import RunningProvider, _browse, approve_device, login

ROOT = Path(__file__).resolve().parents[2]
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Bonjour"}]


@pytest.fixture
def login_gateway(
    oidc: RunningProvider,
    simulator: BackgroundServer,
    start_gateway: GatewayFactory,
    sqlite_url: str,
) -> RunningGateway:
    identity = {
        **identity_settings(oidc.issuer),
        "personal_keys_per_user": 2,
        "personal_key_max_days": 30,
    }
    return start_gateway(make_catalog(simulator.url), sqlite_url, identity=identity)


def _own_keys(gw: RunningGateway, credential: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{gw.url}/v1/keys/self", headers={"authorization": f"Bearer {credential}"}
    )
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def test_device_login_with_the_cli_mints_a_working_personal_key(
    oidc: RunningProvider, login_gateway: RunningGateway
) -> None:
    gw = login_gateway
    command = [sys.executable, "-m", "gateway.cli", "login"]
    command += ["--gateway", gw.url, "--issuer", oidc.issuer, "--days", "7"]
    with subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as cli:
        assert cli.stdout is not None and cli.stderr is not None
        prompt = cli.stdout.readline()
        assert prompt.startswith("Open http"), prompt + cli.stderr.read()
        link = prompt.split()[1]
        approve_device(link, "alice", "alice-password")  # alice, in her browser
        out, err = cli.communicate(timeout=60)
    assert cli.returncode == 0, err
    header, key = out.strip().splitlines()[-2:]
    assert key.startswith("hyg_sk_") and "expires" in header
    key_id = header.split()[1]
    raw = gw.sdk(key).chat.completions.with_raw_response.create(
        model=CHAT_MODEL, messages=MESSAGES, max_tokens=4
    )
    [record] = gw.records([raw.headers["x-request-id"]])
    me = httpx.get(f"{gw.url}/v1/me", headers={"authorization": f"Bearer {key}"}).json()
    assert (me["user"], me["department"], me["key_id"]) == ("alice", "cardiologie", key_id)
    assert record.key_id == key_id
    [listed] = _own_keys(gw, key)
    assert listed["id"] == key_id and listed["personal"] and listed["expires_at"]
    assert "key" not in listed and "key_hash" not in listed
    revoked = httpx.delete(
        f"{gw.url}/v1/keys/self/{key_id}", headers={"authorization": f"Bearer {key}"}
    )
    assert revoked.status_code == 200, revoked.text
    with pytest.raises(openai.AuthenticationError):
        gw.sdk(key).chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, max_tokens=4)


def test_browser_login_with_pkce_on_a_loopback_port(
    oidc: RunningProvider, login_gateway: RunningGateway
) -> None:
    def person_at_the_browser(url: str) -> None:
        redirect_uri = httpx.URL(url).params["redirect_uri"]
        with httpx.Client() as browser:
            callback = _browse(
                browser,
                browser.get(url),
                stop_at=redirect_uri,
                username="bob",
                password="bob-password",
            )
            browser.get(callback)  # the provider's redirect reaches the CLI's loopback port

    token = browser_login(oidc.issuer, "hygie-cli", open_url=person_at_the_browser, timeout_s=30)
    minted = mint_key(login_gateway.url, token, name="laptop", days=None)
    me = httpx.get(
        f"{login_gateway.url}/v1/me", headers={"authorization": f"Bearer {minted['key']}"}
    ).json()
    assert (me["user"], me["department"]) == ("bob", "urgences")


def test_personal_keys_obey_the_admin_limits_and_owners(
    oidc: RunningProvider, login_gateway: RunningGateway
) -> None:
    gw = login_gateway
    alice = str(login(oidc.issuer, "hygie-cli", "alice", "alice-password")["access_token"])

    def mint(credential: str, **body: Any) -> httpx.Response:
        return httpx.post(
            f"{gw.url}/v1/keys/self", headers={"authorization": f"Bearer {credential}"}, json=body
        )

    too_long = mint(alice, lifetime_days=31)
    assert too_long.status_code == 400, too_long.text
    first, second = mint(alice), mint(alice)
    assert first.status_code == second.status_code == 201
    assert mint(alice).status_code == 403  # two personal keys at most
    # A key cannot mint keys: only a sign-on token can.
    assert mint(first.json()["key"]).status_code == 403
    # Another user cannot revoke alice's key: it does not exist for them.
    claire = str(login(oidc.issuer, "hygie-cli", "claire", "claire-password")["access_token"])
    stolen = httpx.delete(
        f"{gw.url}/v1/keys/self/{first.json()['id']}",
        headers={"authorization": f"Bearer {claire}"},
    )
    assert stolen.status_code == 404
    assert {k["id"] for k in _own_keys(gw, alice)} == {first.json()["id"], second.json()["id"]}
