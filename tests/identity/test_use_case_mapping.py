"""The identity provider's claim mapping names registered use cases: an unregistered target is
logged loudly at start-up and its tokens are refused until the register has it."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from gateway.http.local_server import BackgroundServer
from tests.conftest import CHAT_MODEL, GatewayFactory, make_catalog
from tests.identity.conftest import identity_settings
from tests.identity.oidc.oidc_provider import RunningProvider, login

ADMIN = {"Authorization": "Bearer admin-test-token"}
CHAT = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "Bonjour"}], "max_tokens": 4}
CLAIMS: dict[str, Any] = {
    "group_use_cases": {"clinicians": "dictee"},  # alice is in "clinicians"
    "default_use_case": "tests",
}


def test_an_unregistered_mapping_target_is_logged_and_its_tokens_refused(
    oidc: RunningProvider,
    simulator: BackgroundServer,
    start_gateway: GatewayFactory,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = identity_settings(oidc.issuer, claims=CLAIMS)
    with caplog.at_level(logging.ERROR, logger="hygie.governance"):
        gw = start_gateway(make_catalog(simulator.url), sqlite_url, identity=settings)
    assert any(
        "dictee" in r.getMessage() and "not in the register" in r.getMessage()
        for r in caplog.records
    )
    token = str(login(oidc.issuer, "hygie-cli", "alice", "alice-password")["access_token"])
    bearer = {"Authorization": f"Bearer {token}"}
    refused = httpx.post(f"{gw.base_url}/chat/completions", headers=bearer, json=CHAT, timeout=30)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "use_case_not_registered"
    me = httpx.get(f"{gw.base_url}/me", headers=bearer).json()
    assert me["use_case"] == "dictee" and me["use_case_standing"]["registered"] is False

    use_case = {"name": "dictee", "status": "production"}
    added = httpx.post(f"{gw.url}/admin/use-cases", headers=ADMIN, json=use_case)
    assert added.status_code == 201, added.text
    served = httpx.post(f"{gw.base_url}/chat/completions", headers=bearer, json=CHAT, timeout=30)
    assert served.status_code == 200, served.text
    (record,) = gw.records([served.headers["x-request-id"]])
    assert record.use_case == "dictee"
